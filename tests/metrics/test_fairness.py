"""Group fairness metrics: aif360's ClassificationMetric as the oracle on real data and edge cases,
hand-computed confusion tables and intersectional gaps, bootstrap intervals, bad inputs."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from fairgen_core.data.datasets import get_builtin
from fairgen_core.data.spec import assign_domains
from fairgen_core.errors import FairGenError
from fairgen_core.metrics import (
    FairnessReport,
    bootstrap_intervals,
    fairness_report,
    group_confusion,
)
from tests.oracle import same_value

# aif360 divides by zero for undefined rates (numpy RuntimeWarning raised inside aif360's own code).
AIF360_WARNINGS = pytest.mark.filterwarnings("ignore::RuntimeWarning:aif360")
NAMES = ("unpriv", "priv")


def _aif360_metric(y: np.ndarray, p: np.ndarray, g: np.ndarray):
    """aif360's ClassificationMetric with unprivileged g=0 and privileged g=1 (all-numeric frames)."""
    from aif360.datasets import BinaryLabelDataset
    from aif360.metrics import ClassificationMetric

    def dataset(labels: np.ndarray) -> BinaryLabelDataset:
        frame = pd.DataFrame({"g": g.astype(float), "y": labels.astype(float)})
        return BinaryLabelDataset(df=frame, label_names=["y"], protected_attribute_names=["g"],
                                  favorable_label=1, unfavorable_label=0)

    return ClassificationMetric(dataset(y), dataset(p), unprivileged_groups=[{"g": 0}], privileged_groups=[{"g": 1}])


def _compare_with_aif360(y: np.ndarray, p: np.ndarray, g: np.ndarray) -> FairnessReport:
    report = fairness_report(y, p, g, NAMES)
    metric = _aif360_metric(y, p, g)
    checks = {
        "equal_opportunity_difference": (report.differences["equal_opportunity_difference"],
                                         metric.equal_opportunity_difference()),
        "average_odds_difference": (report.differences["average_odds_difference"], metric.average_odds_difference()),
        "statistical_parity_difference": (report.differences["statistical_parity_difference"],
                                          metric.statistical_parity_difference()),
        "disparate_impact": (report.differences["disparate_impact"], metric.disparate_impact()),
        "average_abs_odds_difference": (report.absolute["average_abs_odds_difference"],
                                        metric.average_abs_odds_difference()),
        "abs_equal_opportunity_difference": (report.absolute["abs_equal_opportunity_difference"],
                                             abs(metric.equal_opportunity_difference())),
        "abs_statistical_parity_difference": (report.absolute["abs_statistical_parity_difference"],
                                              abs(metric.statistical_parity_difference())),
    }
    for index, privileged in enumerate((False, True)):
        row = report.by_group.iloc[index]
        tpr, tnr = metric.true_positive_rate(privileged=privileged), metric.true_negative_rate(privileged=privileged)
        checks[f"tpr[{index}]"] = (row["tpr"], tpr)
        checks[f"fpr[{index}]"] = (row["fpr"], metric.false_positive_rate(privileged=privileged))
        checks[f"selection_rate[{index}]"] = (row["selection_rate"], metric.selection_rate(privileged=privileged))
        checks[f"balanced_accuracy[{index}]"] = (row["balanced_accuracy"], (tpr + tnr) / 2)
    ba_u = (metric.true_positive_rate(privileged=False) + metric.true_negative_rate(privileged=False)) / 2
    ba_p = (metric.true_positive_rate(privileged=True) + metric.true_negative_rate(privileged=True)) / 2
    checks["balanced_accuracy_difference"] = (report.differences["balanced_accuracy_difference"], ba_u - ba_p)
    overall_ba = (metric.true_positive_rate() + metric.true_negative_rate()) / 2
    checks["overall balanced_accuracy"] = (report.overall["balanced_accuracy"], overall_ba)
    wrong = {name: pair for name, pair in checks.items() if not same_value(*pair)}
    assert not wrong, f"differs from aif360 (ours, aif360): {wrong}"
    return report


def _german() -> tuple[np.ndarray, np.ndarray]:
    frame = get_builtin("german").load()
    return (frame["credit"] == "good").to_numpy().astype(int), (frame["sex"] == "male").to_numpy().astype(int)


def _compas() -> tuple[np.ndarray, np.ndarray]:
    dataset = get_builtin("compas")
    assignment = assign_domains(dataset.load(), dataset.default_spec())
    assert assignment.valid.all()
    return assignment.label, assignment.group


# -- aif360 as the oracle --------------------------------------------------------------------------
@AIF360_WARNINGS
@pytest.mark.parametrize("dataset", ["german", "compas"])
def test_random_predictions_on_real_data_match_aif360(dataset: str) -> None:
    y, g = _german() if dataset == "german" else _compas()
    assert set(np.unique(g)) == {0, 1} and set(np.unique(y)) == {0, 1}
    rng = np.random.default_rng(7)
    for _ in range(3):
        _compare_with_aif360(y, rng.integers(0, 2, len(y)), g)
    # a predictor that is better for one group, so the differences are far from 0
    flip = rng.random(len(y)) < np.where(g == 1, 0.1, 0.35)
    report = _compare_with_aif360(y, np.where(flip, 1 - y, y), g)
    assert abs(report.differences["balanced_accuracy_difference"]) > 0.1


@AIF360_WARNINGS
@pytest.mark.parametrize("constant", [0, 1])
def test_constant_predictors_match_aif360(constant: int) -> None:
    y, g = _german()
    report = _compare_with_aif360(y, np.full(len(y), constant), g)
    assert report.differences["statistical_parity_difference"] == 0.0
    assert report.absolute["abs_balanced_accuracy_difference"] == 0.0  # BA is 0.5 in both groups
    if constant == 0:  # 0 / 0 selection rates: disparate impact undefined
        assert math.isnan(report.differences["disparate_impact"])
    else:
        assert report.differences["disparate_impact"] == 1.0


@AIF360_WARNINGS
def test_predictor_selecting_only_the_unprivileged_matches_aif360() -> None:
    y, g = _german()
    report = _compare_with_aif360(y, (g == 0).astype(int), g)
    assert report.differences["disparate_impact"] == math.inf  # P(ŷ=1|u) = 1 over P(ŷ=1|p) = 0
    assert report.differences["statistical_parity_difference"] == 1.0


@AIF360_WARNINGS
def test_group_without_positive_labels_gives_nan_like_aif360() -> None:
    rng = np.random.default_rng(3)
    g = rng.integers(0, 2, 300)
    y = np.where(g == 0, 0, rng.integers(0, 2, 300))
    p = rng.integers(0, 2, 300)
    report = _compare_with_aif360(y, p, g)
    metric = _aif360_metric(y, p, g)
    assert math.isnan(report.by_group.loc["unpriv", "tpr"]) and math.isnan(metric.true_positive_rate(privileged=False))
    assert math.isnan(report.differences["equal_opportunity_difference"])
    assert math.isnan(metric.equal_opportunity_difference())
    assert math.isnan(report.absolute["average_abs_odds_difference"])
    assert math.isnan(metric.average_abs_odds_difference())
    # selection rates do not need positive labels
    assert not math.isnan(report.absolute["abs_statistical_parity_difference"])
    assert report.largest_gaps["tpr"].group_a is None


def test_privileged_index_sets_the_sign() -> None:
    y, g = _german()
    p = np.random.default_rng(1).integers(0, 2, len(y))
    default, swapped = fairness_report(y, p, g, NAMES), fairness_report(y, p, g, NAMES, privileged=0)
    assert (default.privileged, default.unprivileged) == ("priv", "unpriv")
    assert (swapped.privileged, swapped.unprivileged) == ("unpriv", "priv")
    for name in ("equal_opportunity_difference", "average_odds_difference", "statistical_parity_difference"):
        assert swapped.differences[name] == pytest.approx(-default.differences[name], abs=1e-12)
        assert default.differences[name] != 0
    assert swapped.differences["disparate_impact"] == pytest.approx(1 / default.differences["disparate_impact"])
    assert dict(swapped.absolute) == pytest.approx(dict(default.absolute))


# -- hand-computed examples ------------------------------------------------------------------------
def test_group_confusion_by_hand() -> None:
    y = [1, 1, 1, 0, 0, 1, 0, 0, 0]
    p = [1, 0, 1, 1, 0, 1, 1, 1, 0]
    g = [0, 0, 0, 0, 0, 1, 1, 1, 1]
    table = group_confusion(y, p, g, ["a", "b", "empty"])
    assert list(table.index) == ["a", "b", "empty"] and table.index.name == "group"
    # a: y 1,1,1,0,0 / p 1,0,1,1,0 -> tp 2, fn 1, fp 1, tn 1
    # b: y 1,0,0,0   / p 1,1,1,0   -> tp 1, fn 0, fp 2, tn 1
    counts = table[["tp", "fp", "tn", "fn", "n"]].to_numpy().tolist()
    assert counts == [[2, 1, 1, 1, 5], [1, 2, 1, 0, 4], [0, 0, 0, 0, 0]]
    expected = {
        "a": dict(tpr=2 / 3, fpr=1 / 2, tnr=1 / 2, fnr=1 / 3, selection_rate=3 / 5, base_rate=3 / 5, accuracy=3 / 5,
                  balanced_accuracy=(2 / 3 + 1 / 2) / 2),
        "b": dict(tpr=1.0, fpr=2 / 3, tnr=1 / 3, fnr=0.0, selection_rate=3 / 4, base_rate=1 / 4, accuracy=2 / 4,
                  balanced_accuracy=(1 + 1 / 3) / 2),
    }
    for group, values in expected.items():
        for column, value in values.items():
            assert table.loc[group, column] == pytest.approx(value, abs=1e-12), (group, column)
    assert table.loc["empty"].drop(["tp", "fp", "tn", "fn", "n"]).isna().all()


def test_overall_metrics_by_hand() -> None:
    # tp 3, fn 1, fp 1, tn 3 over all rows
    y = [1, 1, 1, 1, 0, 0, 0, 0]
    p = [1, 1, 1, 0, 1, 0, 0, 0]
    report = fairness_report(y, p, [0, 1, 0, 1, 0, 1, 0, 1], NAMES)
    assert dict(report.overall) == pytest.approx(
        {"balanced_accuracy": 0.75, "accuracy": 0.75, "tpr": 0.75, "tnr": 0.75, "selection_rate": 0.5}
    )


def _intersectional() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Four groups with hand-computed rates.

    ====  ====  ====  ========  =====
    g     TPR   FPR   P(ŷ=1)    BA
    ====  ====  ====  ========  =====
    0     3/4   0     3/8       7/8
    1     1     1/2   3/4       3/4
    2     1/4   1     1/2       1/8
    3     NaN   1/3   1/3       NaN
    ====  ====  ====  ========  =====
    """
    parts = [
        (0, [1, 1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0, 0, 0]),
        (1, [1, 1, 0, 0], [1, 1, 1, 0]),
        (2, [1, 1, 1, 1, 0, 0], [1, 0, 0, 0, 1, 1]),
        (3, [0, 0, 0], [1, 0, 0]),
    ]
    g = np.concatenate([[group] * len(y) for group, y, _ in parts])
    y = np.concatenate([y for _, y, _ in parts])
    p = np.concatenate([p for _, _, p in parts])
    return y, p, g


def test_intersectional_largest_gaps_by_hand() -> None:
    y, p, g = _intersectional()
    names = ["f&young", "f&old", "m&young", "m&old"]
    report = fairness_report(y, p, g, names)
    gaps = {metric: (gap.value, gap.group_a, gap.group_b) for metric, gap in report.largest_gaps.items()}
    assert gaps["tpr"] == pytest.approx((0.75, "f&old", "m&young"))
    assert gaps["fpr"] == pytest.approx((1.0, "f&young", "m&young"))
    assert gaps["selection_rate"] == pytest.approx((3 / 4 - 1 / 3, "f&old", "m&old"))
    assert gaps["balanced_accuracy"] == pytest.approx((7 / 8 - 1 / 8, "f&young", "m&young"))
    # per pair (|ΔTPR| + |ΔFPR|)/2: (0,1) 0.375, (0,2) 0.75, (1,2) 0.625; pairs with group 3 undefined.
    # Not (max |ΔTPR| + max |ΔFPR|)/2 = 0.875.
    assert gaps["average_abs_odds"] == pytest.approx((0.75, "f&young", "m&young"))
    assert dict(report.absolute) == pytest.approx({
        "abs_equal_opportunity_difference": 0.75,
        "average_abs_odds_difference": 0.75,
        "abs_balanced_accuracy_difference": 0.75,
        "abs_statistical_parity_difference": 3 / 4 - 1 / 3,
    })
    assert dict(report.differences) == {} and report.privileged is None and report.unprivileged is None


def test_report_is_frozen_and_tidy() -> None:
    y, p, g = _intersectional()
    report = fairness_report(y, p, g, ["a", "b", "c", "d"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.overall = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        report.absolute["abs_equal_opportunity_difference"] = 0.0  # type: ignore[index]
    tidy = report.tidy()
    assert tidy["metric"].tolist() == [
        "balanced_accuracy", "abs_equal_opportunity_difference", "average_abs_odds_difference",
        "abs_balanced_accuracy_difference", "abs_statistical_parity_difference",
    ]
    assert tidy["value"].iloc[0] == report.overall["balanced_accuracy"]


# -- bootstrap -------------------------------------------------------------------------------------
def _biased(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 2, n)
    y = (rng.random(n) < np.where(g == 1, 0.6, 0.4)).astype(int)
    flip = rng.random(n) < np.where(g == 1, 0.1, 0.3)
    return y, np.where(flip, 1 - y, y), g


def test_bootstrap_contains_estimate_and_matches_report() -> None:
    y, p, g = _biased(1500)
    intervals = bootstrap_intervals(y, p, g, NAMES, n_boot=2000, seed=1)
    report = fairness_report(y, p, g, NAMES)
    assert list(intervals.index) == ["balanced_accuracy", *report.absolute]
    assert intervals.loc["balanced_accuracy", "estimate"] == pytest.approx(report.overall["balanced_accuracy"])
    for name, value in report.absolute.items():
        assert intervals.loc[name, "estimate"] == pytest.approx(value)
    assert (intervals["lower"] <= intervals["estimate"]).all()
    assert (intervals["estimate"] <= intervals["upper"]).all()
    assert (intervals["upper"] > intervals["lower"]).all()
    assert (intervals["n_valid"] == 2000).all()


def test_bootstrap_agrees_with_naive_row_resampling() -> None:
    y, p, g = _biased(800, seed=2)
    n, boot = len(y), 4000
    idx = np.random.default_rng(99).integers(0, n, size=(boot, n))
    yy, pp, gg = y[idx], p[idx], g[idx]

    def rate(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        return num.sum(axis=1) / den.sum(axis=1)

    tpr = [rate((yy == 1) & (pp == 1) & (gg == k), (yy == 1) & (gg == k)) for k in (0, 1)]
    fpr = [rate((yy == 0) & (pp == 1) & (gg == k), (yy == 0) & (gg == k)) for k in (0, 1)]
    naive = {
        "abs_equal_opportunity_difference": np.abs(tpr[0] - tpr[1]),
        "average_abs_odds_difference": (np.abs(tpr[0] - tpr[1]) + np.abs(fpr[0] - fpr[1])) / 2,
    }
    intervals = bootstrap_intervals(y, p, g, NAMES, n_boot=boot, seed=5)
    for name, values in naive.items():
        lower, upper = np.quantile(values, [0.025, 0.975])
        assert intervals.loc[name, "lower"] == pytest.approx(lower, abs=0.02)
        assert intervals.loc[name, "upper"] == pytest.approx(upper, abs=0.02)


def test_bootstrap_narrows_with_more_rows() -> None:
    y, p, g = _biased(400)
    small = bootstrap_intervals(y, p, g, NAMES, n_boot=1000)
    big = bootstrap_intervals(np.tile(y, 9), np.tile(p, 9), np.tile(g, 9), NAMES, n_boot=1000)
    assert np.allclose(small["estimate"], big["estimate"])  # same proportions, so the same estimates
    width_small, width_big = small["upper"] - small["lower"], big["upper"] - big["lower"]
    assert (width_big < 0.5 * width_small).all(), pd.DataFrame({"small": width_small, "big": width_big})


def test_bootstrap_is_deterministic_by_seed_and_level_widens() -> None:
    y, p, g = _biased(300)
    first = bootstrap_intervals(y, p, g, NAMES, n_boot=300, seed=4)
    pd.testing.assert_frame_equal(first, bootstrap_intervals(y, p, g, NAMES, n_boot=300, seed=4))
    assert not first.equals(bootstrap_intervals(y, p, g, NAMES, n_boot=300, seed=5))
    wider = bootstrap_intervals(y, p, g, NAMES, n_boot=300, seed=4, level=0.99)
    assert (wider["upper"] - wider["lower"] > first["upper"] - first["lower"]).all()


def test_bootstrap_skips_resamples_where_a_metric_is_undefined() -> None:
    # group 0 has a single positive label: many resamples miss it, so its TPR is undefined there
    g = np.array([0] * 20 + [1] * 20)
    y = np.array([1] + [0] * 19 + [1, 0] * 10)
    p = np.array([1, 1] + [0] * 18 + [1, 1, 0, 0] * 5)
    intervals = bootstrap_intervals(y, p, g, NAMES, n_boot=500, seed=0)
    valid = intervals["n_valid"]
    assert 0 < valid["abs_equal_opportunity_difference"] < 500
    assert valid["abs_equal_opportunity_difference"] == valid["average_abs_odds_difference"]
    assert valid["abs_statistical_parity_difference"] == 500
    assert intervals[["lower", "upper"]].notna().all().all()


# -- bad inputs ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("y", "p", "g", "names", "match"),
    [
        ([1, 0, 1], [1, 0], [0, 1, 0], NAMES, r"lengths are 3, 2 and 3.*same rows"),
        ([1, 2, 0], [1, 0, 1], [0, 1, 0], NAMES, r"y_true must hold binary labels 0/1.*contains 2.*binarise"),
        ([1, 0, 1], [1, np.nan, 1], [0, 1, 0], NAMES, r"y_pred must hold binary predictions.*nan"),
        (["good", "bad"], [1, 0], [0, 1], NAMES, r"y_true.*not values of type.*assign_domains"),
        ([1, 0, 1], [1, 0, 1], [0, 1, 2], NAMES, r"group index 2 is out of range.*0\.\.1"),
        ([1, 0, 1], [1, 0, 1], [0, -1, -1], NAMES, r"2 row\(s\) have group -1.*valid"),
        ([1, 0, 1], [1, 0, 1], [0, 0.5, 1], NAMES, r"whole-number group indices"),
        ([1, 0], [1, 0], [0, 0], ["only"], r"1 group name\(s\).*at least 2"),
        ([], [], [], NAMES, r"no rows"),
        ([[1, 0], [0, 1]], [[1, 0], [0, 1]], [[0, 1], [0, 1]], NAMES, r"one-dimensional"),
    ],
)
def test_bad_inputs_raise_clear_errors(y, p, g, names, match) -> None:
    with pytest.raises(FairGenError, match=match):
        fairness_report(y, p, g, names)


def test_bad_options_raise_clear_errors() -> None:
    y, p, g = _intersectional()
    with pytest.raises(FairGenError, match=r"'privileged' applies to two groups, but there are 4"):
        fairness_report(y, p, g, list("abcd"), privileged=3)
    y2, p2, g2 = _biased(50)
    with pytest.raises(FairGenError, match=r"'privileged' must be the group index 0 or 1, not 2"):
        fairness_report(y2, p2, g2, NAMES, privileged=2)
    with pytest.raises(FairGenError, match=r"n_boot must be a positive"):
        bootstrap_intervals(y2, p2, g2, NAMES, n_boot=0)
    with pytest.raises(FairGenError, match=r"level must lie strictly between 0 and 1"):
        bootstrap_intervals(y2, p2, g2, NAMES, level=95)
