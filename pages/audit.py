"""Data audit page: group sizes and base rates, the P(group, label) imbalance, per-group distributions,
proxy columns and a baseline classifier's fairness, for the dataset chosen on the Data page."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, state
from fairgen_core.audit import BASELINE_RATE_COLUMNS, ColumnDistribution, DataAudit, audit_data, column_distribution
from fairgen_core.data.sources import DataSource
from fairgen_core.data.spec import DatasetSpec
from fairgen_core.errors import FairGenError

DataKey = tuple[str, str, str, int]
RATE_COLUMNS = list(BASELINE_RATE_COLUMNS)


def data_key(source: DataSource, spec: DatasetSpec) -> DataKey:
    """What the cached results depend on: dataset name, spec, column kinds and the rows' content hash."""
    content = int(pd.util.hash_pandas_object(source.frame, index=False).sum())
    return source.name, repr(spec), repr(source.schema), content


@st.cache_data(max_entries=8, show_spinner="Auditing the data (fitting the baseline classifier)…")
def cached_audit(key: DataKey, _source: DataSource, _spec: DatasetSpec) -> DataAudit:
    """:func:`~fairgen_core.audit.audit_data`, cached by ``key`` (the frame and spec are not hashed)."""
    return audit_data(_source.frame, _spec, schema=_source.schema)


@st.cache_data(max_entries=32, show_spinner=False)
def cached_distribution(key: DataKey, column: str, _source: DataSource, _spec: DatasetSpec) -> ColumnDistribution:
    """:func:`~fairgen_core.audit.column_distribution`, cached by ``key`` and column."""
    return column_distribution(_source.frame, _spec, column, schema=_source.schema)


def show_groups(audit: DataAudit) -> None:
    """Group sizes as metrics and base rates as bars."""
    st.subheader("Group sizes and base rates")
    intersections = audit.groups.tail(len(audit.domains))  # the last rows are the (intersectional) groups
    for start in range(0, len(intersections), 4):
        for column, row in zip(st.columns(4), intersections.iloc[start:start + 4].itertuples()):
            column.metric(row.group, f"{row.n:,}")
            column.caption(f"{row.share:.1%} of the rows · base rate {row.base_rate:.1%}")
    st.plotly_chart(charts.base_rate_bars(audit.groups), theme="streamlit", key="audit.base_rates")


def show_imbalance(audit: DataAudit, spec: DatasetSpec) -> None:
    """The P(group, label) heat map and its imbalance in words."""
    st.subheader("P(group, label)")
    cells, rates = audit.imbalance.describe()
    st.markdown(f"**{cells}**")
    st.markdown(rates)
    st.plotly_chart(charts.joint_probability_heatmap(audit.domains, spec.n_domains, audit.baseline.label_names),
                    theme="streamlit", key="audit.heatmap")


def show_distributions(key: DataKey, source: DataSource, spec: DatasetSpec, audit: DataAudit) -> None:
    """One column's distribution per group; the strongest proxy is shown first."""
    st.subheader("Per-group distributions")
    excluded = {spec.label, *spec.sensitive_columns}
    columns = [c for c in source.frame.columns if c not in excluded]
    if not columns:
        st.info("The data has no column besides the label and the sensitive attributes.")
        return
    ranked = [c for c in audit.proxies["column"] if c in columns]
    start = columns.index(ranked[0]) if ranked else 0
    column = st.selectbox("Column", columns, index=start, key=f"audit.{source.name}.column",
                          help="Starts on the strongest proxy for the group.")
    distribution = cached_distribution(key, column, source, spec)
    st.plotly_chart(charts.group_shares(distribution.shares, column, distribution.numeric), theme="streamlit",
                    key="audit.distribution")
    if distribution.quantiles is not None:
        st.dataframe(distribution.quantiles, column_config={"mean": st.column_config.NumberColumn(format="%.4g")})


def show_proxies(audit: DataAudit) -> None:
    """Columns ranked by mutual information with the group."""
    st.subheader("Proxies for the sensitive group")
    st.caption("Mutual information between each column and the group, in nats; *normalised* is the share of the "
               "group's entropy the column explains. A column at 0.10 or above is flagged as a strong proxy: "
               "leaving the sensitive attribute out of a model does not hide the group from it.")
    strong = audit.proxies.loc[audit.proxies["strong"], "column"].tolist()
    if strong:
        st.warning(f"Strong proxies: {', '.join(strong)}.")
    st.dataframe(audit.proxies, hide_index=True, column_config={
        "mutual_information": st.column_config.NumberColumn("mutual information", format="%.4f"),
        "normalised": st.column_config.ProgressColumn("normalised", format="%.2f", min_value=0.0, max_value=1.0),
        "strong": st.column_config.CheckboxColumn("strong proxy"),
    })


def show_baseline(audit: DataAudit) -> None:
    """A logistic regression's per-group metrics and confusion matrices on the test split; first, when its scores
    are near-perfect because an input leaks the label, the warning naming that input."""
    baseline = audit.baseline
    st.subheader("Baseline classifier")
    st.caption(f"Logistic regression on {len(baseline.features)} columns (not the label or the sensitive "
               f"attributes), fitted on {baseline.n_train:,} rows and scored on {baseline.n_test:,} test rows.")
    for warning in baseline.warnings:
        st.warning(f"{warning} On the **Data** page: untick **Keep** for that column.")
    left, middle, right = st.columns(3)
    left.metric("Balanced accuracy", f"{baseline.balanced_accuracy:.3f}")
    middle.metric("|Equal opportunity difference|", f"{baseline.absolute['abs_equal_opportunity_difference']:.3f}")
    right.metric("|Statistical parity difference|", f"{baseline.absolute['abs_statistical_parity_difference']:.3f}")
    rate = st.column_config.NumberColumn(format="%.3f")
    st.dataframe(baseline.by_group[RATE_COLUMNS], column_config={c: rate for c in RATE_COLUMNS[1:]})
    matrices = list(baseline.confusion_matrices().items())
    for start in range(0, len(matrices), 2):
        for column, (group, matrix) in zip(st.columns(2), matrices[start:start + 2]):
            column.plotly_chart(charts.confusion_heatmap(matrix, group), theme="streamlit",
                                key=f"audit.confusion.{group}")


st.title("Data audit")
source, spec = state.require_dataset("audits that choice.")
st.caption(state.dataset_caption(source, spec))
key = data_key(source, spec)
try:
    audit = cached_audit(key, source, spec)
except FairGenError as error:
    st.error(str(error))
    st.stop()
show_groups(audit)
show_imbalance(audit, spec)
show_distributions(key, source, spec, audit)
show_proxies(audit)
show_baseline(audit)
