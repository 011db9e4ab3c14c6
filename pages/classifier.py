"""Fair classifier & trade-off: the ratio sweep computed in the background, a slider that redraws instantly."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import run_cache, state
from dashboard.background import analysis_controls
from fairgen_core.charts import (
    FAIRNESS_METRICS,
    METRIC_TITLES,
    NO_TL,
    TRANSFER,
    summarise,
    tradeoff_figure,
    with_selected_ratio,
)
from fairgen_core.classifier.sweep import DEFAULT_RATIOS
from fairgen_core.runs import METHODS, SWEEP

st.title("Fair classifier & trade-off")
st.caption("C is pre-trained on exactly balanced synthetic rows, then fine-tuned on real training rows mixed with "
           "their synthetic pairs. The real share of each fine-tuning batch is the ratio: 1 = real rows only, "
           "0 = synthetic pairs only. 'no TL' is the same network trained on real rows without pre-training.")


def selected_values(summary: pd.DataFrame, method: str, ratio: float | None) -> dict[str, tuple[float, float]]:
    """Mean and std per metric of one method (and ratio) from a :func:`summarise` table."""
    rows = summary[summary["method"] == method]
    if ratio is not None:
        rows = rows[(rows["ratio"] - ratio).abs() < 1e-9]
    return {row.metric: (row.mean, row.std) for row in rows.itertuples()}


@st.cache_data(max_entries=8, show_spinner=False)
def chart_and_summary(sweep: pd.DataFrame, references: pd.DataFrame | None) -> tuple[dict, pd.DataFrame]:
    """The trade-off chart without a selection (as a dict) and the summary the metric cards read."""
    summary = summarise(sweep if references is None else pd.concat([sweep, references], ignore_index=True))
    return tradeoff_figure(sweep, references=references).to_dict(), summary


@st.fragment
def tradeoff(sweep: pd.DataFrame, references: pd.DataFrame | None) -> None:
    """The slider and everything it redraws (a fragment: moving it reruns only this part)."""
    ratios = sorted(sweep.loc[sweep["method"] == TRANSFER, "ratio"].dropna().unique().tolist())
    default = min(ratios, key=lambda r: abs(r - 0.5))
    ratio = st.select_slider("Real share of the fine-tuning batches", options=ratios, key="classifier.ratio",
                             value=state.remembered("classifier", "ratio", default),
                             format_func=lambda r: f"{r:.1f} real : {1 - r:.1f} synthetic")
    state.remember("classifier", "ratio", ratio)
    chart, summary = chart_and_summary(sweep, references)
    chosen = selected_values(summary, TRANSFER, ratio)
    no_tl = selected_values(summary, NO_TL, None)
    baseline = selected_values(summary, "baseline", None)
    reference, reference_name = (baseline, "baseline") if baseline else (no_tl, NO_TL)
    columns = st.columns(len(METRIC_TITLES))
    for column, metric in zip(columns, METRIC_TITLES):
        mean, std = chosen.get(metric, (float("nan"), 0.0))
        delta = mean - reference[metric][0] if metric in reference else None
        column.metric(METRIC_TITLES[metric], f"{mean:.3f}", None if delta is None else f"{delta:+.3f}",
                      delta_color="normal" if metric not in FAIRNESS_METRICS else "inverse",
                      help=f"± {std:.3f} over repetitions; change versus {reference_name}")
    st.plotly_chart(with_selected_ratio(chart, ratio), theme="streamlit",
                    key="classifier.chart", config={"displayModeBar": False})
    repetitions = int(sweep["repetition"].nunique())
    st.caption(f"Test-split means over {repetitions} repetition{'s' if repetitions != 1 else ''}; bands are ±1 std."
               f" Deltas compare with {reference_name}.")


run_dir = run_cache.require_run()
if run_dir is None:
    st.stop()
run = run_dir.path
st.markdown(f"Run **{run.name}**")
analysis_controls(run, "sweep", "Compute the trade-off",
                  help_text=f"{len(DEFAULT_RATIOS)} ratios plus 'no TL', per repetition. German: seconds; "
                  "Adult: about a minute per repetition on a laptop CPU.")
sweep_table = run_cache.run_table(run_dir, SWEEP)
if sweep_table is None:
    st.info("No trade-off yet for this run: compute it above.")
    st.stop()
methods_table = run_cache.run_table(run_dir, METHODS)
baseline_rows = None if methods_table is None else methods_table[methods_table["method"] == "baseline"]
tradeoff(sweep_table, baseline_rows if baseline_rows is not None and len(baseline_rows) else None)
