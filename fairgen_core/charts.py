"""Plotly figures of results tables: the paper's Fig. 2 (methods) and Fig. 3 (real:synthetic ratio), the Pareto view.

Every function takes the tidy layout written by :func:`~fairgen_core.classifier.sweep.ratio_sweep` and the
comparison methods (columns ``method``, ``ratio``, ``repetition``, ``metric``, ``value``), so the dashboard, the
experiment runner and the HTML report draw the same charts from the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from fairgen_core.errors import FairGenError

METRIC_TITLES: dict[str, str] = {
    "balanced_accuracy": "Balanced accuracy ↑",
    "abs_equal_opportunity_difference": "|Equal opportunity diff.| ↓",
    "average_abs_odds_difference": "|Average odds diff.| ↓",
    "abs_balanced_accuracy_difference": "|Balanced accuracy diff.| ↓",
    "abs_statistical_parity_difference": "|Statistical parity diff.| ↓",
}
FAIRNESS_METRICS: tuple[str, ...] = tuple(m for m in METRIC_TITLES if m != "balanced_accuracy")
TRANSFER, NO_TL = "transfer", "no TL"
_REQUIRED = ("method", "ratio", "metric", "value")


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, sample standard deviation and count of every (method, ratio, metric) over repetitions.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy results with columns ``method``, ``ratio`` (NaN where it does not apply), ``metric``, ``value``.

    Returns
    -------
    pandas.DataFrame
        Columns ``method``, ``ratio``, ``metric``, ``mean``, ``std`` (0 for a single repetition) and ``n``;
        ``selection`` first when the table has that column (each rule is summarised on its own).

    Raises
    ------
    FairGenError
        If a required column is missing.

    Examples
    --------
    >>> t = pd.DataFrame({"method": ["a", "a"], "ratio": [0.5, 0.5], "metric": ["m", "m"], "value": [1.0, 3.0]})
    >>> summarise(t)[["mean", "n"]].values.tolist()
    [[2.0, 2.0]]
    """
    missing = [c for c in _REQUIRED if c not in table.columns]
    if missing:
        raise FairGenError(f"the results table lacks column(s) {missing}: it needs {list(_REQUIRED)}.")
    values = table.dropna(subset=["value"]).assign(ratio=lambda t: t["ratio"].fillna(-1.0))
    keys = [*(["selection"] if "selection" in table.columns else []), "method", "ratio", "metric"]
    grouped = values.groupby(keys, sort=False)["value"]
    summary = grouped.agg(["mean", "std", "count"]).reset_index().rename(columns={"count": "n"})
    summary["std"] = summary["std"].fillna(0.0)
    summary["ratio"] = summary["ratio"].where(summary["ratio"] >= 0)
    return summary


def _metrics_present(summary: pd.DataFrame, metrics: Sequence[str]) -> list[str]:
    present = [m for m in metrics if m in set(summary["metric"])]
    if not present:
        raise FairGenError(f"none of the metrics {list(metrics)} is in the results table.")
    return present


def tradeoff_figure(table: pd.DataFrame, *, selected_ratio: float | None = None,
                    references: pd.DataFrame | None = None,
                    metrics: Sequence[str] = tuple(METRIC_TITLES)) -> go.Figure:
    """Fig. 3: every metric against the real share of the fine-tuning batches, with ±1 std bands.

    Parameters
    ----------
    table : pandas.DataFrame
        A ratio sweep (``method`` "transfer" per ratio and "no TL" with NaN ratio).
    selected_ratio : float, optional
        Marked with a vertical line and a highlighted point (the dashboard slider's value).
    references : pandas.DataFrame, optional
        Comparison-method results (e.g. the "baseline" row) drawn as dashed horizontal lines.
    metrics : sequence of str
        Panels, in order.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    summary = summarise(table)
    metrics = _metrics_present(summary, metrics)
    sweep = summary[summary["method"] == TRANSFER].sort_values("ratio")
    flat = summary[summary["method"] != TRANSFER]
    if references is not None:
        flat = pd.concat([flat, summarise(references)], ignore_index=True)
    columns = min(3, len(metrics))
    rows = int(np.ceil(len(metrics) / columns))
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=[METRIC_TITLES.get(m, m) for m in metrics],
                        horizontal_spacing=0.07, vertical_spacing=0.16)
    palette = ["#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692"]
    for index, metric in enumerate(metrics):
        row, col = index // columns + 1, index % columns + 1
        first = index == 0
        points = sweep[sweep["metric"] == metric]
        x, mean, std = points["ratio"].to_numpy(), points["mean"].to_numpy(), points["std"].to_numpy()
        fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([mean + std, (mean - std)[::-1]]),
                                 fill="toself", fillcolor="rgba(99,110,250,0.18)", line={"width": 0},
                                 hoverinfo="skip", showlegend=False), row=row, col=col)
        fig.add_trace(go.Scatter(x=x.tolist(), y=mean.tolist(), mode="lines+markers", name="transfer (ours)",
                                 legendgroup=TRANSFER,
                                 showlegend=first, line={"color": palette[0]},
                                 hovertemplate="ratio %{x:.1f}: %{y:.3f}<extra>transfer</extra>"), row=row, col=col)
        for number, (method, rows_of_method) in enumerate(flat[flat["metric"] == metric].groupby("method", sort=False)):
            value = float(rows_of_method["mean"].iloc[0])
            colour = palette[1 + number % (len(palette) - 1)]
            fig.add_trace(go.Scatter(x=[0.0, 1.0], y=[value, value], mode="lines", name=str(method),
                                     legendgroup=str(method), showlegend=first,
                                     line={"dash": "dash", "color": colour},
                                     hovertemplate=f"{method}: %{{y:.3f}}<extra></extra>"), row=row, col=col)
    fig.update_xaxes(title_text="real share of fine-tuning batches", range=[-0.03, 1.03])
    fig.update_layout(height=330 * rows, margin={"t": 60, "b": 40, "l": 40, "r": 20},
                      legend={"orientation": "h", "y": -0.12})
    if selected_ratio is None:
        return fig
    return go.Figure(with_selected_ratio(fig.to_dict(), selected_ratio))


def with_selected_ratio(figure: dict, ratio: float) -> dict:
    """A copy of a :func:`tradeoff_figure` (as a dict) with ``ratio`` marked in every panel.

    Marks the nearest swept ratio with a dotted vertical line and a highlighted point. Working on the
    figure's dictionary costs a few milliseconds, so the dashboard builds the chart once and only re-marks
    it when the slider moves.
    """
    data, shapes = list(figure["data"]), list(figure.get("layout", {}).get("shapes", ()))
    for trace in figure["data"]:
        if trace.get("legendgroup") != TRANSFER or not len(trace.get("x", ())):
            continue
        x, y = np.asarray(trace["x"], dtype=float), np.asarray(trace["y"], dtype=float)
        nearest = int(np.argmin(np.abs(x - ratio)))
        xaxis, yaxis = trace.get("xaxis", "x"), trace.get("yaxis", "y")
        data.append({"type": "scatter", "x": [x[nearest]], "y": [y[nearest]], "mode": "markers", "xaxis": xaxis,
                     "yaxis": yaxis, "showlegend": False, "hovertemplate": "selected %{x:.1f}: %{y:.3f}<extra></extra>",
                     "marker": {"size": 13, "color": trace.get("line", {}).get("color"),
                                "line": {"width": 2, "color": "white"}}})
        shapes.append({"type": "line", "x0": x[nearest], "x1": x[nearest], "y0": 0, "y1": 1, "xref": xaxis,
                       "yref": f"{yaxis} domain", "line": {"dash": "dot", "color": "grey"}})
    return {**figure, "data": data, "layout": {**figure.get("layout", {}), "shapes": shapes}}


def method_bars_figure(table: pd.DataFrame, *, metrics: Sequence[str] = tuple(METRIC_TITLES)) -> go.Figure:
    """Fig. 2: each method's mean metric (bars) with ±1 std over repetitions (error bars).

    Rows with a ratio (a sweep) are labelled ``"transfer r=0.5"`` so one ratio can stand beside the methods.
    """
    summary = summarise(table)
    metrics = _metrics_present(summary, metrics)
    summary = summary[summary["metric"].isin(metrics)].assign(
        label=lambda s: np.where(s["ratio"].notna(), s["method"] + " r=" + s["ratio"].round(2).astype(str),
                                 s["method"]))
    fig = go.Figure()
    for label, rows in summary.groupby("label", sort=False):
        rows = rows.set_index("metric").reindex(metrics)
        fig.add_trace(go.Bar(x=[METRIC_TITLES.get(m, m) for m in metrics], y=rows["mean"], name=str(label),
                             error_y={"type": "data", "array": rows["std"], "visible": True},
                             hovertemplate="%{x}: %{y:.3f}<extra>" + str(label) + "</extra>"))
    fig.update_layout(barmode="group", height=420, margin={"t": 30, "b": 40}, yaxis_title="value",
                      legend={"orientation": "h", "y": -0.18})
    return fig


def pareto_front(points: pd.DataFrame, *, accuracy: str = "balanced_accuracy", unfairness: str) -> pd.Series:
    """Which points no other point beats on both higher ``accuracy`` and lower ``unfairness``.

    Examples
    --------
    >>> p = pd.DataFrame({"balanced_accuracy": [0.8, 0.7, 0.6], "gap": [0.2, 0.1, 0.15]})
    >>> pareto_front(p, unfairness="gap").tolist()
    [True, True, False]
    """
    acc, gap = points[accuracy].to_numpy(), points[unfairness].to_numpy()
    dominated = [bool(np.any((acc >= a) & (gap <= g) & ((acc > a) | (gap < g)))) for a, g in zip(acc, gap)]
    return pd.Series(~np.array(dominated, dtype=bool), index=points.index)


def pareto_figure(table: pd.DataFrame, *, unfairness: str = "abs_equal_opportunity_difference") -> go.Figure:
    """Accuracy against one fairness gap per method (means, ±1 std error bars) with the Pareto front drawn."""
    summary = summarise(table)
    _metrics_present(summary, ["balanced_accuracy", unfairness])
    summary = summary.assign(label=np.where(summary["ratio"].notna(),
                                            summary["method"] + " r=" + summary["ratio"].round(2).astype(str),
                                            summary["method"]))
    wide = summary.pivot_table(index="label", columns="metric", values=["mean", "std"], sort=False)
    points = pd.DataFrame({"balanced_accuracy": wide[("mean", "balanced_accuracy")],
                           unfairness: wide[("mean", unfairness)],
                           "acc_std": wide[("std", "balanced_accuracy")], "gap_std": wide[("std", unfairness)]})
    points["front"] = pareto_front(points, unfairness=unfairness)
    front = points[points["front"]].sort_values(unfairness)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=front[unfairness], y=front["balanced_accuracy"], mode="lines", name="Pareto front",
                             line={"dash": "dot", "color": "grey"}, hoverinfo="skip"))
    for label, point in points.iterrows():
        fig.add_trace(go.Scatter(
            x=[point[unfairness]], y=[point["balanced_accuracy"]], mode="markers+text", name=str(label),
            text=[str(label)], textposition="top center", showlegend=False,
            marker={"size": 12, "symbol": "star" if str(label).startswith(TRANSFER) else "circle"},
            error_x={"type": "data", "array": [point["gap_std"]]},
            error_y={"type": "data", "array": [point["acc_std"]]},
            hovertemplate=f"{label}<br>gap %{{x:.3f}}<br>balanced accuracy %{{y:.3f}}<extra></extra>"))
    fig.update_layout(height=460, margin={"t": 30}, xaxis_title=METRIC_TITLES.get(unfairness, unfairness),
                      yaxis_title=METRIC_TITLES["balanced_accuracy"])
    return fig
