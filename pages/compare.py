"""Compare methods: the paper's Fig. 2 for the current data, and accuracy against fairness with the Pareto front."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import run_cache, state
from dashboard.background import analysis_controls, partial_results
from fairgen_core.classifier.selection import RULE_DESCRIPTIONS
from fairgen_core.metrics.paired import describe, paired_differences
from fairgen_core.results.charts import method_bars_figure, pareto_figure
from fairgen_core.results.table import (
    FAIRNESS_METRICS,
    METRIC_TITLES,
    TRANSFER,
    at_ratio,
    mean_std_column,
    summarise,
)
from fairgen_core.runs.layout import METHODS, SWEEP

st.title("Compare methods")
st.caption("Every method is trained on this run's training split, tuned on its validation split and measured on "
           "its test split — the same rows the fair classifier uses.")


def with_ours(methods: pd.DataFrame, sweep: pd.DataFrame | None) -> pd.DataFrame:
    """The methods' rows and, when the trade-off was computed, ours at the ratio chosen on the Fair classifier page."""
    if sweep is None:
        st.caption("Compute the trade-off on the **Fair classifier** page to add ours to these charts.")
        return methods
    ratio = float(state.remembered("classifier", "ratio", 0.5))
    st.caption(f"Ours is the transfer-learned classifier at ratio {ratio:.1f} (set on the **Fair classifier** page).")
    chosen = sweep[(sweep["method"] == TRANSFER) & at_ratio(sweep["ratio"], ratio)]
    return pd.concat([methods, chosen], ignore_index=True)


def summary_table(ran: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std per method (ours with its ratio) and shown metric, a row per method."""
    summary = summarise(ran)
    summary = summary[summary["metric"].isin(METRIC_TITLES)]
    summary["value"] = mean_std_column(summary)
    summary["method"] = summary["method"] + summary["ratio"].map(lambda r: "" if pd.isna(r) else f" r={r:.1f}")
    return (summary.pivot_table(index="method", columns="metric", values="value", aggfunc="first", sort=False)
            .rename(columns=METRIC_TITLES))


def explain_skipped(methods: pd.DataFrame) -> None:
    """A warning per method that did not run on this data, with its reason."""
    skipped = methods[methods["value"].isna()] if "note" in methods.columns else methods.iloc[0:0]
    for method, note in skipped.groupby("method")["note"].first().items():
        st.warning(f"**{method}** did not run on this data: {note}")


def partial_comparison(rows: pd.DataFrame, sweep: pd.DataFrame | None) -> None:
    """Fig. 2 and the table of the methods and repetitions finished so far (redrawn as more finish)."""
    explain_skipped(rows)
    ran = with_ours(rows, sweep).dropna(subset=["value"])
    if ran.empty:
        return
    st.plotly_chart(method_bars_figure(ran), theme="streamlit", key="compare.partial_bars")
    st.dataframe(summary_table(ran), key="compare.partial_table")
    st.caption("Mean ± std over the repetitions finished so far. The Pareto view and the paired differences to "
               "the Baseline come when every cell has finished.")


run_dir = run_cache.require_run()
if run_dir is None:
    st.stop()
run = run_dir.path
st.markdown(f"Run **{run.name}**")
analysis_controls(run, "compare", "Run the comparison methods",
                  help_text="Baseline, reweighing, disparate impact remover, calibrated equalised odds, meta fair "
                  "classifier, adversarial debiasing, LAFTR and group-specific thresholds: a cell per method and "
                  "repetition. Once started, the time left is estimated from the measured time per cell.")
sweep = run_cache.run_table(run_dir, SWEEP)
if partial_results(run_dir, "compare", lambda rows: partial_comparison(rows, sweep)):
    st.stop()
methods = run_cache.run_table(run_dir, METHODS)
if methods is None:
    st.info("No comparison yet for this run: run the methods above.")
    st.stop()
combined = with_ours(methods, sweep)
explain_skipped(methods)

st.subheader("Fairness and balanced accuracy per method (Fig. 2)")
st.plotly_chart(method_bars_figure(combined.dropna(subset=["value"])), theme="streamlit", key="compare.bars")

st.subheader("Accuracy against fairness")
gap = st.selectbox("Fairness gap", FAIRNESS_METRICS, format_func=METRIC_TITLES.get, key="compare.gap")
st.plotly_chart(pareto_figure(combined.dropna(subset=["value"]), unfairness=gap), theme="streamlit",
                key="compare.pareto")
st.caption("Up and to the left is better. Points on the dotted line are not beaten on both axes by any other.")

st.dataframe(summary_table(combined.dropna(subset=["value"])))
rule = methods["selection"].iloc[0] if "selection" in methods.columns else "accuracy"
st.caption(f"Mean ± std over repetitions. Every method chose its epoch, level or thresholds on the validation split "
           f"by the same rule: **{rule}** ({RULE_DESCRIPTIONS.get(rule, rule)}).")

st.subheader("Against the Baseline, on the same splits")
repetitions = int(methods["repetition"].nunique())
if repetitions < 2:
    st.info("With one repetition no difference can be told from split-to-split noise (fairness gaps move by about "
            "±0.05 between runs). Run the comparison (and the trade-off) with 2 or more repetitions — 10 for "
            "conclusions — to see which methods are fairer than the Baseline.")
else:
    paired = paired_differences(combined[combined["metric"].isin(METRIC_TITLES)])
    paired["text"] = [describe(*row) for row in paired[["difference", "ci_low", "ci_high", "verdict"]].to_numpy()]
    paired["method"] = paired["method"] + paired["ratio"].map(lambda r: "" if pd.isna(r) else f" r={r:.1f}")
    st.dataframe(paired.pivot_table(index="method", columns="metric", values="text", aggfunc="first", sort=False)
                 .rename(columns=METRIC_TITLES), key="compare.paired")
    st.caption(f"Mean paired difference (method − Baseline) over {repetitions} repetitions with its 95% bootstrap "
               "interval. A method is called fairer or less fair only when the interval excludes zero.")
