"""The tidy results table: one summary (mean ± std over repetitions), the ratio selector, names and metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fairgen_core.errors import FairGenError
from fairgen_core.metrics import fairness_report
from fairgen_core.results.table import (
    FAIRNESS_METRICS,
    METRIC_TITLES,
    SWEEP_METRICS,
    TABLE_METRICS,
    at_ratio,
    has_direction,
    mean_std_column,
    mean_std_text,
    summarise,
)


def test_summarise_repetitions() -> None:
    values = pd.DataFrame({
        "repetition": [0, 0, 1, 1, 2, 2],
        "metric": ["ba", "eo", "ba", "eo", "ba", "eo"],
        "value": [0.70, 0.10, 0.80, np.nan, 0.75, 0.30],
    })
    summary = summarise(values).set_index("metric")
    assert list(summary.index) == ["ba", "eo"]
    assert summary.loc["ba", "mean"] == pytest.approx(0.75)
    assert summary.loc["ba", "std"] == pytest.approx(0.05)  # sample std of 0.70, 0.80, 0.75
    assert summary.loc["eo", "mean"] == pytest.approx(0.20)  # NaN left out
    assert summary["n"].tolist() == [3, 2]
    assert mean_std_column(summary).loc["ba"] == "0.750 ± 0.050"


def test_summarise_reports_over_splits() -> None:
    rng = np.random.default_rng(0)
    runs = []
    for seed in range(3):
        y, g = rng.integers(0, 2, 200), rng.integers(0, 2, 200)
        p = np.where(rng.random(200) < 0.8, y, 1 - y) | (g & (rng.random(200) < 0.2))
        runs.append(fairness_report(y, p, g, ("unpriv", "priv")).tidy().assign(repetition=seed))
    stacked = pd.concat(runs, ignore_index=True)
    summary = summarise(stacked).set_index("metric")
    expected = stacked.groupby("metric")["value"].agg(["mean", "std"])
    assert summary.loc[expected.index, "mean"].to_numpy() == pytest.approx(expected["mean"].to_numpy())
    assert summary.loc[expected.index, "std"].to_numpy() == pytest.approx(expected["std"].to_numpy())


def test_one_repetition_has_no_spread_and_shows_its_value_alone() -> None:
    table = pd.DataFrame({"selection": "accuracy", "method": ["transfer", "transfer", "no TL"],
                          "ratio": [0.5, 1.0, np.nan], "repetition": 0, "metric": "balanced_accuracy",
                          "value": [0.71, 0.72, 0.70]})
    summary = summarise(table)
    assert summary["std"].isna().all() and summary["n"].tolist() == [1, 1, 1]
    assert summary["ratio"].tolist()[:2] == [0.5, 1.0] and math.isnan(summary["ratio"].iloc[2])
    assert mean_std_column(summary).tolist() == ["0.710", "0.720", "0.700"]
    assert mean_std_text(0.7, 0.0) == "0.700 ± 0.000"


def test_summarise_keeps_selection_rules_and_ratios_apart() -> None:
    table = pd.DataFrame({"selection": ["accuracy", "accuracy", "fair", "fair"], "method": "transfer",
                          "ratio": [0.5, 0.5, 0.5, 0.5], "metric": "m", "value": [1.0, 3.0, 5.0, 7.0]})
    summary = summarise(table)
    assert summary[["selection", "mean", "n"]].values.tolist() == [["accuracy", 2.0, 2], ["fair", 6.0, 2]]


def test_summarise_rejects_bad_tables() -> None:
    with pytest.raises(FairGenError, match=r"lacks the column\(s\) 'value'.*tidy table"):
        summarise(pd.DataFrame({"metric": ["ba"], "score": [0.5]}))
    with pytest.raises(FairGenError, match=r"must hold numbers; found 'high'"):
        summarise(pd.DataFrame({"metric": ["ba"], "value": ["high"]}))


def test_at_ratio_ignores_float_noise_and_nan() -> None:
    ratios = pd.Series([0.1 + 0.2, 0.3, 0.31, np.nan])
    assert at_ratio(ratios, 0.3).tolist() == [True, True, False, False]
    assert at_ratio(0.1 * 3, 0.3) and not at_ratio(0.4, 0.3)


def test_metric_lists_come_from_the_fairness_metrics() -> None:
    assert SWEEP_METRICS[0] == "balanced_accuracy" and SWEEP_METRICS[1:] == FAIRNESS_METRICS
    assert TABLE_METRICS[:len(SWEEP_METRICS)] == SWEEP_METRICS
    assert tuple(METRIC_TITLES) == SWEEP_METRICS
    assert all(has_direction(m) for m in SWEEP_METRICS)
    assert not any(has_direction(m) for m in TABLE_METRICS[len(SWEEP_METRICS):])
    assert METRIC_TITLES["balanced_accuracy"].endswith("↑")
    assert all(METRIC_TITLES[m].endswith("↓") for m in FAIRNESS_METRICS)
