"""Training on real data: losses fall, callbacks, cancellation, early stopping, checkpoints, resumption."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd
import pytest
import torch

from fairgen_core.config import GeneratorConfig
from fairgen_core.data.datasets import get_builtin
from fairgen_core.data.spec import assign_domains
from fairgen_core.data.splits import split_by_domain
from fairgen_core.errors import FairGenError
from fairgen_core.generator import EpochReport, FairGenerator, fit_generator
from fairgen_core.generator.loss_terms import LossTerms
from fairgen_core.generator.training import validation_fid

#: Every term's name in the training log, in its order.
LOGGED_TERMS = tuple(LossTerms(**{f.name: 0.0 for f in fields(LossTerms)}).as_dict())
FAST = GeneratorConfig(hidden_dim=64, latent_dim=16, batch_size=256, epochs=6, patience=0, device="cpu", seed=3)


def _subsample(name: str, n: int) -> tuple[pd.DataFrame, object]:
    dataset = get_builtin(name)
    frame = dataset.load()
    return frame.sample(n=min(n, len(frame)), random_state=0).reset_index(drop=True), dataset


@pytest.mark.parametrize("name", ["adult", "compas"])
def test_short_training_on_real_data_reduces_the_losses(name: str) -> None:
    frame, dataset = _subsample(name, 6000)
    reports: list[EpochReport] = []
    model = fit_generator(frame, dataset.default_spec(), schema=dataset.schema(frame), config=FAST,
                          callback=reports.append)
    assert [r.epoch for r in reports] == list(range(1, 7))
    assert tuple(reports[0].losses.as_dict()) == tuple(reports[0].step_losses.as_dict()) == LOGGED_TERMS
    n_steps = len(reports[0].step_losses.generator)
    assert n_steps == int(0.7 * len(frame)) // FAST.batch_size
    assert all(len(v) == n_steps for v in reports[0].step_losses.values())
    assert reports[0].losses.rec == pytest.approx(np.mean(reports[0].step_losses.rec))
    first, last = reports[0].losses, reports[-1].losses
    assert last.rec < 0.8 * first.rec  # the cycle x -> x_g -> x_hat reconstructs better
    assert last.cls_d < first.cls_d  # D_cls learns the real rows' domains
    assert all(r.val_fid is not None and np.isfinite(r.val_fid) for r in reports)
    assert min(r.val_fid for r in reports[1:]) < reports[0].val_fid  # samples get closer to the real rows
    assert reports[-1].stopped == "completed" and reports[0].eta_s > 0 and reports[-1].rows_per_s > 0
    assert len(model.history) == 6


def test_cancellation_stops_within_one_batch() -> None:
    frame, dataset = _subsample("german", 1000)
    calls = {"n": 0}

    def stop_after_five_batches() -> bool:
        calls["n"] += 1
        return calls["n"] > 4

    reports: list[EpochReport] = []
    config = GeneratorConfig(hidden_dim=32, latent_dim=8, batch_size=64, epochs=50, device="cpu")
    model = fit_generator(frame, dataset.default_spec(), config=config, callback=reports.append,
                          should_stop=stop_after_five_batches)
    assert calls["n"] == 5  # polled before every batch but the first; the 5th poll stops the run before a 6th batch
    assert len(reports) == 1 and reports[0].stopped == "cancelled"
    assert len(reports[0].step_losses.generator) == 5
    assert isinstance(model, FairGenerator)


def test_a_stop_between_epochs_still_ends_in_a_cancelled_report() -> None:
    """A stop asked after an epoch's report (while the checkpoint is written) runs one batch of the next epoch,
    and one asked while an epoch is evaluated is in that epoch's report: either way the last report says so."""
    frame, dataset = _subsample("german", 1000)
    config = GeneratorConfig(hidden_dim=32, latent_dim=8, batch_size=64, epochs=50, device="cpu")
    reports: list[EpochReport] = []
    fit_generator(frame, dataset.default_spec(), config=config, callback=reports.append,
                  should_stop=lambda: len(reports) >= 1)
    assert [report.stopped for report in reports] == [None, "cancelled"]
    assert len(reports[1].step_losses.generator) == 1

    one_batch_an_epoch = GeneratorConfig(hidden_dim=32, latent_dim=8, batch_size=4096, epochs=50, device="cpu")
    polls = {"n": 0}

    def stop_at_the_first_poll() -> bool:
        polls["n"] += 1
        return True

    reports.clear()
    fit_generator(frame, dataset.default_spec(), config=one_batch_an_epoch, callback=reports.append,
                  should_stop=stop_at_the_first_poll)
    assert polls["n"] == 1 and [report.stopped for report in reports] == ["cancelled"]


def test_early_stopping_returns_the_best_validation_model() -> None:
    frame, dataset = _subsample("german", 1000)
    reports: list[EpochReport] = []
    config = GeneratorConfig(hidden_dim=32, latent_dim=8, batch_size=64, epochs=200, patience=2, device="cpu",
                             lr=3e-2, checkpoint_metric="fid")
    fit_generator(frame, dataset.default_spec(), config=config, callback=reports.append)
    assert reports[-1].stopped == "early-stopping"
    assert len(reports) < 200
    fids = [r.val_fid for r in reports]
    best = int(np.argmin(fids))
    assert len(reports) - 1 - best == 2  # stopped exactly `patience` evaluations after the best
    assert reports[-1].best_fid == pytest.approx(min(fids))


def test_the_kept_checkpoint_is_the_best_translator_by_default() -> None:
    frame, dataset = _subsample("german", 1000)
    spec = dataset.default_spec()
    domains = assign_domains(frame, spec).domain
    split = split_by_domain(domains, seed=0)
    reports: list[EpochReport] = []
    config = GeneratorConfig(hidden_dim=32, latent_dim=8, batch_size=64, epochs=8, patience=0, device="cpu")
    assert config.checkpoint_metric == "translation"
    model = fit_generator(frame, spec, config=config, split=split, callback=reports.append)
    assert all(r.val_translation is not None and r.val_translation >= 0 for r in reports)
    best = [r.best_score for r in reports]
    assert best == sorted(best)  # a running maximum of the checkpoint score
    kept = max(i for i in range(len(reports)) if i == 0 or best[i] > best[i - 1])
    assert best[kept] <= min(reports[kept].val_translation, 1.0)  # fidelity (capped at 1) less an FID term
    assert reports[-1].best_fid == reports[kept].val_fid
    x_val = model.encoder.transform(frame.iloc[split.val])
    assert validation_fid(model, x_val, domains[split.val], seed=0) == pytest.approx(reports[kept].val_fid)


def test_checkpoint_round_trip_gives_identical_samples(tmp_path) -> None:
    frame, dataset = _subsample("german", 1000)
    config = GeneratorConfig(hidden_dim=32, latent_dim=8, batch_size=64, epochs=3, device="cpu")
    model = fit_generator(frame, dataset.default_spec(), config=config)
    path = model.save(tmp_path / "model.pt")
    state = torch.load(path, weights_only=True)  # plain tensors and containers only
    assert state["format"] == 1
    restored = FairGenerator.load(path, device="cpu")
    pd.testing.assert_frame_equal(model.sample(n=400, seed=11), restored.sample(n=400, seed=11))
    assert not model.sample(n=400, seed=11).equals(model.sample(n=400, seed=12))


def test_resume_continues_from_the_checkpoint(tmp_path) -> None:
    frame, dataset = _subsample("german", 1000)
    path = tmp_path / "run.pt"
    config = GeneratorConfig(hidden_dim=32, latent_dim=8, batch_size=64, epochs=2, device="cpu", patience=0)
    fit_generator(frame, dataset.default_spec(), config=config, checkpoint_path=path)
    reports: list[EpochReport] = []
    longer = GeneratorConfig(hidden_dim=32, latent_dim=8, batch_size=64, epochs=4, device="cpu", patience=0)
    model = fit_generator(frame, dataset.default_spec(), config=longer, checkpoint_path=path, resume_from=path,
                          callback=reports.append)
    assert [r.epoch for r in reports] == [3, 4]
    assert [h["epoch"] for h in model.history] == [1, 2, 3, 4]


def test_bad_checkpoints_and_devices_are_reported(tmp_path) -> None:
    bogus = tmp_path / "bogus.pt"
    bogus.write_bytes(b"not a checkpoint")
    with pytest.raises(FairGenError, match="not a readable FairGen checkpoint"):
        FairGenerator.load(bogus)
    with pytest.raises(FairGenError, match="does not exist"):
        FairGenerator.load(tmp_path / "missing.pt")
    torch.save({"format": 99}, tmp_path / "other.pt")
    with pytest.raises(FairGenError, match="not a FairGen generator of this version"):
        FairGenerator.load(tmp_path / "other.pt")
    if not torch.cuda.is_available():
        with pytest.raises(FairGenError, match="no CUDA GPU"):
            fit_generator(*_subsample("german", 100)[:1], get_builtin("german").default_spec(),
                          config=GeneratorConfig(device="cuda"))


def test_wgan_gp_option_trains() -> None:
    frame, dataset = _subsample("german", 1000)
    reports: list[EpochReport] = []
    config = GeneratorConfig(hidden_dim=32, latent_dim=8, batch_size=64, epochs=2, device="cpu",
                             adversarial="wgan-gp", critic_steps=3)
    fit_generator(frame, dataset.default_spec(), config=config, callback=reports.append)
    assert all(np.isfinite(v) for r in reports for v in r.losses.values())
    # the generator is updated every third step: its recorded terms repeat in between
    like = reports[0].step_losses.like
    assert like[0] == like[1] == like[2] and like[3] != like[2]


def test_invalid_settings_raise() -> None:
    with pytest.raises(FairGenError, match="'batch_size' must be positive"):
        GeneratorConfig(batch_size=0)
    with pytest.raises(FairGenError, match="'gan' or 'wgan-gp'"):
        GeneratorConfig(adversarial="lsgan")  # type: ignore[arg-type]


def test_same_seed_gives_the_same_model() -> None:
    frame, dataset = _subsample("german", 1000)
    config = GeneratorConfig(hidden_dim=32, latent_dim=8, batch_size=64, epochs=2, device="cpu", seed=5)
    first = fit_generator(frame, dataset.default_spec(), config=config)
    second = fit_generator(frame, dataset.default_spec(), config=config)
    for (name, a), b in zip(first.translator.state_dict().items(), second.translator.state_dict().values()):
        assert torch.equal(a, b), name
    other = fit_generator(frame, dataset.default_spec(), config=GeneratorConfig(
        hidden_dim=32, latent_dim=8, batch_size=64, epochs=2, device="cpu", seed=6))
    assert not torch.equal(first.translator.decoder.head.weight, other.translator.decoder.head.weight)
