"""Plotly figures built from core result tables.

Draw them with ``st.plotly_chart(figure, theme="streamlit")``: the figures set no background, font or
template colours of their own, so Streamlit's theme keeps them readable in light and dark mode. A chart that
is redrawn on every slider move is drawn with ``theme=None`` after :func:`theme_neutral` instead: Streamlit's
theming of a figure costs ~50 ms per redraw in the browser.
"""

from __future__ import annotations

import copy
from functools import cache

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from fairgen_core.results.charts import wrap_label

#: Streamlit's grey: readable on its light (#ffffff) and dark (#0e1117) backgrounds alike.
NEUTRAL_GREY = "#808495"
_GRID = "rgba(128, 132, 149, 0.3)"


def theme_neutral(figure: go.Figure) -> go.Figure:
    """Style ``figure`` in place for both light and dark pages: transparent background, grey text and grid.

    For charts drawn with ``st.plotly_chart(..., theme=None)``; returns the figure.
    """
    figure.update_layout(template="none", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                         font={"family": '"Source Sans", "Source Sans Pro", sans-serif', "color": NEUTRAL_GREY})
    figure.update_xaxes(gridcolor=_GRID, zerolinecolor=_GRID, linecolor=_GRID)
    figure.update_yaxes(gridcolor=_GRID, zerolinecolor=_GRID, linecolor=_GRID)
    return figure


def joint_probability_heatmap(domains: pd.DataFrame, n_domains: int, label_names: tuple[str, str]) -> go.Figure:
    """P(group, label) per cell, its label axis naming the label column's values with the favourable one marked.

    Parameters
    ----------
    domains : pandas.DataFrame
        :func:`~fairgen_core.data.spec.domain_table`.
    n_domains : int
        Number of (group, label) cells.
    label_names : tuple of str
        Names of the (unfavourable, favourable) labels,
        :attr:`DomainAssignment.label_names <fairgen_core.data.spec.DomainAssignment>`, e.g. ``income=>50K``.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    joint = domains[["p_unfavourable", "p_favourable"]].set_axis(list(label_names), axis=1)
    figure = px.imshow(joint, text_auto=".3f", aspect="auto",
                       labels={"x": "label", "y": "group", "color": "P(group, label)"},
                       title=f"P(group, label): balanced data would show {1 / n_domains:.3f} in every cell")
    ticks = [f"{wrap_label(name, 28)}<br>({kind})" for name, kind in zip(label_names, ("unfavourable", "favourable"))]
    figure.update_xaxes(side="bottom", tickvals=list(label_names), ticktext=ticks, automargin=True)
    return figure


def base_rate_bars(groups: pd.DataFrame) -> go.Figure:
    """Base rate per group, labelled with the group's size, from :func:`~fairgen_core.audit.group_rates`."""
    text = [f"{rate:.1%} of {n:,}" for rate, n in zip(groups["base_rate"], groups["n"])]
    figure = px.bar(groups, x="group", y="base_rate", color="attribute", text=text,
                    labels={"base_rate": "P(favourable | group)", "group": ""},
                    title="Base rate per group (bar label: rate of the group's rows)")
    figure.update_yaxes(tickformat=".0%", rangemode="tozero")
    figure.update_layout(showlegend=groups["attribute"].nunique() > 1)
    return figure


def group_shares(shares: pd.DataFrame, column: str, numeric: bool) -> go.Figure:
    """Share of each value (or histogram bin) per group, from :func:`~fairgen_core.audit.column_distribution`."""
    title = f"{column}: share of each group's rows {'per bin' if numeric else 'per value'}"
    figure = px.bar(shares, x="value", y="share", color="group", barmode="group", hover_data=["count"],
                    category_orders={"value": list(dict.fromkeys(shares["value"]))},
                    labels={"value": column, "share": "share of the group"}, title=title)
    figure.update_yaxes(tickformat=".0%")
    return figure


def confusion_heatmap(matrix: pd.DataFrame, title: str) -> go.Figure:
    """A confusion matrix (rows: true label, columns: prediction) with its counts written in the cells.

    Long label names are wrapped onto several lines and the margins grow to fit them.
    """
    figure = px.imshow(matrix, text_auto=",d", aspect="auto", labels={"color": "rows"}, title=wrap_label(title, 48),
                       height=340)
    figure.update_layout(coloraxis_showscale=False)
    figure.update_xaxes(side="bottom", tickangle=0, automargin=True, tickvals=list(matrix.columns),
                        ticktext=[wrap_label(value, 16) for value in matrix.columns])
    figure.update_yaxes(automargin=True, tickvals=list(matrix.index),
                        ticktext=[wrap_label(value, 16) for value in matrix.index])
    return figure


#: The rates :func:`threshold_rates_figure` draws, with their axis names.
THRESHOLD_RATES = {"selection_rate": "selection rate", "tpr": "TPR", "fpr": "FPR"}


def threshold_rates_figure(rates: pd.DataFrame) -> go.Figure:
    """Selection rate, TPR and FPR of each group at the explored threshold(s), grouped bars, theme-neutral.

    Built without plotly's validation on a layout styled once (~1 ms instead of ~15 ms per slider move).

    Parameters
    ----------
    rates : pandas.DataFrame
        :func:`~fairgen_core.model_audit.group_rates` (index: group names).

    Returns
    -------
    plotly.graph_objects.Figure
        Styled by :func:`theme_neutral`, for ``st.plotly_chart(..., theme=None)`` (it is redrawn on every slider
        move).
    """
    names = list(THRESHOLD_RATES.values())
    bars = []
    for group, row in rates.iterrows():
        values = [float(row[rate]) for rate in THRESHOLD_RATES]
        label = wrap_label(group, 40)
        bars.append({"type": "bar", "x": names, "y": values, "name": label, "textposition": "outside",
                     "text": [f"{v:.1%}" if v == v else "—" for v in values], "cliponaxis": False,
                     "hovertemplate": f"{label}<br>%{{x}} %{{y:.3f}} (threshold {row['threshold']:g})<extra></extra>"})
    return go.Figure({"data": bars, "layout": copy.deepcopy(_rates_layout())}, _validate=False)


@cache
def _rates_layout() -> dict:
    """The layout of :func:`threshold_rates_figure`, validated and styled once."""
    figure = go.Figure()
    figure.update_layout(barmode="group", height=330, margin={"t": 40, "b": 30}, title="Per-group rates at the "
                         "threshold(s) above", legend={"orientation": "h", "y": -0.15})
    figure.update_yaxes(range=[0, 1.1], tickformat=".0%")
    return theme_neutral(figure).to_dict()["layout"]
