"""Paired differences to a reference method: bootstrap intervals recomputed by hand, pairing by repetition
(and within dataset/selection), pairwise NaN handling, verdicts per metric family and errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fairgen_core.errors import FairGenError
from fairgen_core.metrics.paired import PAIRED_COLUMNS, paired_differences, verdict
from fairgen_core.results.table import HIGHER_IS_BETTER

NAN = float("nan")
GAP = "abs_equal_opportunity_difference"


def _rows(method: str, values: list[float], *, ratio: float = NAN, metric: str = GAP, **context: str) -> list[dict]:
    return [
        {
            **context,
            "method": method,
            "ratio": ratio,
            "repetition": rep,
            "seed": 100 + rep,
            "metric": metric,
            "value": value,
            "note": "",
        }
        for rep, value in enumerate(values)
    ]


def _table(*parts: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([row for part in parts for row in part])


def _hand_interval(diffs: np.ndarray, *, n_boot: int, level: float, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(diffs), size=(n_boot, len(diffs)))
    boot = diffs[idx].mean(axis=1)
    low, high = np.quantile(boot, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(low), float(high)


# -- the interval ----------------------------------------------------------------------------------
def test_interval_equals_hand_computed_percentile_bootstrap() -> None:
    base = np.array([0.12, 0.08, 0.15, 0.10, 0.11])
    method = np.array([0.07, 0.06, 0.16, 0.06, 0.08])
    results = _table(_rows("baseline", list(base)), _rows("reweighing", list(method)))

    table = paired_differences(results, n_boot=2000, level=0.9, seed=7)

    assert len(table) == 1
    row = table.iloc[0]
    diffs = method - base
    low, high = _hand_interval(diffs, n_boot=2000, level=0.9, seed=7)
    assert row["ci_low"] == low
    assert row["ci_high"] == high
    assert low < high  # a real interval, not a degenerate one
    assert row["n"] == 5
    assert row["mean"] == pytest.approx(method.mean())
    assert row["reference_mean"] == pytest.approx(base.mean())
    assert row["difference"] == pytest.approx(diffs.mean())
    # one repetition got worse (+0.01), but the interval of the mean difference lies below 0
    assert high < 0 and row["verdict"] == "fairer"


def test_each_group_has_its_own_generator() -> None:
    base = [0.12, 0.08, 0.15, 0.10, 0.11]
    method = [0.07, 0.06, 0.16, 0.06, 0.08]
    alone = paired_differences(_table(_rows("baseline", base), _rows("reweighing", method)), n_boot=500)
    other = [0.2, 0.1, 0.3, 0.4, 0.5]
    crowded = paired_differences(
        _table(
            _rows("baseline", other, metric="average_abs_odds_difference"),
            _rows("baseline", base),
            _rows("reweighing", list(reversed(other)), metric="average_abs_odds_difference"),
            _rows("reweighing", method),
        ),
        n_boot=500,
    )
    assert crowded["metric"].tolist() == ["average_abs_odds_difference", GAP]
    gap_row = crowded.iloc[1]
    assert (gap_row["ci_low"], gap_row["ci_high"]) == (alone.iloc[0]["ci_low"], alone.iloc[0]["ci_high"])


def test_equal_differences_give_a_degenerate_interval_at_that_difference() -> None:
    base = [0.75, 0.5, 0.625, 0.875]
    results = _table(_rows("baseline", base), _rows("reweighing", [b - 0.25 for b in base]))
    row = paired_differences(results, n_boot=300).iloc[0]
    assert row["ci_low"] == row["ci_high"] == row["difference"] == -0.25


# -- pairing ---------------------------------------------------------------------------------------
def test_pairing_is_by_repetition_not_by_row_order() -> None:
    # Values swing ±0.2 between splits but the method is always exactly 0.125 below the baseline: only a
    # pairing by repetition gives a degenerate interval at -0.125.
    base = [0.5, 0.25, 0.75, 0.375, 0.625, 0.125]
    results = _table(
        _rows("baseline", base),
        _rows("reweighing", [b - 0.125 for b in base]),
        _rows("transfer", [b + v for b, v in zip(base, [0.1, -0.05, 0.02, 0.0, 0.03, -0.01])], ratio=0.5),
        _rows("baseline", [0.8, 0.7, 0.75, 0.65, 0.7, 0.72], metric="balanced_accuracy"),
        _rows("reweighing", [0.78, 0.69, 0.74, 0.66, 0.68, 0.7], metric="balanced_accuracy"),
    )
    expected = paired_differences(results, n_boot=1000)
    shuffled = results.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert not shuffled["repetition"].is_monotonic_increasing
    got = paired_differences(shuffled, n_boot=1000)

    keys = ["method", "ratio", "metric"]
    pd.testing.assert_frame_equal(
        got.sort_values(keys).reset_index(drop=True), expected.sort_values(keys).reset_index(drop=True)
    )
    reweighing_gap = got[(got["method"] == "reweighing") & (got["metric"] == GAP)].iloc[0]
    assert reweighing_gap["ci_low"] == reweighing_gap["ci_high"] == -0.125
    assert reweighing_gap["verdict"] == "fairer"


def test_pairs_stay_within_dataset_and_selection() -> None:
    parts = []
    expected = {}
    for d, dataset in enumerate(["adult", "compas"]):
        for s, selection in enumerate(["accuracy", "fair"]):
            base = [0.1 * (d + 1) + 0.01 * s + 0.05 * rep for rep in range(3)]
            shift = -0.25 if (d, s) == (0, 1) else 0.125 * (d + s)
            parts.append(_rows("baseline", base, dataset=dataset, selection=selection))
            parts.append(_rows("reweighing", [b + shift for b in base], dataset=dataset, selection=selection))
            expected[(dataset, selection)] = shift
    table = paired_differences(_table(*parts), n_boot=200)

    assert list(table.columns) == ["dataset", "selection", *PAIRED_COLUMNS]
    assert len(table) == 4
    for row in table.itertuples(index=False):
        assert row.n == 3
        assert row.difference == pytest.approx(expected[(row.dataset, row.selection)])
        assert row.ci_low == pytest.approx(row.ci_high)
    assert table.set_index(["dataset", "selection"]).loc[("adult", "fair"), "verdict"] == "fairer"
    assert table.set_index(["dataset", "selection"]).loc[("compas", "fair"), "verdict"] == "less fair"


def test_no_reference_in_one_dataset_gives_no_pairs_there() -> None:
    results = _table(
        _rows("baseline", [0.1, 0.2, 0.3], dataset="adult"),
        _rows("reweighing", [0.0, 0.1, 0.2], dataset="adult"),
        _rows("reweighing", [0.0, 0.1, 0.2], dataset="compas"),
    )
    table = paired_differences(results, n_boot=100).set_index("dataset")
    assert table.loc["adult", "n"] == 3
    assert table.loc["compas", "n"] == 0
    assert math.isnan(table.loc["compas", "difference"]) and math.isnan(table.loc["compas", "ci_low"])
    assert table.loc["compas", "verdict"] == "too few repetitions"


def test_transfer_with_several_ratios_gives_one_row_per_ratio_in_order() -> None:
    base = [0.2, 0.15, 0.18, 0.22]
    results = _table(
        _rows("baseline", base),
        _rows("transfer", [b - 0.125 for b in base], ratio=0.25),
        _rows("transfer", [b - 0.0625 for b in base], ratio=1.0),
        _rows("reweighing", [b + 0.0625 for b in base]),
        _rows("transfer", list(base), ratio=0.5),
    )
    table = paired_differences(results, n_boot=200)

    assert list(table.columns) == list(PAIRED_COLUMNS)
    assert table["method"].tolist() == ["transfer", "transfer", "reweighing", "transfer"]
    ratios = table["ratio"].tolist()
    assert ratios[:2] == [0.25, 1.0] and math.isnan(ratios[2]) and ratios[3] == 0.5
    assert table["n"].tolist() == [4, 4, 4, 4]  # the NaN-ratio method forms one group with every repetition
    assert table["difference"].tolist() == pytest.approx([-0.125, -0.0625, 0.0625, 0.0])
    assert table["verdict"].tolist() == ["fairer", "fairer", "less fair", "no detectable difference"]


def test_reference_ratio_is_ignored() -> None:
    results = _table(_rows("baseline", [0.5, 0.25], ratio=0.0), _rows("reweighing", [0.25, 0.0]))
    row = paired_differences(results, n_boot=50).iloc[0]
    assert row["n"] == 2 and row["difference"] == -0.25


# -- missing values --------------------------------------------------------------------------------
def test_nan_values_are_dropped_pairwise() -> None:
    base = [0.12, NAN, 0.15, 0.10, 0.11]
    method = [0.07, 0.06, NAN, 0.06, 0.02]
    row = paired_differences(_table(_rows("baseline", base), _rows("reweighing", method)), n_boot=800).iloc[0]

    kept_base, kept_method = np.array([0.12, 0.10, 0.11]), np.array([0.07, 0.06, 0.02])
    assert row["n"] == 3
    assert row["mean"] == pytest.approx(kept_method.mean())
    assert row["reference_mean"] == pytest.approx(kept_base.mean())
    assert row["difference"] == pytest.approx((kept_method - kept_base).mean())
    assert (row["ci_low"], row["ci_high"]) == _hand_interval(kept_method - kept_base, n_boot=800, level=0.95, seed=0)


def test_a_single_pair_is_too_few_repetitions() -> None:
    results = _table(
        _rows("baseline", [0.8, 0.7, NAN], metric="balanced_accuracy"),
        _rows("reweighing", [NAN, 0.75, 0.9], metric="balanced_accuracy"),
        _rows("baseline", [0.1, 0.2, 0.3], metric="equal_opportunity_difference"),
        _rows("reweighing", [NAN, NAN, 0.25], metric="equal_opportunity_difference"),
    )
    table = paired_differences(results, n_boot=100)
    assert table["n"].tolist() == [1, 1]
    assert table["difference"].tolist() == pytest.approx([0.05, -0.05])
    assert table["ci_low"].isna().all() and table["ci_high"].isna().all()
    assert table["verdict"].tolist() == ["too few repetitions", "too few repetitions"]


def test_skipped_method_gives_zero_pairs() -> None:
    results = _table(_rows("baseline", [0.1, 0.2]), _rows("fairgan", [NAN, NAN]))
    row = paired_differences(results, n_boot=100).iloc[0]
    assert row["n"] == 0 and math.isnan(row["mean"]) and row["verdict"] == "too few repetitions"


# -- verdicts --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("metric", "low", "high", "expected"),
    [
        ("abs_equal_opportunity_difference", -0.05, -0.01, "fairer"),
        ("abs_statistical_parity_difference", 0.01, 0.05, "less fair"),
        ("abs_balanced_accuracy_difference", -0.05, 0.05, "no detectable difference"),
        ("average_abs_odds_difference", -0.05, -0.001, "fairer"),
        ("average_abs_odds_difference", 0.002, 0.03, "less fair"),
        ("average_abs_odds_difference", -0.05, 0.0, "no detectable difference"),  # touches 0
        ("abs_equal_opportunity_difference", 0.0, 0.04, "no detectable difference"),  # touches 0
        ("balanced_accuracy", 0.01, 0.03, "more accurate"),
        ("balanced_accuracy", -0.03, -0.01, "less accurate"),
        ("balanced_accuracy", 0.0, 0.03, "no detectable difference"),  # touches 0
        ("balanced_accuracy", -0.03, 0.0, "no detectable difference"),  # touches 0
        ("balanced_accuracy", NAN, NAN, "too few repetitions"),
        ("equal_opportunity_difference", -0.05, -0.01, ""),
        ("average_odds_difference", 0.01, 0.05, ""),
        ("statistical_parity_difference", -0.05, 0.05, ""),
        ("balanced_accuracy_difference", 0.01, 0.05, ""),
    ],
)
def test_verdict(metric: str, low: float, high: float, expected: str) -> None:
    assert verdict(metric, low, high) == expected


def test_higher_is_better_constant_holds_balanced_accuracy() -> None:
    assert HIGHER_IS_BETTER == ("balanced_accuracy",)


def test_verdicts_in_the_table_follow_the_metric_family() -> None:
    base = [0.5, 0.25, 0.75]
    parts = [
        part
        for metric in ("balanced_accuracy", "average_abs_odds_difference", "average_odds_difference")
        for part in (
            _rows("baseline", base, metric=metric),
            _rows("transfer", [b + 0.125 for b in base], ratio=1.0, metric=metric),
        )
    ]
    table = paired_differences(_table(*parts), n_boot=100)
    assert table["verdict"].tolist() == ["more accurate", "less fair", ""]


def test_zero_difference_touches_zero_and_is_not_a_finding() -> None:
    base = [0.5, 0.25, 0.75]
    results = _table(
        _rows("baseline", base, metric="balanced_accuracy"), _rows("reweighing", base, metric="balanced_accuracy")
    )
    row = paired_differences(results, n_boot=100).iloc[0]
    assert row["ci_low"] == row["ci_high"] == 0.0
    assert row["verdict"] == "no detectable difference"


# -- errors ----------------------------------------------------------------------------------------
def test_missing_columns_are_named() -> None:
    results = _table(_rows("baseline", [0.1, 0.2]), _rows("reweighing", [0.1, 0.2])).drop(
        columns=["repetition", "value"]
    )
    with pytest.raises(FairGenError, match=r"'repetition', 'value'") as info:
        paired_differences(results)
    assert str(info.value).startswith("the results table lacks the column(s) 'repetition', 'value':")


def test_missing_reference_method_is_named_with_the_methods_present() -> None:
    results = _table(_rows("transfer", [0.1, 0.2], ratio=1.0), _rows("reweighing", [0.1, 0.2]))
    with pytest.raises(FairGenError, match=r"'baseline'.*\['transfer', 'reweighing'\]"):
        paired_differences(results)
    with pytest.raises(FairGenError, match=r"'fairgan'"):
        paired_differences(results, reference="fairgan")


def test_duplicate_repetitions_are_rejected() -> None:
    results = _table(_rows("baseline", [0.1, 0.2]), _rows("baseline", [0.3]), _rows("reweighing", [0.1, 0.2]))
    with pytest.raises(FairGenError, match="more than one value"):
        paired_differences(results)


@pytest.mark.parametrize(("n_boot", "level"), [(0, 0.95), (True, 0.95), (1.5, 0.95), (100, 0.0), (100, 1.0)])
def test_invalid_bootstrap_settings_are_rejected(n_boot: object, level: float) -> None:
    results = _table(_rows("baseline", [0.1, 0.2]), _rows("reweighing", [0.1, 0.2]))
    with pytest.raises(FairGenError, match="n_boot|level"):
        paired_differences(results, n_boot=n_boot, level=level)  # type: ignore[arg-type]


def test_non_numeric_values_are_rejected() -> None:
    results = _table(_rows("baseline", [0.1, 0.2]), _rows("reweighing", [0.1, 0.2]))
    results["value"] = results["value"].astype(object)
    results.loc[3, "value"] = "n/a"
    with pytest.raises(FairGenError, match="'value' column must hold numbers"):
        paired_differences(results)
