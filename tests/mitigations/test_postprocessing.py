"""Calibrated equalised odds: calibration first, then mixing the lower-cost group's scores with its base rate."""

from __future__ import annotations

import numpy as np
import pytest

from fairgen_core.mitigations import MethodUnavailableError, calibrated_equalized_odds
from fairgen_core.mitigations.calibrated_eq_odds import platt_scaling


def _calibrated_scores(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group 1 has sharp scores (low cost), group 0 blurred ones (high cost); both are calibrated."""
    group = rng.integers(0, 2, n)
    scores = np.where(group == 1, rng.beta(0.6, 0.6, n), rng.beta(6.0, 6.0, n))
    return scores, (rng.random(n) < scores).astype(np.int64), group


def _weighted_cost(scores: np.ndarray, y: np.ndarray) -> float:
    """Pleiss et al.'s weighted generalised cost: mean score of negatives and mean 1 − score of positives."""
    base = y.mean()
    return float(scores[y == 0].mean() * (1 - base) + (1 - scores[y == 1]).mean() * base) / 2


def _cost_gap(scores: np.ndarray, y: np.ndarray, group: np.ndarray) -> float:
    return abs(_weighted_cost(scores[group == 0], y[group == 0]) - _weighted_cost(scores[group == 1], y[group == 1]))


def test_ceo_brings_the_groups_costs_together_on_new_rows() -> None:
    rng = np.random.default_rng(0)
    val_scores, y_val, group_val = _calibrated_scores(rng, 4000)
    test_scores, y_test, group_test = _calibrated_scores(rng, 4000)
    fit = calibrated_equalized_odds(val_scores, y_val, group_val, test_scores, group_test, seed=0)
    assert fit.unprivileged_mix_rate == 0.0 and 0.2 < fit.privileged_mix_rate < 1.0  # only the sharp group mixes
    before, after = _cost_gap(test_scores, y_test, group_test), _cost_gap(fit.scores, y_test, group_test)
    assert before > 0.05
    assert after < 0.25 * before
    unprivileged = group_test == 0
    np.testing.assert_array_equal(fit.scores[unprivileged], test_scores[unprivileged])
    replaced = fit.scores[~unprivileged] != test_scores[~unprivileged]
    assert replaced.mean() == pytest.approx(fit.privileged_mix_rate, abs=0.05)
    assert np.allclose(fit.scores[~unprivileged][replaced], y_val[group_val == 1].mean())
    np.testing.assert_array_equal(fit.predictions, (fit.scores >= 0.5).astype(int))


def test_ceo_refuses_a_mixing_rate_above_one() -> None:
    """A sharp privileged group with a rare favourable label: its trivial cost is below the blurred group's cost."""
    rng = np.random.default_rng(0)
    group = rng.integers(0, 2, 4000)
    scores = np.where(group == 1, rng.beta(0.3, 3.0, 4000), rng.beta(6.0, 6.0, 4000))
    y = (rng.random(4000) < scores).astype(np.int64)
    with pytest.raises(MethodUnavailableError, match=r"privileged group's mixing rate would be \d+\.\d+, outside"):
        calibrated_equalized_odds(scores, y, group, scores, group, seed=0)


def test_platt_scaling_calibrates_and_keeps_the_order() -> None:
    rng = np.random.default_rng(1)
    true = rng.random(3000)
    y = (rng.random(3000) < true).astype(int)
    squashed = 0.5 + 0.05 * (true - 0.5)  # right order, far too timid
    calibrate = platt_scaling(squashed, y)
    calibrated = calibrate(squashed)
    assert np.all(np.diff(calibrated[np.argsort(squashed)]) >= 0)
    top, bottom = squashed > np.quantile(squashed, 0.9), squashed < np.quantile(squashed, 0.1)
    assert calibrated[top].mean() == pytest.approx(y[top].mean(), abs=0.05)
    assert calibrated[bottom].mean() == pytest.approx(y[bottom].mean(), abs=0.05)
    with pytest.raises(MethodUnavailableError, match="both labels"):
        platt_scaling(squashed[:10], np.ones(10))
    with pytest.raises(MethodUnavailableError, match="rank"):
        platt_scaling(squashed, 1 - y)
