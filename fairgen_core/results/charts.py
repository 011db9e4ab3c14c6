"""Plotly figures of results tables: the paper's Fig. 2 (methods) and Fig. 3 (real:synthetic ratio), the Pareto view.

Every function takes the tidy layout written by :func:`~fairgen_core.classifier.sweep.ratio_sweep` and the
comparison methods (columns ``method``, ``ratio``, ``repetition``, ``metric``, ``value``), so the dashboard, the
experiment runner and the HTML report draw the same charts from the same numbers.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from fairgen_core.errors import FairGenError
from fairgen_core.model_audit import (
    COMPARED_METRICS,
    DIFFERENCE_METRICS,
    DISPARITY,
    FAIRGEN_RUN,
    INSUFFICIENT,
    WITHIN,
    YOUR_MODEL,
)
from fairgen_core.results.table import BASELINE, HIGHER_IS_BETTER, METRIC_TITLES, TRANSFER, has_direction, summarise

#: Curves of at most this many points are drawn with markers: a line through a single point is invisible.
MARKER_POINTS = 60
#: What each generator loss term of the training log measures (see ``fairgen_core.generator.training``).
LOSS_TITLES: dict[str, str] = {
    "self": "own-domain VAE: x decoded from z in its own domain, + KL",
    "like": "likelihood (reconstruction of x from z in the target domain)",
    "rec": "cycle reconstruction |x − x̂| (translated and back)",
    "prior": "prior KL (codes z against N(0, I))",
    "adv_g": "adversarial, generator side (fooling D)",
    "cls_g": "domain classifier D_cls on translations (target domain)",
    "cls_prior": "domain classifier D_cls on prior samples",
    "generator": "generator total (weighted sum of its terms)",
    "adv_d": "adversarial, discriminator side (real vs generated)",
    "cls_d": "domain classifier D_cls on real rows (own domain)",
    "discriminator": "discriminator total",
}
#: The narrowest y-axis of a trade-off panel: a narrower one makes split-to-split noise look like signal.
MIN_SPAN = 0.1
#: What a trade-off chart of a single repetition says about its missing bands.
ONE_REPETITION_NOTE = "1 repetition: no error bars (the ±1 std bands need 2 or more repetitions)"


def _metrics_present(summary: pd.DataFrame, metrics: Sequence[str]) -> list[str]:
    present = [m for m in metrics if m in set(summary["metric"])]
    if not present:
        raise FairGenError(f"none of the metrics {list(metrics)} is in the results table.")
    return present


def tradeoff_figure(table: pd.DataFrame, *, selected_ratio: float | None = None,
                    references: pd.DataFrame | None = None,
                    metrics: Sequence[str] = tuple(METRIC_TITLES)) -> go.Figure:
    """Fig. 3: every metric against the real share of the fine-tuning batches, with ±1 std bands.

    Gap and accuracy panels span at least :data:`MIN_SPAN` (gaps from 0, see :func:`axis_range`); a sweep of one
    repetition is titled :data:`ONE_REPETITION_NOTE`.

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
        x, mean = points["ratio"].to_numpy(), points["mean"].to_numpy()
        std = np.nan_to_num(points["std"].to_numpy())  # one repetition: no spread, the band collapses to the mean
        fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([mean + std, (mean - std)[::-1]]),
                                 fill="toself", fillcolor="rgba(99,110,250,0.18)", line={"width": 0},
                                 hoverinfo="skip", showlegend=False), row=row, col=col)
        fig.add_trace(go.Scatter(x=x.tolist(), y=mean.tolist(), mode="lines+markers", name="transfer (ours)",
                                 legendgroup=TRANSFER,
                                 showlegend=first, line={"color": palette[0]},
                                 hovertemplate="ratio %{x:.1f}: %{y:.3f}<extra>transfer</extra>"), row=row, col=col)
        lines = flat[flat["metric"] == metric]
        for number, (method, rows_of_method) in enumerate(lines.groupby("method", sort=False)):
            value = float(rows_of_method["mean"].iloc[0])
            colour = palette[1 + number % (len(palette) - 1)]
            fig.add_trace(go.Scatter(x=[0.0, 1.0], y=[value, value], mode="lines", name=str(method),
                                     legendgroup=str(method), showlegend=first,
                                     line={"dash": "dash", "color": colour},
                                     hovertemplate=f"{method}: %{{y:.3f}}<extra></extra>"), row=row, col=col)
        if has_direction(metric):
            shown = np.concatenate([mean - std, mean + std, lines["mean"].to_numpy()])
            fig.update_yaxes(range=axis_range(shown, from_zero=metric not in HIGHER_IS_BETTER), row=row, col=col)
    fig.update_xaxes(range=[-0.03, 1.03])
    for index in range(len(metrics)):  # the axis title only under the lowest panel of each column: none collides
        if index + columns >= len(metrics):  # with the title of the panel below it
            fig.update_xaxes(title_text="real share of fine-tuning batches", row=index // columns + 1,
                             col=index % columns + 1)
    fig.update_layout(height=330 * rows, margin={"t": 60, "b": 40, "l": 40, "r": 20},
                      legend={"orientation": "h", "y": -0.12})
    if len(sweep) and int(sweep["n"].max()) < 2:
        fig.update_layout(title={"text": ONE_REPETITION_NOTE, "x": 0.01, "font": {"size": 13}}, margin_t=90)
    if selected_ratio is None:
        return fig
    return go.Figure(with_selected_ratio(fig.to_dict(), selected_ratio))


def paired_ratio_figure(paired: pd.DataFrame, *, reference: str) -> go.Figure:
    """The transfer classifier's mean paired difference to ``reference`` at every ratio, with its 95% interval band.

    One panel per metric; the dotted line at 0 is "no difference": a ratio is fairer (or less fair, more or less
    accurate) only where its band lies entirely on one side of it, as the verdicts say.

    Parameters
    ----------
    paired : pandas.DataFrame
        :func:`~fairgen_core.metrics.paired.paired_differences` of a sweep against ``reference``.
    reference : str
        The method the differences are taken against, for the title.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    rows = paired[(paired["method"] == TRANSFER) & paired["n"].ge(2)].sort_values("ratio")
    metrics = _metrics_present(rows, list(METRIC_TITLES))
    columns = max(1, min(3, len(metrics)))
    figure = make_subplots(rows=max(1, int(np.ceil(len(metrics) / columns))), cols=columns,
                           subplot_titles=[f"Δ {METRIC_TITLES.get(m, m)}" for m in metrics],
                           horizontal_spacing=0.07, vertical_spacing=0.2)
    for index, metric in enumerate(metrics):
        row, col = index // columns + 1, index % columns + 1
        points = rows[rows["metric"] == metric]
        x, low, high = (points[c].to_numpy(dtype=float) for c in ("ratio", "ci_low", "ci_high"))
        figure.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([high, low[::-1]]),
                                    fill="toself", fillcolor="rgba(99,110,250,0.18)", line={"width": 0},
                                    hoverinfo="skip", showlegend=False), row=row, col=col)
        figure.add_trace(go.Scatter(
            x=x, y=points["difference"].to_numpy(dtype=float), mode=curve_mode(len(x)), showlegend=False,
            line={"color": "#636efa"}, customdata=np.column_stack([low, high, points["verdict"].to_numpy(object)]),
            hovertemplate="ratio %{x:.1f}: %{y:+.3f} [%{customdata[0]:+.3f}, %{customdata[1]:+.3f}]<br>"
                          "%{customdata[2]}<extra></extra>"), row=row, col=col)
        figure.add_hline(y=0.0, line={"color": "#808495", "dash": "dot", "width": 1}, row=row, col=col)
        if index + columns >= len(metrics):
            figure.update_xaxes(title_text="real share of fine-tuning batches", row=row, col=col)
    figure.update_xaxes(range=[-0.03, 1.03])
    figure.update_layout(height=300 * max(1, int(np.ceil(len(metrics) / columns))) + 40,
                         margin={"t": 70, "b": 40, "l": 40, "r": 20},
                         title={"text": f"Paired difference to {reference} per ratio: mean and 95% bootstrap "
                                        "interval over the repetitions (below 0 = smaller gap)", "font": {"size": 13}})
    return figure


def axis_range(values: np.ndarray, *, from_zero: bool, min_span: float = MIN_SPAN) -> list[float]:
    """A y-axis range for metrics on [0, 1] that shows ``values`` with a 5 % margin and spans at least ``min_span``.

    Parameters
    ----------
    values : numpy.ndarray
        The values drawn (NaN ignored).
    from_zero : bool
        Start at 0 (absolute gaps, where 0 is "no gap"); otherwise a too narrow range is widened around its
        middle, kept within [0, 1].
    min_span : float
        The narrowest range.

    Returns
    -------
    list of float
        ``[low, high]``.

    Examples
    --------
    >>> axis_range(np.array([0.086, 0.090]), from_zero=True)
    [0.0, 0.1]
    >>> [round(v, 3) for v in axis_range(np.array([0.70, 0.72]), from_zero=False)]
    [0.66, 0.76]
    >>> [round(v, 3) for v in axis_range(np.array([0.2, 0.4]), from_zero=True)]
    [0.0, 0.42]
    """
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    low = 0.0 if from_zero else low
    margin = 0.05 * (high - low)
    low, high = (low if from_zero else low - margin), high + margin
    if high - low >= min_span:
        return [low, high]
    if from_zero:
        return [0.0, min_span]
    middle = min(max((low + high) / 2, min_span / 2), 1 - min_span / 2)
    return [middle - min_span / 2, middle + min_span / 2]


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
    """Accuracy against one fairness gap per method (means, ±1 std error bars) with the Pareto front drawn.

    The front, the Baseline and ours are named beside their markers (:func:`label_positions`); every point is
    named in the legend and on hover.
    """
    summary = summarise(table)
    _metrics_present(summary, ["balanced_accuracy", unfairness])
    summary = summary.assign(label=np.where(summary["ratio"].notna(),
                                            summary["method"] + " r=" + summary["ratio"].round(2).astype(str),
                                            summary["method"]))
    wide = summary.pivot_table(index="label", columns="metric", values=["mean", "std"], sort=False, dropna=False)
    points = pd.DataFrame({"balanced_accuracy": wide[("mean", "balanced_accuracy")],
                           unfairness: wide[("mean", unfairness)],
                           "acc_std": wide[("std", "balanced_accuracy")], "gap_std": wide[("std", unfairness)]})
    points["front"] = pareto_front(points, unfairness=unfairness)
    front = points[points["front"]].sort_values(unfairness)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=front[unfairness], y=front["balanced_accuracy"], mode="lines", name="Pareto front",
                             line={"dash": "dot", "color": "grey"}, hoverinfo="skip"))
    positions = label_positions(points, unfairness)
    for label, point in points.iterrows():
        position = positions[label]
        fig.add_trace(go.Scatter(
            x=[point[unfairness]], y=[point["balanced_accuracy"]], name=str(label),
            mode="markers" if position is None else "markers+text",
            text=None if position is None else [str(label)], textposition=position,
            marker={"size": 12, "symbol": "star" if str(label).startswith(TRANSFER) else "circle"},
            error_x={"type": "data", "array": [point["gap_std"]]},
            error_y={"type": "data", "array": [point["acc_std"]]},
            hovertemplate=f"{label}<br>gap %{{x:.3f}}<br>balanced accuracy %{{y:.3f}}<extra></extra>"))
    fig.update_layout(height=460, margin={"t": 30}, xaxis_title=METRIC_TITLES.get(unfairness, unfairness),
                      yaxis_title=METRIC_TITLES["balanced_accuracy"])
    return fig


def label_positions(points: pd.DataFrame, unfairness: str) -> pd.Series:
    """Where each point of :func:`pareto_figure` writes its name: only the Pareto front, the Baseline and ours.

    Labelled points alternate above and below their marker from left to right, so neighbours do not overlap;
    the others (None) are named in the legend and on hover.

    Parameters
    ----------
    points : pandas.DataFrame
        One row per method (index: its label) with the ``unfairness`` column and a boolean ``front``.
    unfairness : str
        The fairness gap on the x axis.

    Returns
    -------
    pandas.Series
        ``"top center"``, ``"bottom center"`` or None per point.

    Examples
    --------
    >>> p = pd.DataFrame({"gap": [0.3, 0.1, 0.2, 0.4], "front": [False, True, True, False]},
    ...                  index=["baseline", "a", "b", "c"])
    >>> label_positions(p, "gap").tolist()
    ['top center', 'top center', 'bottom center', None]
    """
    labels = points.index.astype(str)
    labelled = points["front"].to_numpy(bool) | (labels == BASELINE) | labels.str.startswith(TRANSFER)
    order = points[labelled].sort_values(unfairness).index
    chosen = {label: "top center" if i % 2 == 0 else "bottom center" for i, label in enumerate(order)}
    return pd.Series([chosen.get(label) for label in points.index], index=points.index, dtype=object)


def wrap_label(text: object, width: int = 18) -> str:
    """``text`` HTML-escaped for plotly and broken into lines of at most ``width`` characters with ``<br>``.

    Lines break at spaces and hyphens (a longer word is cut), so long tick labels and titles keep their
    chart's margins instead of overlapping their neighbours.

    Examples
    --------
    >>> wrap_label("default-payment-next-month=1", width=16)
    'default-payment-<br>next-month=1'
    >>> wrap_label("income=<=50K")
    'income=&lt;=50K'
    """
    lines = textwrap.wrap(str(text), width) or [str(text)]
    return "<br>".join(html.escape(line, quote=False) for line in lines)


def curve_mode(points: int) -> str:
    """Plotly ``mode`` of a curve of ``points`` points: markers up to :data:`MARKER_POINTS`, so one point shows.

    Examples
    --------
    >>> curve_mode(1), curve_mode(500)
    ('lines+markers', 'lines')
    """
    return "lines+markers" if points <= MARKER_POINTS else "lines"


def loss_figure(frame: pd.DataFrame, x: str, title: str, *, columns: int = 4) -> go.Figure:
    """One small panel per generator loss term (their scales differ by orders of magnitude), titled in words.

    Parameters
    ----------
    frame : pandas.DataFrame
        Column ``x`` and one column per loss term of the training log (names as in :data:`LOSS_TITLES`).
    x : str
        The x column and axis title, e.g. ``"epoch"`` or ``"step"``.
    title : str
        The figure's title.
    columns : int
        Panels per row.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    terms = [column for column in frame.columns if column != x]
    rows = max(1, -(-len(terms) // columns))
    panel, gap = 150, 110  # pixels: a panel, and between rows its x axis title and the next row's titles
    area = rows * panel + (rows - 1) * gap
    titles = [wrap_label(f"{LOSS_TITLES.get(term, term)} ({term})", 34) for term in terms]
    figure = make_subplots(rows=rows, cols=columns, subplot_titles=titles, vertical_spacing=gap / area,
                           horizontal_spacing=0.07)
    mode = curve_mode(len(frame))
    for i, term in enumerate(terms):
        figure.add_trace(go.Scatter(x=frame[x], y=frame[term], mode=mode, name=term, showlegend=False,
                                    hovertemplate=f"{x} %{{x}}: %{{y:.4g}}<extra>{html.escape(term)}</extra>"),
                         row=i // columns + 1, col=i % columns + 1)
    figure.update_annotations(font_size=12)
    figure.update_xaxes(title_text=x, title_standoff=4)
    figure.update_yaxes(title_text="loss", title_standoff=4)
    figure.update_layout(title=title, height=area + 160, margin={"t": 110, "b": 50})
    return figure


# -- the audit of the user's own model (fairgen_core.model_audit) ---------------------------------------------
#: Colour of each verdict of :data:`fairgen_core.model_audit.VERDICTS`, readable on light and dark backgrounds.
VERDICT_COLOURS = {WITHIN: "#2da44e", DISPARITY: "#cf222e", INSUFFICIENT: "#bf8700"}


def difference_intervals_figure(differences: pd.DataFrame, *, confidence: float = 0.95) -> go.Figure:
    """Each difference of a model audit with its bootstrap interval, its tolerance and its verdict's colour.

    Two panels: the four differences (0 is parity, the tolerance at ±t) and disparate impact (1 is parity, the
    four-fifths band from t to 1/t). Undefined or infinite values are left out of the plot.

    Parameters
    ----------
    differences : pandas.DataFrame
        :attr:`ModelAudit.differences <fairgen_core.model_audit.ModelAudit>`.
    confidence : float
        Coverage of the intervals, for the hover text.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    figure = make_subplots(rows=1, cols=2, column_widths=[0.68, 0.32], horizontal_spacing=0.14,
                           subplot_titles=("difference (unprivileged − privileged)", "disparate impact (ratio)"))
    ratio = differences["metric"] == "disparate_impact"
    for column, rows, parity in ((1, differences[~ratio], 0.0), (2, differences[ratio], 1.0)):
        labels = [wrap_label(DIFFERENCE_METRICS.get(m, m).split(" (")[0], 22) for m in rows["metric"]]
        value, low, high = (rows[c].to_numpy(dtype=float) for c in ("value", "ci_low", "ci_high"))
        shown = np.isfinite(value)
        value = np.where(shown, value, np.nan)
        figure.add_trace(go.Scatter(
            x=value, y=labels, mode="markers", showlegend=False,
            marker={"size": 11, "color": [VERDICT_COLOURS.get(v, "#808495") for v in rows["verdict"]]},
            error_x={"type": "data", "symmetric": False, "thickness": 2, "color": "#808495",
                     "array": np.where(np.isfinite(high), high - value, np.nan),
                     "arrayminus": np.where(np.isfinite(low), value - low, np.nan)},
            customdata=np.column_stack([low, high, rows["verdict"].to_numpy(dtype=object)]),
            hovertemplate=f"%{{y}}: %{{x:.3f}}<br>{confidence:.0%} interval %{{customdata[0]:.3f}} to "
                          "%{customdata[1]:.3f}<br>%{customdata[2]}<extra></extra>"), row=1, col=column)
        tolerance = rows["tolerance"].to_numpy(dtype=float)
        bounds = (tolerance, 1 / tolerance) if parity else (-tolerance, tolerance)
        figure.add_trace(go.Scatter(
            x=np.concatenate(bounds), y=labels * 2, mode="markers", showlegend=False, hoverinfo="skip",
            marker={"symbol": "line-ns-open", "size": 18, "color": "#808495", "line": {"width": 2}}),
            row=1, col=column)
        figure.add_vline(x=parity, line={"color": "#808495", "dash": "dot", "width": 1}, row=1, col=column)
    figure.update_yaxes(automargin=True, autorange="reversed")
    figure.update_layout(height=320, margin={"t": 50, "b": 30},
                         title={"text": "Grey ticks: tolerance · colour: verdict (green within tolerance, red "
                                        "disparity, amber insufficient evidence)", "font": {"size": 12}})
    return figure


def reliability_figure(calibration: pd.DataFrame) -> go.Figure:
    """The reliability curve of each group: observed favourable rate against mean score, per score bin.

    Parameters
    ----------
    calibration : pandas.DataFrame
        :attr:`ModelAudit.calibration <fairgen_core.model_audit.ModelAudit>` (``group``, ``mean_score``,
        ``observed_rate``, ``n`` per non-empty bin).

    Returns
    -------
    plotly.graph_objects.Figure
        One line per group and the diagonal of perfect calibration.
    """
    figure = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                                  line={"color": "#808495", "dash": "dot"}, hoverinfo="skip"))
    for group, rows in calibration.groupby("group", sort=False):
        name = html.escape(str(group), quote=False)
        figure.add_trace(go.Scatter(
            x=rows["mean_score"], y=rows["observed_rate"], mode="lines+markers", name=name, customdata=rows["n"],
            hovertemplate=f"{name}<br>mean score %{{x:.3f}}<br>observed rate %{{y:.3f}}<br>%{{customdata:,}} rows"
                          "<extra></extra>"))
    figure.update_layout(height=380, margin={"t": 50, "b": 40}, title="Reliability curve per group",
                         xaxis_title="mean score in the bin", yaxis_title="observed favourable rate",
                         legend={"orientation": "h", "y": -0.2})
    figure.update_xaxes(range=[0, 1])
    figure.update_yaxes(range=[0, 1])
    return figure


#: Colour of each source of a model comparison (:func:`model_comparison_figure`).
SOURCE_COLOURS = {YOUR_MODEL: "#8250df", FAIRGEN_RUN: "#0969da"}


def model_comparison_figure(table: pd.DataFrame, *, confidence: float = 0.95) -> go.Figure:
    """The user's model(s) next to a run's methods: each metric's value with its interval, one panel per metric.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`~fairgen_core.model_audit.compare.comparison_table`: the user's models (interval: bootstrap over the
        test rows) and the run's methods (mean over repetitions; interval: Student-t over repetitions, none for a
        single repetition).
    confidence : float
        Coverage of the intervals, for the hover text.

    Returns
    -------
    plotly.graph_objects.Figure
        A panel per metric of :data:`~fairgen_core.model_audit.compare.COMPARED_METRICS` titled with its better
        direction, a row per model or method (the user's first), a dot per value and a bar per interval.
    """
    figure = make_subplots(rows=1, cols=len(COMPARED_METRICS), shared_yaxes=True, horizontal_spacing=0.05,
                           subplot_titles=[METRIC_TITLES[m] for m in COMPARED_METRICS])
    labels = [wrap_label(f"{method} (your model)" if source == YOUR_MODEL else method, 28)
              for method, source in zip(table["method"], table["source"])]
    table = table.assign(label=labels)
    for column, metric in enumerate(COMPARED_METRICS, start=1):
        for source, colour in SOURCE_COLOURS.items():
            rows = table[(table["metric"] == metric) & (table["source"] == source)]
            value, low, high = (rows[c].to_numpy(dtype=float) for c in ("value", "ci_low", "ci_high"))
            unit = "test rows" if source == YOUR_MODEL else "repetitions"
            hover = [f"{html.escape(str(m), quote=False)}: {v:.3f}<br>" + (
                f"{confidence:.0%} interval {lo:.3f} to {hi:.3f}" if np.isfinite(lo) and np.isfinite(hi)
                else "no interval") + f"<br>{n:,} {unit}"
                for m, v, lo, hi, n in zip(rows["method"], value, low, high, rows["n"])]
            figure.add_trace(go.Scatter(
                x=value, y=rows["label"], mode="markers", name=source, legendgroup=source, showlegend=column == 1,
                marker={"size": 11, "color": colour},
                error_x={"type": "data", "symmetric": False, "thickness": 2, "color": colour,
                         "array": np.where(np.isfinite(high), high - value, np.nan),
                         "arrayminus": np.where(np.isfinite(low), value - low, np.nan)},
                text=hover, hovertemplate="%{text}<extra></extra>"), row=1, col=column)
    figure.update_yaxes(automargin=True, autorange="reversed", categoryorder="array",
                        categoryarray=list(dict.fromkeys(labels)))
    figure.update_layout(height=140 + 30 * len(set(labels)), margin={"t": 50, "b": 30},
                         legend={"orientation": "h", "y": -0.15})
    return figure


# -- the generator and its synthetic rows -------------------------------------------------------------------
def fid_curve_figure(progress: Sequence[dict]) -> go.Figure:
    """The validation Fréchet distance per evaluated epoch and the best so far, from a run's progress entries."""
    scored = pd.DataFrame([{"epoch": p["epoch"], "validation FID": p["val_fid"], "best so far": p["best_fid"]}
                           for p in progress if p.get("val_fid") is not None])
    figure = go.Figure([go.Scatter(x=scored["epoch"], y=scored[name], mode=curve_mode(len(scored)), name=name)
                        for name in ("validation FID", "best so far")] if len(scored) else [])
    figure.update_layout(title="Validation Fréchet distance (lower is better)", height=320, xaxis_title="epoch",
                         yaxis_title="FID")
    return figure


def translation_curve_figure(progress: Sequence[dict]) -> go.Figure:
    """The validation translation fidelity per evaluated epoch, with the real rows' level (1) marked."""
    scored = pd.DataFrame([{"epoch": p["epoch"], "fidelity": p["val_translation"]}
                           for p in progress if p.get("val_translation") is not None])
    figure = go.Figure(go.Scatter(x=scored["epoch"] if len(scored) else [], y=scored["fidelity"] if len(scored)
                                  else [], mode=curve_mode(len(scored)), name="translation fidelity"))
    figure.add_hline(y=1.0, line_dash="dot", annotation_text="as recognisable as real rows")
    figure.update_layout(title="Validation translation fidelity (higher is better): counterfactual translations in "
                         "their target domain ÷ real rows in their own", height=320, xaxis_title="epoch",
                         yaxis_title="ratio")
    return figure


def domain_fid_figure(per_domain: pd.DataFrame, *, flagged: str | None = None) -> go.Figure:
    """Per-domain FID of the synthetic rows next to each domain's real+noise baseline (grouped bars).

    Parameters
    ----------
    per_domain : pandas.DataFrame
        :attr:`QualityReport.per_domain <fairgen_core.metrics.quality.QualityReport>`.
    flagged : str, optional
        A domain to mark (e.g. the smallest), labelled "smallest domain".
    """
    names = [html.escape(str(d)) for d in per_domain["domain"]]
    figure = go.Figure([
        go.Bar(x=names, y=per_domain["fid"], name="synthetic vs real (FID)", marker_color="#0969da",
               hovertemplate="%{x}: FID %{y:.3f}<extra></extra>"),
        go.Bar(x=names, y=per_domain["noise_baseline"], name="real vs real + noise (baseline)",
               marker_color="#afb8c1", hovertemplate="%{x}: baseline %{y:.3f}<extra></extra>"),
    ])
    if flagged is not None and flagged in set(per_domain["domain"]):
        row = per_domain[per_domain["domain"] == flagged].iloc[0]
        top = np.nanmax([row["fid"], row["noise_baseline"], 0.0])
        figure.add_annotation(x=html.escape(str(flagged)), y=top, text="smallest domain", showarrow=True,
                              arrowhead=2, ay=-30, font={"color": "#bc4c00"})
    figure.update_layout(barmode="group", height=360, margin={"t": 40, "b": 40}, yaxis_title="FID (lower is closer)",
                         legend={"orientation": "h", "y": 1.12})
    return figure


def marginals_figure(marginals: pd.DataFrame, *, top: int = 20) -> go.Figure:
    """The ``top`` largest per-column marginal distances (KS for numeric, TV for categorical columns).

    Long column names are wrapped and the left margin grows to fit them (plotly's ``automargin``).
    """
    shown = marginals.sort_values("value", ascending=False).head(top).iloc[::-1]
    labels = [wrap_label(f"{c} ({s})", 30) for c, s in zip(shown["column"], shown["statistic"])]
    lines = sum(label.count("<br>") + 1 for label in labels)
    figure = go.Figure(go.Bar(x=shown["value"], y=labels, orientation="h", marker_color="#0969da",
                              hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    figure.update_layout(height=max(260, 22 * lines + 80), margin={"t": 30, "b": 40},
                         xaxis_title="distance between real and synthetic marginals (0 = same)", xaxis_range=[0, 1])
    figure.update_yaxes(automargin=True, ticksuffix=" ")
    return figure


#: The most categories :func:`distribution_figure` draws (the real rows' most frequent ones).
MAX_CATEGORIES = 30


def distribution_figure(real: pd.Series, synthetic: pd.Series, *, numeric: bool) -> go.Figure:
    """Real (test) against synthetic values of one column: overlaid histograms or category shares."""
    if numeric:
        figure = go.Figure([go.Histogram(x=values, name=name, histnorm="probability", opacity=0.6,
                                         nbinsx=30, bingroup="1")
                            for name, values in (("real (test)", real), ("synthetic", synthetic))])
        figure.update_layout(barmode="overlay")
    else:
        shares = pd.DataFrame({"real (test)": real.astype(str).value_counts(normalize=True),
                               "synthetic": synthetic.astype(str).value_counts(normalize=True)}).fillna(0.0)
        shares = shares.sort_values("real (test)", ascending=False).head(MAX_CATEGORIES)
        figure = go.Figure([go.Bar(x=shares.index, y=shares[name], name=name) for name in shares.columns])
        figure.update_layout(barmode="group")
    figure.update_layout(height=360, margin={"t": 30, "b": 40}, xaxis_title=str(real.name),
                         yaxis_title="share of rows", yaxis_tickformat=".0%", legend={"orientation": "h", "y": 1.12})
    return figure


def correlation_gaps_figure(gaps: pd.DataFrame) -> go.Figure:
    """Heat map of the largest |correlation difference| (real vs synthetic) per pair of columns, on [0, 1]."""
    figure = go.Figure(go.Heatmap(z=gaps.to_numpy(), x=[str(c) for c in gaps.columns], y=[str(i) for i in gaps.index],
                                  zmin=0.0, zmax=1.0, colorscale="Reds", colorbar={"title": "|Δ correlation|"}))
    figure.update_layout(height=max(360, 22 * len(gaps) + 120), margin={"t": 30}, yaxis_autorange="reversed")
    return figure


#: The per-domain scores of :func:`domain_scores_figure`: column of the table and legend label.
DOMAIN_SCORES = {"shape": "column shapes", "trend": "column-pair trends", "detection": "detection"}


def domain_scores_figure(per_domain: pd.DataFrame, *, flagged: str | None = None) -> go.Figure:
    """Per-domain column-shape, column-pair-trend and detection scores (grouped bars, 0–1, higher is better);
    a score with ``<score>_low`` / ``<score>_high`` columns (detection's interval) gets error bars.

    Parameters
    ----------
    per_domain : pandas.DataFrame
        :attr:`FidelityReport.per_domain <fairgen_core.metrics.fidelity.FidelityReport>`.
    flagged : str, optional
        A domain to mark (the weakest), labelled "weakest domain".
    """
    names = [html.escape(str(d)) for d in per_domain["domain"]]
    colours = ("#0969da", "#8250df", "#bf8700")
    def interval(column: str) -> dict[str, object] | None:
        if f"{column}_low" not in per_domain or f"{column}_high" not in per_domain:
            return None
        return {"type": "data", "array": per_domain[f"{column}_high"] - per_domain[column],
                "arrayminus": per_domain[column] - per_domain[f"{column}_low"], "color": "#57606a", "thickness": 1.5}

    figure = go.Figure([go.Bar(x=names, y=per_domain[column], name=label, marker_color=colour,
                               error_y=interval(column), hovertemplate=f"%{{x}}: {label} %{{y:.3f}}<extra></extra>")
                        for (column, label), colour in zip(DOMAIN_SCORES.items(), colours)])
    if flagged is not None and flagged in set(per_domain["domain"]):
        figure.add_annotation(x=html.escape(str(flagged)), y=1.0, text="weakest domain", showarrow=True,
                              arrowhead=2, ay=-30, font={"color": "#bc4c00"})
    figure.update_layout(barmode="group", height=400, margin={"t": 50, "b": 90},  # the legend below the bars: the
                         yaxis={"title": "score (1 = like the real rows)", "range": [0, 1.05]},  # mark's label above
                         legend={"orientation": "h", "y": -0.18, "yanchor": "top"})
    return figure
