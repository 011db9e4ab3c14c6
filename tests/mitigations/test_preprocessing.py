"""Reweighing and the disparate impact remover: the data transformations themselves, and weighted training."""

from __future__ import annotations

import numpy as np
import pytest

from fairgen_core.classifier import ClassifierConfig, predict, train_real_only
from fairgen_core.errors import FairGenError
from fairgen_core.mitigations import MethodData, MethodUnavailableError, QuantileRepair, reweighing_weights

CONFIG = ClassifierConfig(hidden_dim=16, batch_size=64, max_epochs=5, patience=0, device="cpu")


def test_reweighing_weights_are_kamiran_calders_and_balance_the_groups(german: MethodData) -> None:
    y, group = german.y_train, german.group_train
    weights = reweighing_weights(y, group)
    for g in (0, 1):
        for label in (0, 1):
            cell = (group == g) & (y == label)
            expected = np.mean(group == g) * np.mean(y == label) / np.mean(cell)
            np.testing.assert_allclose(weights[cell], expected)
    rates = [np.average(y[group == g], weights=weights[group == g]) for g in (0, 1)]
    assert rates[0] == pytest.approx(rates[1])
    assert rates[0] == pytest.approx(y.mean())
    assert abs(y[group == 0].mean() - y[group == 1].mean()) > 0.05  # unweighted, the groups differ


def test_reweighing_refuses_an_empty_cell() -> None:
    with pytest.raises(MethodUnavailableError, match="empty"):
        reweighing_weights(np.array([1, 1, 0, 1]), np.array([0, 0, 1, 1]))


QUANTILES = np.linspace(0.1, 0.9, 9)


def _repaired(x: np.ndarray, group: np.ndarray, columns: tuple[int, ...], level: float) -> np.ndarray:
    """The rows repaired by a quantile repair fitted on themselves (as the training rows are)."""
    return QuantileRepair.fit(x, group, columns, level).apply(x, group)


def _quantile_gap(values: np.ndarray, group: np.ndarray) -> float:
    return float(np.abs(np.quantile(values[group == 0], QUANTILES) - np.quantile(values[group == 1], QUANTILES)).max())


def test_full_repair_equalises_the_groups_quantiles() -> None:
    rng = np.random.default_rng(0)
    group = rng.integers(0, 2, 2000)
    x = np.column_stack([rng.normal(group, 1.0), rng.normal(size=2000), rng.integers(0, 2, 2000)])
    repaired = _repaired(x, group, (0, 1), 1.0)
    assert _quantile_gap(x[:, 0], group) > 0.8
    assert _quantile_gap(repaired[:, 0], group) < 0.05
    partial = _quantile_gap(_repaired(x, group, (0, 1), 0.5)[:, 0], group)
    assert 0.3 < partial < 0.7  # half-way
    np.testing.assert_array_equal(repaired[:, 2], x[:, 2])  # columns not named are left alone
    for g in (0, 1):  # the repair keeps the order within each group (ties aside)
        original, fixed = x[group == g, 0], repaired[group == g, 0]
        assert (np.diff(fixed[np.argsort(original)]) >= 0).all()
    np.testing.assert_allclose(_repaired(x, group, (0, 1), 0.0), x, atol=1e-6)
    with pytest.raises(FairGenError, match="repair level"):
        _repaired(x, group, (0,), 1.5)


def test_repair_on_german_credit_amounts(german: MethodData) -> None:
    x, group, columns = german.x_train, german.group_train, german.numeric_columns
    amount = columns[1]  # credit amount: nearly every value distinct
    before = _quantile_gap(x[:, amount], group)
    after = _quantile_gap(_repaired(x, group, columns, 1.0)[:, amount], group)
    assert before > 0.02
    assert after < 0.3 * before
    others = np.setdiff1d(np.arange(x.shape[1]), columns)
    np.testing.assert_array_equal(_repaired(x, group, columns, 1.0)[:, others], x[:, others])


def test_sample_weights_reach_the_loss(german: MethodData) -> None:
    args = (german.x_train, german.y_train, german.x_val, german.y_val, CONFIG)
    unweighted = predict(train_real_only(*args), german.x_test)
    ones = predict(train_real_only(*args, sample_weight=np.ones(len(german.y_train))), german.x_test)
    np.testing.assert_array_equal(unweighted, ones)  # the same batches, the same loss
    weights = np.where(german.group_train == 0, 3.0, 0.2)
    weighted = predict(train_real_only(*args, sample_weight=weights), german.x_test)
    assert np.abs(weighted - unweighted).max() > 1e-3
