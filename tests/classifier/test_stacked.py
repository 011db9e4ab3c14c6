"""A stack of networks trains each one exactly as training it alone would (issue 17's equality test)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from fairgen_core.classifier import stacked
from fairgen_core.classifier.model import MLPClassifier
from fairgen_core.classifier.selection import EpochRecorder, Validation
from fairgen_core.classifier.stacked import finetune_job, real_only_job, stack_recording, train_stack
from fairgen_core.classifier.training import finetune, recording, train_real_only
from fairgen_core.config import ClassifierConfig
from fairgen_core.errors import FairGenError
from fairgen_core.mitigations import MethodData, evaluate_method, evaluate_methods, get_method

CONFIG = ClassifierConfig(hidden_dim=16, batch_size=32, max_epochs=8, patience=2, device="cpu", dropout=0.5)
TOLERANCE = 1e-5  # batched matrix products round differently from one-at-a-time ones, nothing more


@pytest.fixture(scope="module")
def rows() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6)).astype(np.float32)
    y = (x[:, 0] + rng.normal(size=300) > 0).astype(np.int64)
    x_val = rng.normal(size=(120, 6)).astype(np.float32)
    return {"x": x, "y": y, "pairs": (x + 0.3).astype(np.float32), "x_val": x_val,
            "y_val": (x_val[:, 0] > 0).astype(np.int64), "group_val": (x_val[:, 1] > 0).astype(np.int64),
            "x_test": rng.normal(size=(150, 6)).astype(np.float32), "weight": rng.uniform(0.5, 2.0, 300)}


def _validation(rows: dict[str, np.ndarray]) -> Validation:
    return Validation(rows["y_val"], rows["group_val"], ("a", "b"))


def _alone(rows: dict[str, np.ndarray], base: MLPClassifier) -> list[EpochRecorder]:
    """The one-network-at-a-time path: finetune at three ratios (one on a subset of rows), then "no TL"."""
    out = []
    for ratio, kept, config in ((0.0, slice(None), CONFIG), (0.4, slice(None), replace(CONFIG, consistency=0.5)),
                                (0.5, slice(0, 130), CONFIG)):
        recorder = EpochRecorder(_validation(rows), [])
        finetune(base, rows["x"][kept], rows["y"][kept], rows["pairs"][kept], rows["y"][kept], rows["x_val"],
                 rows["y_val"], ratio=ratio, config=config, sample_weight=rows["weight"][kept],
                 on_epoch=recording(recorder, rows["x_val"], rows["x_test"]))
        out.append(recorder)
    recorder = EpochRecorder(_validation(rows), [])
    train_real_only(rows["x"], rows["y"], rows["x_val"], rows["y_val"], replace(CONFIG, seed=3),
                    sample_weight=rows["weight"], on_epoch=recording(recorder, rows["x_val"], rows["x_test"]))
    return [*out, recorder]


def _stacked(rows: dict[str, np.ndarray], base: MLPClassifier, which: list[int]) -> list[EpochRecorder]:
    """The same four networks as :func:`_alone`, those in ``which`` trained together in one stack."""
    recorders = [EpochRecorder(_validation(rows), []) for _ in which]
    jobs = []
    for recorder, index in zip(recorders, which):
        hook = stack_recording(recorder)
        if index == 3:
            jobs.append(real_only_job(rows["x"], rows["y"], rows["x_val"], replace(CONFIG, seed=3),
                                      x_test=rows["x_test"], sample_weight=rows["weight"], on_epoch=hook))
            continue
        ratio, kept, config = ((0.0, slice(None), CONFIG), (0.4, slice(None), replace(CONFIG, consistency=0.5)),
                               (0.5, slice(0, 130), CONFIG))[index]
        jobs.append(finetune_job(base, rows["x"][kept], rows["y"][kept], rows["pairs"][kept], rows["y"][kept],
                                 rows["x_val"], ratio=ratio, config=config, x_test=rows["x_test"],
                                 sample_weight=rows["weight"][kept], on_epoch=hook))
    train_stack(jobs, rows["y_val"])
    return recorders


def _same(first: EpochRecorder, second: EpochRecorder, tolerance: float) -> None:
    assert [c.chosen["epoch"] for c in first.candidates] == [c.chosen["epoch"] for c in second.candidates]
    for a, b in zip(first.candidates, second.candidates):
        np.testing.assert_allclose(a.test_scores, b.test_scores, atol=tolerance, rtol=0)
        assert a.val_balanced_accuracy == pytest.approx(b.val_balanced_accuracy, abs=1e-9)


def test_a_stack_trains_every_network_as_training_it_alone(rows) -> None:
    base = MLPClassifier.from_config(6, CONFIG)
    alone, together = _alone(rows, base), _stacked(rows, base, [0, 1, 2, 3])
    for first, second in zip(alone, together):
        _same(first, second, TOLERANCE)
    # early stopping left the networks at different epochs: the stack shrank as they stopped
    assert len({len(r.candidates) for r in alone}) > 1


def test_a_network_does_not_depend_on_what_else_is_in_its_stack(rows) -> None:
    base = MLPClassifier.from_config(6, CONFIG)
    together = _stacked(rows, base, [0, 1, 2, 3])
    for index in range(4):
        _same(_stacked(rows, base, [index])[0], together[index], TOLERANCE)


def test_keep_best_returns_the_weights_of_the_best_validation_epoch(rows) -> None:
    recorder = EpochRecorder(_validation(rows), [])
    job = replace(real_only_job(rows["x"], rows["y"], rows["x_val"], CONFIG, x_test=rows["x_test"],
                                on_epoch=stack_recording(recorder)), keep_best=True)
    (outcome,) = train_stack([job], rows["y_val"])
    best = recorder.candidates[outcome.result.best_epoch - 1]
    assert best.val_balanced_accuracy == outcome.result.best_score
    with torch.no_grad():
        again = torch.sigmoid(outcome.model(torch.as_tensor(rows["x_test"]))).numpy()
    np.testing.assert_allclose(again, best.test_scores, atol=TOLERANCE, rtol=0)
    assert not outcome.model.training


def test_a_stack_refuses_networks_of_different_shapes(rows) -> None:
    jobs = [real_only_job(rows["x"], rows["y"], rows["x_val"], CONFIG),
            real_only_job(rows["x"], rows["y"], rows["x_val"], replace(CONFIG, hidden_dim=8))]
    with pytest.raises(FairGenError, match="one shape"):
        train_stack(jobs, rows["y_val"])


def _method_data(rows: dict[str, np.ndarray]) -> MethodData:
    group = (rows["x"][:, 1] > 0).astype(np.int64)
    return MethodData(rows["x"], rows["y"], group, rows["x_val"], rows["y_val"], rows["group_val"],
                      rows["x_test"], (rows["x_test"][:, 0] > 0).astype(np.int64),
                      (rows["x_test"][:, 1] > 0).astype(np.int64), group_names=("a", "b"), numeric_columns=(0, 2))


def test_methods_sharing_the_plain_network_train_it_once_per_seed(rows, monkeypatch) -> None:
    data, trained = _method_data(rows), []
    original = stacked.train_stack

    def counting(jobs, y_val, **kwargs):
        trained.append(len(jobs))
        return original(jobs, y_val, **kwargs)

    monkeypatch.setattr("fairgen_core.mitigations.registry.train_stack", counting)
    names = ["baseline", "group_thresholds", "calibrated_eq_odds", "reweighing", "disparate_impact_remover"]
    together = evaluate_methods(names, data, CONFIG, seeds=[0, 1], selections=("accuracy", "fair"))
    # per seed: the plain network once, reweighing's, and the remover's three repair levels
    assert trained == [2 * (1 + 1 + 3)]
    for s, seed in enumerate((0, 1)):
        for m, name in enumerate(names):
            alone = evaluate_method(name, data, CONFIG, seed=seed, selections=("accuracy", "fair"))
            for a, b in zip(together[s][m], alone):
                assert a.skipped_reason == b.skipped_reason
                assert a.chosen.keys() == b.chosen.keys()
                assert list(a.chosen.values()) == pytest.approx(list(b.chosen.values()), rel=1e-4, abs=1e-6)
                if a.scores is not None:
                    np.testing.assert_allclose(a.scores, b.scores, atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize("name", ["adversarial_debiasing", "laftr"])
def test_the_adversarial_methods_stop_early_by_the_common_rule(rows, name) -> None:
    config = replace(CONFIG, max_epochs=60, patience=2)
    candidates = evaluate_methods([name], _method_data(rows), config)[0][0][0]
    assert candidates.chosen["epoch"] >= 1
    epochs = get_method(name).candidates(_method_data(rows), config)
    scores = [c.val_balanced_accuracy for c in epochs]
    best = int(np.argmax(scores))  # first epoch of the best score
    assert len(epochs) == best + 1 + config.patience < config.max_epochs
