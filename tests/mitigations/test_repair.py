"""The quantile repair of the disparate impact remover: learned on training rows, applied to any rows."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ks_2samp

from fairgen_core.errors import FairGenError
from fairgen_core.mitigations import MethodUnavailableError, QuantileRepair
from fairgen_core.mitigations.aif import GROUP, binary_label_dataset

DECILES = np.linspace(0.1, 0.9, 9)


def _decile_gap(values: np.ndarray, group: np.ndarray) -> float:
    return float(np.abs(np.quantile(values[group == 0], DECILES) - np.quantile(values[group == 1], DECILES)).max())


def _biased(seed: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Two groups; column 0 shifted and stretched by the group, column 1 not, column 2 a 0/1 slot."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, rows)
    x = np.column_stack([rng.normal(group, 1.0 + group), rng.normal(size=rows), rng.integers(0, 2, rows)])
    return x, group


def test_level_one_equalises_the_training_groups_and_level_zero_changes_nothing() -> None:
    x, group = _biased(0, 4000)
    repair = QuantileRepair.fit(x, group, (0, 1), 1.0)
    repaired = repair.apply(x, group)
    assert repaired.dtype == np.float32
    assert _decile_gap(x[:, 0], group) > 0.8
    assert _decile_gap(repaired[:, 0], group) < 0.03
    np.testing.assert_array_equal(repaired[:, 2], x[:, 2])  # columns not named are left alone
    for g in (0, 1):  # the order within each group is kept
        original, fixed = x[group == g, 0], repaired[group == g, 0]
        assert (np.diff(fixed[np.argsort(original)]) >= 0).all()
    np.testing.assert_allclose(QuantileRepair.fit(x, group, (0, 1), 0.0).apply(x, group), x, atol=1e-6)
    half = QuantileRepair.fit(x, group, (0, 1), 0.5).apply(x, group)
    np.testing.assert_allclose(half, (x + repaired) / 2, atol=1e-5)  # half-way, value by value
    assert 0.4 < _decile_gap(half[:, 0], group) / _decile_gap(x[:, 0], group) < 0.6


def test_the_target_is_the_median_distribution() -> None:
    rng = np.random.default_rng(1)
    group = np.repeat([0, 1, 2], 3000)
    x = rng.normal(np.repeat([0.0, 1.0, 5.0], 3000), 1.0)[:, None]
    repair = QuantileRepair.fit(x, group, [0], 1.0, n_quantiles=11)
    expected = np.median([np.quantile(x[group == g, 0], repair.probabilities) for g in range(3)], axis=0)
    np.testing.assert_allclose(repair.target[0], expected)
    repaired = repair.apply(x, group)[:, 0]
    for g in range(3):  # every group now follows the middle group's distribution
        assert repaired[group == g].mean() == pytest.approx(1.0, abs=0.05)


def test_the_repair_never_reads_the_rows_it_is_applied_to() -> None:
    x_train, group_train = _biased(2, 3000)
    x_test, group_test = _biased(3, 300)
    repair = QuantileRepair.fit(x_train, group_train, (0, 1), 1.0)
    together = repair.apply(x_test, group_test)
    one_by_one = np.vstack([repair.apply(x_test[i:i + 1], group_test[i:i + 1]) for i in range(len(x_test))])
    np.testing.assert_array_equal(together, one_by_one)
    outliers = np.array([[50.0, -40.0, 1.0], [-60.0, 30.0, 0.0], [1e4, 0.0, 1.0]])
    with_outliers = repair.apply(np.vstack([x_test, outliers]), np.concatenate([group_test, [0, 1, 1]]))
    np.testing.assert_array_equal(with_outliers[: len(x_test)], together)
    # Outside a group's training range the rank clips to 0 or 1: the ends of the target distribution.
    np.testing.assert_allclose(with_outliers[len(x_test):, 0], repair.target[0, [-1, 0, -1]], rtol=1e-6)
    # Each test value goes where the training quantiles send it: its rank under its group's training
    # quantile function (continuous here, so no ties), then the target quantile at that rank.
    for column in (0, 1):
        for g in (0, 1):
            rows = group_test == g
            rank = np.interp(x_test[rows, column], repair.group_quantiles[column, g], repair.probabilities)
            expected = np.interp(rank, repair.probabilities, repair.target[column])
            np.testing.assert_allclose(together[rows, column], expected, rtol=1e-5, atol=1e-6)
    # The test rows' own quantiles are not equalised (a repair fitted on them would be), the training ones are.
    shifted = x_test + np.array([1.0, 0.0, 0.0]) * group_test[:, None]
    from_train = repair.apply(shifted, group_test)
    from_test = QuantileRepair.fit(shifted, group_test, (0, 1), 1.0).apply(shifted, group_test)
    assert _decile_gap(from_train[:, 0], group_test) > 0.5
    assert _decile_gap(from_test[:, 0], group_test) < 0.1


def test_like_aif360_the_repair_makes_the_groups_distributions_equal() -> None:
    from aif360.algorithms.preprocessing import DisparateImpactRemover

    rng = np.random.default_rng(4)
    group = rng.integers(0, 2, 3000)
    x = rng.lognormal(0.5 * group, 0.5 + 0.3 * group)[:, None]  # skewed, and different per group
    before = ks_2samp(x[group == 0, 0], x[group == 1, 0]).statistic
    ours = QuantileRepair.fit(x, group, [0], 1.0).apply(x, group)[:, 0]
    dataset = binary_label_dataset(x, np.zeros(len(x)), group)
    theirs = DisparateImpactRemover(repair_level=1.0, sensitive_attribute=GROUP).fit_transform(dataset).features[:, 0]
    assert before > 0.3
    for repaired in (ours, theirs):
        assert ks_2samp(repaired[group == 0], repaired[group == 1]).statistic < 0.05
    # Both pull towards a median distribution, which lies between the two groups' at every decile. (With
    # two groups ours is the mean of the groups' quantiles; aif360 takes the lower one, a value that exists
    # in the data, so the exact values differ.)
    low, high = np.sort([np.quantile(x[group == g, 0], DECILES) for g in (0, 1)], axis=0)
    for repaired in (ours, theirs):
        deciles = np.quantile(repaired, DECILES)
        assert ((deciles >= low - 0.02) & (deciles <= high + 0.02)).all()


def test_tied_and_zero_inflated_columns() -> None:
    rng = np.random.default_rng(5)
    rows = 6000
    group = rng.integers(0, 2, rows)
    zero_inflated = np.where(rng.random(rows) < np.where(group == 1, 0.6, 0.3), 0.0, rng.exponential(1.0 + 2.0 * group))
    age = np.round(rng.normal(35.0 + 6.0 * group, 8.0))  # whole years: every value tied many times
    x = np.column_stack([zero_inflated, age])
    repair = QuantileRepair.fit(x, group, (0, 1), 1.0)
    repaired = repair.apply(x, group)
    for column in (0, 1):
        means = [float(repaired[group == g, column].mean()) for g in (0, 1)]
        gap_before = abs(x[group == 0, column].mean() - x[group == 1, column].mean())
        assert abs(means[0] - means[1]) < 0.05 * gap_before
    assert _decile_gap(repaired[:, 1], group) < 1.5  # within about a year at every decile (was ~6)
    # A tied value goes to one place, the same for each of its rows, and the zeros keep the lowest rank.
    for g in (0, 1):
        zeros = repaired[(group == g) & (zero_inflated == 0), 0]
        assert np.ptp(zeros) == 0
        assert zeros[0] <= repaired[group == g, 0].min()
    # A tied value's rank range is the middle: at level 1 a group whose values are all equal goes to the
    # target's mean.
    constant = QuantileRepair.fit(np.array([[1.0], [1.0], [0.0], [4.0]]), np.array([0, 0, 1, 1]), [0], 1.0)
    target_mean = np.trapezoid(constant.target[0], constant.probabilities)
    assert constant.apply(np.array([[1.0]]), np.array([0]))[0, 0] == pytest.approx(target_mean)


def test_bad_level_missing_group_and_unseen_group() -> None:
    x, group = _biased(6, 200)
    for level in (-0.1, 1.5, float("nan")):
        with pytest.raises(FairGenError, match="repair level"):
            QuantileRepair.fit(x, group, (0,), level)
    with pytest.raises(MethodUnavailableError, match=r"group\(s\) \[1\]"):
        QuantileRepair.fit(x, np.where(group == 1, 2, group), (0,), 1.0)
    with pytest.raises(MethodUnavailableError, match=r"group\(s\) \[2\]"):
        QuantileRepair.fit(x, group, (0,), 1.0, n_groups=3)
    repair = QuantileRepair.fit(x, group, (0,), 1.0)
    with pytest.raises(FairGenError, match=r"group\(s\) \[2\]"):
        repair.apply(x[:3], np.array([0, 2, 1]))
    with pytest.raises(FairGenError, match="3 feature columns"):
        repair.apply(x[:, :2], group)
    with pytest.raises(FairGenError, match="columns"):
        QuantileRepair.fit(x, group, (3,), 1.0)
