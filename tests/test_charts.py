"""The trade-off chart (Fig. 3) does not dress noise up as signal: minimum axis spans, a note for one repetition."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fairgen_core.results.charts import MIN_SPAN, ONE_REPETITION_NOTE, axis_range, tradeoff_figure

GAP, ACCURACY = "average_abs_odds_difference", "balanced_accuracy"


def _sweep(values: dict[str, list[float]], repetitions: int) -> pd.DataFrame:
    """Transfer at ratios 0, 0.5 and 1 and "no TL", every repetition the same values plus 0.001 per repetition."""
    rows = []
    for metric, (*at_ratios, no_tl) in values.items():
        for repetition in range(repetitions):
            shift = 0.001 * repetition
            rows += [{"method": "transfer", "ratio": ratio, "repetition": repetition, "metric": metric,
                      "value": value + shift} for ratio, value in zip((0.0, 0.5, 1.0), at_ratios)]
            rows.append({"method": "no TL", "ratio": math.nan, "repetition": repetition, "metric": metric,
                         "value": no_tl + shift})
    return pd.DataFrame(rows)


def _y_ranges(figure) -> dict[str, tuple[float, float]]:
    """Each panel's y-axis range by its title (the subplot titles, in panel order)."""
    titles = [annotation.text for annotation in figure.layout.annotations]
    axes = [figure.layout.yaxis, figure.layout.yaxis2]
    return {title.rstrip(" ↑↓"): tuple(axis.range) for title, axis in zip(titles, axes)}


def test_one_repetition_gets_a_note_and_a_gap_axis_from_zero_at_least_min_span_wide() -> None:
    # The numbers: 0.086 against 0.090 would fill the whole panel if plotly zoomed to them.
    figure = tradeoff_figure(_sweep({ACCURACY: [0.70, 0.71, 0.705, 0.702], GAP: [0.088, 0.086, 0.089, 0.090]}, 1))
    assert figure.layout.title.text == ONE_REPETITION_NOTE
    ranges = _y_ranges(figure)
    low, high = ranges["|Average odds diff.|"]
    assert low == 0.0 and high >= MIN_SPAN
    low, high = ranges["Balanced accuracy"]
    assert high - low >= MIN_SPAN - 1e-12 and low <= 0.70 and high >= 0.71


def test_several_repetitions_have_bands_and_no_note_and_wide_data_keep_their_span() -> None:
    figure = tradeoff_figure(_sweep({ACCURACY: [0.50, 0.75, 0.80, 0.78], GAP: [0.05, 0.20, 0.30, 0.25]}, 3))
    assert figure.layout.title.text is None
    ranges = _y_ranges(figure)
    assert ranges["|Average odds diff.|"][0] == 0.0 and ranges["|Average odds diff.|"][1] > 0.30
    low, high = ranges["Balanced accuracy"]
    assert low < 0.50 and high > 0.80


@pytest.mark.parametrize(("values", "expected"), [([0.99, 1.0], [0.9, 1.0]), ([0.0, 0.01], [0.0, 0.1])])
def test_a_widened_accuracy_axis_stays_within_zero_and_one(values: list[float], expected: list[float]) -> None:
    assert axis_range(pd.Series(values).to_numpy(), from_zero=False) == pytest.approx(expected)


def test_only_the_lowest_panel_of_each_column_has_an_x_axis_title() -> None:
    """Five panels in a 3 × 2 grid: an axis title above another panel's title would overlap it."""
    metrics = ["balanced_accuracy", "abs_equal_opportunity_difference", "average_abs_odds_difference",
               "abs_balanced_accuracy_difference", "abs_statistical_parity_difference"]
    figure = tradeoff_figure(_sweep({metric: [0.7, 0.71, 0.705, 0.702] for metric in metrics}, 2))
    titled = [name for name in ("xaxis", "xaxis2", "xaxis3", "xaxis4", "xaxis5")
              if figure.layout[name].title.text]
    assert titled == ["xaxis3", "xaxis4", "xaxis5"]  # row 2, columns 1-2, and column 3 of row 1 (nothing below)


def test_the_paired_chart_draws_each_ratio_with_its_interval_band_around_zero() -> None:
    from fairgen_core.metrics.paired import paired_differences
    from fairgen_core.results.charts import paired_ratio_figure

    table = _sweep({GAP: [0.05, 0.20, 0.30, 0.25]}, 3)
    table.loc[(table["method"] == "transfer") & (table["ratio"] == 0.0), "value"] += [0.01, -0.02, 0.015]
    paired = paired_differences(table, reference="no TL")
    figure = paired_ratio_figure(paired, reference="no TL")
    band, line = figure.data
    rows = paired[paired["method"] == "transfer"].sort_values("ratio")
    assert list(line.x) == [0.0, 0.5, 1.0]
    np.testing.assert_allclose(line.y, rows["difference"])
    np.testing.assert_allclose(band.y, np.concatenate([rows["ci_high"], rows["ci_low"][::-1]]))
    assert [shape.y0 for shape in figure.layout.shapes] == [0.0]  # the "no difference" line
    assert "no TL" in figure.layout.title.text and "95%" in figure.layout.title.text
