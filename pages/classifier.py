"""Fair classifier & trade-off: the ratio sweep computed in the background, a slider that redraws instantly."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import run_cache, state
from dashboard.background import analysis_controls, partial_results
from dashboard.charts import theme_neutral
from fairgen_core.classifier.sweep import DEFAULT_RATIOS
from fairgen_core.metrics.paired import describe, paired_differences
from fairgen_core.results.charts import paired_ratio_figure, tradeoff_figure, with_selected_ratio
from fairgen_core.results.table import (
    BASELINE,
    FAIRNESS_METRICS,
    METRIC_LABELS,
    METRIC_TITLES,
    NO_TL,
    TRANSFER,
    at_ratio,
    mean_std_text,
    summarise,
)
from fairgen_core.results.verdicts import sweep_verdict
from fairgen_core.runs.layout import METHODS, SWEEP

st.title("Fair classifier & trade-off")
st.caption("C is pre-trained on exactly balanced synthetic rows, then fine-tuned on real training rows mixed with "
           "their synthetic pairs. The real share of each fine-tuning batch is the ratio: 1 = real rows only, "
           "0 = synthetic pairs only. 'no TL' is the same network trained on real rows without pre-training.")


def selected_values(summary: pd.DataFrame, method: str, ratio: float | None) -> dict[str, tuple[float, float]]:
    """Mean and std per metric of one method (and ratio) from a :func:`summarise` table."""
    rows = summary[summary["method"] == method]
    if ratio is not None:
        rows = rows[at_ratio(rows["ratio"], ratio)]
    return {row.metric: (row.mean, row.std) for row in rows.itertuples()}


@dataclass(frozen=True)
class TradeoffView:
    """Everything the slider redraws, computed once per results table (the slider then only looks up).

    Attributes
    ----------
    chart : dict
        The trade-off figure without a selection.
    ratios : list of float
        The swept ratios (the slider's options).
    by_ratio : dict
        Mean and std per metric of the transfer classifier at every ratio.
    reference : dict
        Mean and std per metric of the method the deltas compare with.
    reference_name : str
        :data:`~fairgen_core.results.table.BASELINE`, or :data:`~fairgen_core.results.table.NO_TL` when the
        comparison methods were not run.
    repetitions : int
        Repetitions behind the means.
    paired : dict
        Per ratio and metric, the paired difference against the reference with its interval and verdict
        (empty with one repetition).
    paired_chart : dict or None
        :func:`~fairgen_core.results.charts.paired_ratio_figure` (None with one repetition).
    verdict : str
        :func:`~fairgen_core.results.verdicts.sweep_verdict` against the reference: the ratios whose paired
        difference's 95% interval excludes zero, or why none is named.
    """

    chart: dict
    ratios: list[float]
    by_ratio: dict[float, dict[str, tuple[float, float]]]
    reference: dict[str, tuple[float, float]]
    reference_name: str
    repetitions: int
    paired: dict[float, dict[str, str]]
    paired_chart: dict | None
    verdict: str


@st.cache_resource(max_entries=8, show_spinner=False)
def tradeoff_view(sweep: pd.DataFrame, references: pd.DataFrame | None) -> TradeoffView:
    """The :class:`TradeoffView` of a sweep table and the optional baseline rows (shared, never mutated)."""
    table = sweep if references is None else pd.concat([sweep, references], ignore_index=True)
    summary = summarise(table)
    ratios = sorted(sweep.loc[sweep["method"] == TRANSFER, "ratio"].dropna().unique().tolist())
    baseline = selected_values(summary, BASELINE, None)
    reference, reference_name = (baseline, BASELINE) if baseline else (selected_values(summary, NO_TL, None), NO_TL)
    repetitions = int(sweep["repetition"].nunique())
    paired = transfer_paired(table, reference_name) if repetitions > 1 else None
    return TradeoffView(
        chart=theme_neutral(tradeoff_figure(sweep, references=references)).to_dict(), ratios=ratios,
        by_ratio={ratio: selected_values(summary, TRANSFER, ratio) for ratio in ratios},
        reference=reference, reference_name=reference_name, repetitions=repetitions,
        paired={} if paired is None else paired_by_ratio(paired),
        paired_chart=None if paired is None else theme_neutral(
            paired_ratio_figure(paired, reference=reference_name)).to_dict(),
        verdict=sweep_verdict(table, reference=reference_name),
    )


def transfer_paired(table: pd.DataFrame, reference: str) -> pd.DataFrame:
    """The transfer classifier's paired differences to ``reference`` (in ``table``), per ratio and shown metric."""
    paired = paired_differences(table[table["metric"].isin(METRIC_TITLES)], reference=reference)
    return paired[paired["method"] == TRANSFER]


def paired_by_ratio(paired: pd.DataFrame) -> dict[float, dict[str, str]]:
    """Per ratio and metric, a paired difference of :func:`transfer_paired` in words."""
    out: dict[float, dict[str, str]] = {}
    for row in paired.itertuples():
        out.setdefault(float(row.ratio), {})[row.metric] = describe(row.difference, row.ci_low, row.ci_high,
                                                                    row.verdict)
    return out


@st.fragment
def tradeoff(view: TradeoffView) -> None:
    """The slider and everything it redraws (a fragment: moving it reruns only this part, which only looks up)."""
    st.markdown(f"**Verdict:** {view.verdict}")
    remembered = state.remembered("classifier", "ratio", None)
    start = remembered if remembered in view.ratios else min(view.ratios, key=lambda r: abs(r - 0.5))
    ratio = st.select_slider("Real share of the fine-tuning batches", options=view.ratios, key="classifier.ratio",
                             value=start,
                             format_func=lambda r: f"{r:.1f} real : {1 - r:.1f} synthetic")
    state.remember("classifier", "ratio", ratio)
    chosen, reference = view.by_ratio[ratio], view.reference
    for column, metric in zip(st.columns(len(METRIC_TITLES)), METRIC_TITLES):
        mean, std = chosen.get(metric, (float("nan"), float("nan")))
        delta = mean - reference[metric][0] if metric in reference else None
        column.metric(METRIC_TITLES[metric], f"{mean:.3f}", None if delta is None else f"{delta:+.3f}",
                      delta_color="normal" if metric not in FAIRNESS_METRICS else "inverse",
                      help=f"{mean_std_text(mean, std)} (mean ± std over {view.repetitions} repetition(s)); "
                           f"change versus {view.reference_name}")
    # The marked chart is an already validated figure plus plain marker traces: skipping plotly's validation saves
    # ~20 ms per slider move (tests/app/test_classifier_page.py checks the JSON is the same), and theme=None with
    # a theme-neutral figure ~50 ms of browser time (docs/benchmarks.md).
    st.plotly_chart(go.Figure(with_selected_ratio(view.chart, ratio), _validate=False), theme=None,
                    key="classifier.chart", config={"displayModeBar": False})
    bands = "bands are ±1 std" if view.repetitions > 1 else "1 repetition: no error bars"
    st.caption(f"Test-split means over {view.repetitions} repetition{'s' if view.repetitions != 1 else ''}; {bands}."
               f" Deltas compare with {view.reference_name}.")
    verdicts = view.paired.get(ratio)
    if verdicts:
        st.markdown(f"**Against {view.reference_name}, on the same splits** (mean paired difference, 95% bootstrap "
                    "interval): " + "; ".join(f"{METRIC_LABELS[m]} {text}"
                                               for m, text in verdicts.items()))


def partial_tradeoff(rows: pd.DataFrame, references: pd.DataFrame | None) -> None:
    """The trade-off chart of the cells finished so far (no slider: the chart is redrawn as cells finish)."""
    if not rows["method"].eq(TRANSFER).any():
        st.caption("No ratio has finished yet; the chart starts with the first.")
    st.plotly_chart(theme_neutral(tradeoff_figure(rows, references=references)), theme=None,
                    key="classifier.partial", config={"displayModeBar": False})
    st.caption("The slider, the verdict and the paired differences come when every cell has finished.")


run_dir = run_cache.require_run()
if run_dir is None:
    st.stop()
run = run_dir.path
st.markdown(f"Run **{run.name}**")
analysis_controls(run, "sweep", "Compute the trade-off",
                  help_text=f"Per repetition, {len(DEFAULT_RATIOS) + 2} cells: {len(DEFAULT_RATIOS)} ratios, 'no TL' "
                  "and the down-sampled ablation. Once started, the time left is estimated from the measured "
                  "time per cell.")
methods_table = run_cache.run_table(run_dir, METHODS)
baseline_rows = None if methods_table is None else methods_table[methods_table["method"] == BASELINE]
if baseline_rows is not None and not len(baseline_rows):
    baseline_rows = None
if partial_results(run_dir, "sweep", lambda rows: partial_tradeoff(rows, baseline_rows)):
    st.stop()
sweep_table = run_cache.run_table(run_dir, SWEEP)
if sweep_table is None:
    st.info("No trade-off yet for this run: compute it above.")
    st.stop()
view = tradeoff_view(sweep_table, baseline_rows)
tradeoff(view)
if view.paired_chart is not None:
    st.plotly_chart(go.Figure(view.paired_chart), theme=None, key="classifier.paired")
