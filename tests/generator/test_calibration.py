"""Marginal calibration: sampled rows take each domain's training marginals and keep everything else."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import ks_2samp

from fairgen_core.config import EncoderConfig, GeneratorConfig
from fairgen_core.data.encoding import TabularEncoder
from fairgen_core.data.schema import infer_schema
from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute, assign_domains
from fairgen_core.data.splits import split_by_domain
from fairgen_core.generator import FairGenerator, fit_generator
from fairgen_core.generator.calibration import (
    LEVELS,
    PRIOR_ROWS,
    fit_calibration,
    marginal_targets,
    monotone_map,
)
from fairgen_core.generator.modules import OutputActivation

TINY = GeneratorConfig(hidden_dim=32, latent_dim=8, batch_size=128, epochs=2, patience=0, device="cpu", seed=0)
SPEC = DatasetSpec("y", (1,), (SensitiveAttribute("g", ("A",)),))


def _table(n: int = 4_000, seed: int = 0) -> pd.DataFrame:
    """Two groups, a label, a category whose shares depend on the domain (with a rare value), a bill that is
    negative in about 3% of rows and heavy-tailed otherwise, and a numeric column missing in 10% of rows."""
    rng = np.random.default_rng(seed)
    g = rng.choice(["A", "B"], n, p=[0.6, 0.4])
    y = (rng.random(n) < np.where(g == "A", 0.4, 0.2)).astype(int)
    c = np.where(rng.random(n) < np.where(y == 1, 0.7, 0.3), "x", np.where(rng.random(n) < 0.9, "y", "rare"))
    bill = np.round(np.where(rng.random(n) < 0.03, -rng.exponential(300, n), rng.lognormal(7 + y, 1.2, n)))
    hours = np.where(rng.random(n) < 0.1, np.nan, np.round(rng.normal(40 + 5 * y, 8, n)))
    return pd.DataFrame({"g": g, "y": y, "c": c, "bill": bill, "hours": hours})


def test_monotone_map_interpolates_clamps_and_splits_ties() -> None:
    source = torch.tensor([[0.0, 1.0, 1.0, 2.0]])
    target = torch.tensor([[0.0, 10.0, 20.0, 30.0]])
    values = torch.tensor([[-5.0], [0.5], [1.0], [1.5], [9.0]])
    mapped = monotone_map(values, source, target).squeeze(1).tolist()
    assert mapped == [0.0, 5.0, 15.0, 25.0, 30.0]  # 1.0 sits on a run of ties: its midpoint
    same = torch.linspace(-3, 3, LEVELS).unsqueeze(0)
    x = torch.randn(500, 1)
    assert torch.allclose(monotone_map(x, same, same), x.clamp(-3, 3), atol=1e-5)


def test_targets_are_each_domains_shrunk_shares_and_present_quantiles() -> None:
    frame = _table()
    features = frame[["c", "bill", "hours"]]
    encoder = TabularEncoder(infer_schema(features), config=EncoderConfig(numeric="quantile")).fit(features)
    x = encoder.transform(features)
    domains = assign_domains(frame, SPEC).domain
    targets = marginal_targets(encoder, x, domains, 4)
    names = list(encoder.feature_names())
    for domain in range(4):
        rows = domains == domain
        rare = frame["c"].eq("rare").to_numpy()
        share = (rare[rows].sum() + PRIOR_ROWS * rare.mean()) / (rows.sum() + PRIOR_ROWS)
        assert targets.shares[domain, names.index("c=rare")].item() == pytest.approx(share, rel=1e-5)
        present = rows & frame["hours"].notna().to_numpy()
        hours = x[present, names.index("hours")]
        k = targets.value_columns.tolist().index(names.index("hours"))
        assert np.allclose(targets.quantiles[domain, k].numpy(), np.quantile(hours, np.linspace(0, 1, LEVELS)),
                           atol=1e-5)
    assert targets.shares[:, names.index("bill")].abs().max().item() == 0.0  # value columns carry no share


def test_a_gaussian_mixture_offset_is_not_calibrated() -> None:
    frame = _table(800)[["bill", "c"]]
    encoder = TabularEncoder(infer_schema(frame), config=EncoderConfig(numeric="modes")).fit(frame)
    targets = marginal_targets(encoder, encoder.transform(frame), np.zeros(len(frame), dtype=int), 1)
    assert targets.value_columns.numel() == 0


def test_fit_calibration_matches_shares_and_quantiles_of_a_fixed_decoder() -> None:
    frame = _table(2_000)
    features = frame[["c", "bill", "hours"]]
    encoder = TabularEncoder(infer_schema(features), config=EncoderConfig(numeric="quantile")).fit(features)
    domains = assign_domains(frame, SPEC).domain
    targets = marginal_targets(encoder, encoder.transform(features), domains, 4)
    torch.manual_seed(0)
    weight = torch.randn(8 + 4, encoder.n_features) * 0.3  # a decoder whose marginals are wrong everywhere

    def decode(z: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
        return torch.cat([z, onehot], dim=1) @ weight

    activation = OutputActivation(encoder.layout)
    def draw(domains: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return torch.randn(len(domains), 8, generator=generator)

    calibration = fit_calibration(decode, activation, targets, draw, device=torch.device("cpu"), seed=1)
    generator = torch.Generator().manual_seed(2)
    for domain in range(4):
        z = torch.randn(20_000, 8, generator=generator)
        onehot = torch.nn.functional.one_hot(torch.full((20_000,), domain), 4).float()
        index = torch.full((20_000,), domain)
        logits = calibration.logits(decode(z, onehot), index)
        rows = calibration.values(activation.sample(logits, generator), index)
        softmax = targets.softmax_columns
        assert torch.allclose(rows[:, softmax].mean(0), targets.shares[domain, softmax], atol=0.012)
        for k, column in enumerate(targets.value_columns.tolist()):
            hours = column == list(encoder.feature_names()).index("hours")
            present = rows[:, column + 1] == 1 if hours else slice(None)  # the missing span's "present" slot
            drawn = rows[present, column].numpy()
            real = targets.quantiles[domain, k].numpy()
            assert ks_2samp(drawn, real).statistic < 0.05


@pytest.fixture(scope="module")
def trained() -> tuple[FairGenerator, pd.DataFrame]:
    frame = _table()
    split = split_by_domain(assign_domains(frame, SPEC).domain, seed=0)
    return fit_generator(frame, SPEC, config=TINY, split=split), frame.iloc[split.train]


def _by_domain(rows: pd.DataFrame) -> list[pd.DataFrame]:
    domains = assign_domains(rows, SPEC).domain
    return [rows[domains == d] for d in range(4)]


def test_calibrated_rows_take_each_domains_training_marginals(trained) -> None:
    model, train = trained
    assert model.calibrated
    calibrated = model.sample(per_domain=4_000, seed=5)
    model.config = replace(model.config, calibrated_sampling=False)
    try:
        raw = model.sample(per_domain=4_000, seed=5)
    finally:
        model.config = replace(model.config, calibrated_sampling=True)
    worse = 0
    for real, ours, theirs in zip(_by_domain(train), _by_domain(calibrated), _by_domain(raw), strict=True):
        assert len(ours) == 4_000  # exact balance is kept
        shares = real["c"].value_counts(normalize=True)
        assert (ours["c"].value_counts(normalize=True).reindex(shares.index, fill_value=0) - shares).abs().max() < 0.04
        assert abs((ours["bill"] < 0).mean() - (real["bill"] < 0).mean()) < 0.015  # signs at the real rate
        assert abs(ours["hours"].isna().mean() - real["hours"].isna().mean()) < 0.03
        ks_ours = ks_2samp(ours["bill"], real["bill"]).statistic
        assert ks_ours < 0.06
        for column in ("bill", "hours"):
            worse += ks_2samp(theirs[column].dropna(), real[column].dropna()).statistic > ks_2samp(
                ours[column].dropna(), real[column].dropna()).statistic
    assert worse >= 6  # the two-epoch decoder's own marginals are worse in most domains and columns


def test_calibration_survives_save_and_load_and_old_checkpoints_sample_as_before(trained, tmp_path) -> None:
    model, _ = trained
    loaded = FairGenerator.load(model.save(tmp_path / "model.pt"))
    assert loaded.calibrated
    pd.testing.assert_frame_equal(loaded.sample(per_domain=200, seed=7), model.sample(per_domain=200, seed=7))
    state = model.checkpoint()
    del state["marginals"]
    old = FairGenerator.from_checkpoint(state, device="cpu")
    assert not old.calibrated
    model.config = replace(model.config, calibrated_sampling=False)
    try:
        pd.testing.assert_frame_equal(old.sample(per_domain=200, seed=7), model.sample(per_domain=200, seed=7))
    finally:
        model.config = replace(model.config, calibrated_sampling=True)


def test_translations_are_not_calibrated(trained) -> None:
    model, train = trained
    before = model.translate(train.head(50), seed=3)
    model.config = replace(model.config, calibrated_sampling=False)
    try:
        pd.testing.assert_frame_equal(model.translate(train.head(50), seed=3), before)
    finally:
        model.config = replace(model.config, calibrated_sampling=True)
