"""Group fairness of a binary classifier: per-group confusion tables, gaps between groups, uncertainty.

* :func:`group_confusion` — one row per group: counts, TPR/FPR/TNR/FNR, selection and base rates,
  accuracy and balanced accuracy ``(TPR + TNR) / 2``.
* :func:`fairness_report` — like fairlearn's ``MetricFrame``: overall metrics, the per-group table and
  the differences between groups. With two groups the signed differences (unprivileged − privileged)
  equal aif360's ``ClassificationMetric`` methods of the same names; the paper's absolute metrics
  (|EqOpp|, average absolute odds, |balanced-accuracy difference|, |statistical parity difference|) are
  reported for any number of groups as the largest gap between any two groups (DESIGN.md §3).
* :func:`bootstrap_intervals` — percentile bootstrap intervals for the absolute metrics and the
  balanced accuracy (mean ± std over repeated runs: :func:`fairgen_core.results.table.summarise`).

Labels and predictions are binary with 1 the favourable outcome; groups are the intersectional group
indices of :func:`fairgen_core.data.spec.assign_domains` (the last group is privileged on every
attribute). A rate whose denominator is zero (e.g. the TPR of a group without positive labels) is NaN,
and every metric built on it is NaN too.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from fairgen_core.errors import FairGenError

#: Columns of :func:`group_confusion`.
CONFUSION_COLUMNS = (
    "tp", "fp", "tn", "fn", "n", "tpr", "fpr", "tnr", "fnr", "selection_rate", "base_rate", "accuracy",
    "balanced_accuracy",
)
#: Per-group metrics whose largest gap between two groups is reported (plus ``average_abs_odds``).
GAP_METRICS = ("tpr", "fpr", "selection_rate", "balanced_accuracy", "average_abs_odds")
#: The paper's absolute fairness metrics and the gap each one is.
ABSOLUTE_METRICS: Mapping[str, str] = MappingProxyType({
    "abs_equal_opportunity_difference": "tpr",
    "average_abs_odds_difference": "average_abs_odds",
    "abs_balanced_accuracy_difference": "balanced_accuracy",
    "abs_statistical_parity_difference": "selection_rate",
})
#: Metrics given intervals by :func:`bootstrap_intervals`, in order.
BOOTSTRAP_METRICS = ("balanced_accuracy", *ABSOLUTE_METRICS)
#: Signed differences (unprivileged − privileged; two groups only) of :attr:`FairnessReport.differences`, in the
#: order of a results table (``disparate_impact``, a ratio, is left out).
SIGNED_METRICS: tuple[str, ...] = (
    "equal_opportunity_difference", "average_odds_difference", "balanced_accuracy_difference",
    "statistical_parity_difference",
)


@dataclass(frozen=True)
class Gap:
    """The largest absolute difference of one metric between two groups.

    Attributes
    ----------
    metric : str
        One of :data:`GAP_METRICS`.
    value : float
        The gap, ``>= 0``; NaN when fewer than two groups have the metric defined.
    group_a, group_b : str or None
        The two groups (in index order); None when ``value`` is NaN.
    """

    metric: str
    value: float
    group_a: str | None
    group_b: str | None


@dataclass(frozen=True)
class FairnessReport:
    """Fairness of binary predictions across groups (see :func:`fairness_report`).

    Attributes
    ----------
    overall : mapping
        ``balanced_accuracy``, ``accuracy``, ``tpr``, ``tnr`` and ``selection_rate`` over all rows.
    by_group : pandas.DataFrame
        The table of :func:`group_confusion`.
    differences : mapping
        With two groups, signed unprivileged − privileged values: ``equal_opportunity_difference``,
        ``average_odds_difference``, ``statistical_parity_difference``, ``disparate_impact`` (a ratio)
        and ``balanced_accuracy_difference``. Empty with more than two groups.
    absolute : mapping
        The paper's absolute metrics (:data:`ABSOLUTE_METRICS`): the largest gap between any two groups
        (with two groups, the absolute value of the difference).
    largest_gaps : mapping of str to Gap
        For each of :data:`GAP_METRICS`, the largest gap between two groups and which groups.
    privileged : str or None
        The privileged group of ``differences`` (None with more than two groups).
    unprivileged : str or None
        The unprivileged group of ``differences`` (None with more than two groups).
    """

    overall: Mapping[str, float]
    by_group: pd.DataFrame = field(compare=False)
    differences: Mapping[str, float]
    absolute: Mapping[str, float]
    largest_gaps: Mapping[str, Gap]
    privileged: str | None
    unprivileged: str | None

    def tidy(self) -> pd.DataFrame:
        """Headline metrics as a tidy table (columns ``metric``, ``value``): overall balanced accuracy,
        then the absolute metrics; several of these stacked feed :func:`fairgen_core.results.table.summarise`."""
        values = {"balanced_accuracy": self.overall["balanced_accuracy"], **self.absolute}
        return pd.DataFrame({"metric": list(values), "value": [float(v) for v in values.values()]})


# -- public functions ------------------------------------------------------------------------------
def group_confusion(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    groups: Sequence[int] | np.ndarray,
    group_names: Sequence[str],
) -> pd.DataFrame:
    """Confusion counts and rates of binary predictions per group.

    Parameters
    ----------
    y_true, y_pred : array-like of 0/1
        True labels and predictions (1 = favourable), one per row.
    groups : array-like of int
        Group index per row, ``0 .. len(group_names) - 1``.
    group_names : sequence of str
        Names of the groups, by index.

    Returns
    -------
    pandas.DataFrame
        One row per group (index: group name, in index order) with columns :data:`CONFUSION_COLUMNS`:
        counts ``tp, fp, tn, fn, n``; rates ``tpr, fpr, tnr, fnr``; ``selection_rate`` P(ŷ=1),
        ``base_rate`` P(y=1), ``accuracy`` and ``balanced_accuracy`` (TPR + TNR) / 2. Rates with a zero
        denominator are NaN.

    Raises
    ------
    FairGenError
        If the lengths differ, labels or predictions are not 0/1, or a group index is out of range.

    Examples
    --------
    >>> table = group_confusion([1, 1, 0, 0, 1, 0], [1, 0, 0, 1, 1, 1], [0, 0, 0, 0, 1, 1], ["a", "b"])
    >>> table[["tp", "fp", "tn", "fn", "tpr", "fpr"]]
           tp  fp  tn  fn  tpr  fpr
    group
    a       1   1   1   1  0.5  0.5
    b       1   1   0   0  1.0  1.0
    """
    y, p, g, names = _validate(y_true, y_pred, groups, group_names, min_groups=1)
    counts = cell_counts(y, p, g, len(names))
    rates = confusion_rates(counts)
    table = pd.DataFrame(
        {
            "tp": counts[:, 1, 1], "fp": counts[:, 0, 1], "tn": counts[:, 0, 0], "fn": counts[:, 1, 0],
            "n": counts.sum(axis=(1, 2)),
            **{column: rates[column] for column in CONFUSION_COLUMNS[5:]},
        },
        index=pd.Index(names, name="group"),
    )
    return table


def fairness_report(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    groups: Sequence[int] | np.ndarray,
    group_names: Sequence[str],
    *,
    privileged: int | None = None,
) -> FairnessReport:
    """Overall metrics, per-group metrics and differences between groups of binary predictions.

    Parameters
    ----------
    y_true, y_pred : array-like of 0/1
        True labels and predictions (1 = favourable), one per row.
    groups : array-like of int
        Group index per row, ``0 .. len(group_names) - 1``; at least two groups.
    group_names : sequence of str
        Names of the groups, by index.
    privileged : int, optional
        With two groups, the index of the privileged group (default: the last, which is the privileged
        one in FairGen's group numbering); the other is the unprivileged group. Not allowed with more
        than two groups, where no single pair is compared.

    Returns
    -------
    FairnessReport
        With two groups, ``differences`` holds the signed unprivileged − privileged differences
        (``disparate_impact`` is the ratio P(ŷ=1|u) / P(ŷ=1|p): NaN when both are 0, inf when only the
        privileged rate is 0), equal to aif360's ``ClassificationMetric``. ``absolute`` and
        ``largest_gaps`` hold the largest gaps between any two groups with defined values.

    Raises
    ------
    FairGenError
        On invalid inputs (see :func:`group_confusion`), fewer than two groups, or a bad ``privileged``.

    Examples
    --------
    >>> report = fairness_report([1, 1, 0, 0, 1, 1, 0, 0], [1, 0, 0, 0, 1, 1, 1, 0], [0, 0, 0, 0, 1, 1, 1, 1],
    ...                          ["female", "male"])
    >>> report.differences["equal_opportunity_difference"]  # TPR 0.5 (female) − 1.0 (male)
    -0.5
    >>> report.absolute["average_abs_odds_difference"]  # (|0.5 − 1.0| + |0.0 − 0.5|) / 2
    0.5
    >>> report.overall["balanced_accuracy"]
    0.75
    """
    y, p, g, names = _validate(y_true, y_pred, groups, group_names, min_groups=2)
    n_groups = len(names)
    if privileged is not None:
        if n_groups > 2:
            raise FairGenError(
                f"'privileged' applies to two groups, but there are {n_groups}: leave it unset to get the "
                "largest gaps between any two groups."
            )
        if isinstance(privileged, bool) or not isinstance(privileged, int | np.integer) or privileged not in (0, 1):
            raise FairGenError(f"'privileged' must be the group index 0 or 1, not {privileged!r}.")
    counts = cell_counts(y, p, g, n_groups)
    by_group = group_confusion(y, p, g, names)
    rates = confusion_rates(counts)
    overall_rates = confusion_rates(counts.sum(axis=0, keepdims=True))
    overall = {
        "balanced_accuracy": overall_rates["balanced_accuracy"][0],
        "accuracy": overall_rates["accuracy"][0],
        "tpr": overall_rates["tpr"][0],
        "tnr": overall_rates["tnr"][0],
        "selection_rate": overall_rates["selection_rate"][0],
    }
    gap_values, gap_pairs = _largest_gaps(rates, n_groups)
    largest_gaps = {}
    for metric in GAP_METRICS:
        value = float(gap_values[metric])
        pair = gap_pairs[metric]
        largest_gaps[metric] = Gap(
            metric, value, *((names[pair[0]], names[pair[1]]) if not np.isnan(value) else (None, None))
        )
    absolute = {name: largest_gaps[metric].value for name, metric in ABSOLUTE_METRICS.items()}
    differences: dict[str, float] = {}
    priv_name = unpriv_name = None
    if n_groups == 2:
        pi = 1 if privileged is None else int(privileged)
        ui = 1 - pi
        priv_name, unpriv_name = names[pi], names[ui]
        tpr, fpr, sel, ba = (rates[k] for k in ("tpr", "fpr", "selection_rate", "balanced_accuracy"))
        differences = {
            "equal_opportunity_difference": float(tpr[ui] - tpr[pi]),
            "average_odds_difference": float(((fpr[ui] - fpr[pi]) + (tpr[ui] - tpr[pi])) / 2),
            "statistical_parity_difference": float(sel[ui] - sel[pi]),
            "disparate_impact": _ratio_scalar(sel[ui], sel[pi]),
            "balanced_accuracy_difference": float(ba[ui] - ba[pi]),
        }
    return FairnessReport(
        overall=MappingProxyType({k: float(v) for k, v in overall.items()}),
        by_group=by_group,
        differences=MappingProxyType(differences),
        absolute=MappingProxyType(absolute),
        largest_gaps=MappingProxyType(largest_gaps),
        privileged=priv_name,
        unprivileged=unpriv_name,
    )


def bootstrap_intervals(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    groups: Sequence[int] | np.ndarray,
    group_names: Sequence[str],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Percentile bootstrap intervals for the balanced accuracy and the absolute fairness metrics.

    Parameters
    ----------
    y_true, y_pred, groups, group_names
        As for :func:`fairness_report` (at least two groups).
    n_boot : int
        Number of bootstrap resamples.
    seed : int
        Seed of the random generator; equal seeds give equal intervals.
    level : float
        Coverage of the intervals, in (0, 1).

    Returns
    -------
    pandas.DataFrame
        One row per metric of :data:`BOOTSTRAP_METRICS` (index ``metric``) with columns ``estimate``
        (the point estimate on all rows), ``lower``, ``upper`` and ``n_valid`` (resamples in which the
        metric was defined; the others are skipped). ``lower``/``upper`` are NaN when no resample defined
        the metric.

    Notes
    -----
    Rows are resampled with replacement; since every metric depends on the rows only through the counts
    of the (group, label, prediction) cells, each resample draws those counts directly from the
    multinomial distribution with the observed cell shares, which is the same distribution, vectorised.
    Absolute gaps are biased upwards in small samples, so when a true gap is near 0 the point estimate
    can fall below the percentile interval.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y, g = rng.integers(0, 2, 400), rng.integers(0, 2, 400)
    >>> ci = bootstrap_intervals(y, y, g, ["a", "b"], n_boot=200)
    >>> ci.loc["balanced_accuracy", ["estimate", "lower", "upper"]].tolist()
    [1.0, 1.0, 1.0]
    """
    y, p, g, names = _validate(y_true, y_pred, groups, group_names, min_groups=2)
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise FairGenError(f"n_boot must be a positive whole number of resamples (e.g. 1000), not {n_boot!r}.")
    if not 0 < level < 1:
        raise FairGenError(f"level must lie strictly between 0 and 1 (e.g. 0.95 for 95 %), not {level!r}.")
    n_groups = len(names)
    counts = cell_counts(y, p, g, n_groups)
    estimate = _headline(counts[None], n_groups)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(y), counts.ravel() / len(y), size=int(n_boot)).reshape(-1, n_groups, 2, 2)
    resampled = _headline(draws, n_groups)
    alpha = (1 - level) / 2
    rows = []
    for metric in BOOTSTRAP_METRICS:
        values = resampled[metric][~np.isnan(resampled[metric])]
        lower, upper = np.quantile(values, [alpha, 1 - alpha]) if values.size else (np.nan, np.nan)
        rows.append((metric, float(estimate[metric][0]), float(lower), float(upper), int(values.size)))
    return pd.DataFrame(rows, columns=["metric", "estimate", "lower", "upper", "n_valid"]).set_index("metric")


# -- internals -------------------------------------------------------------------------------------
def _validate(
    y_true: object, y_pred: object, groups: object, group_names: Sequence[str], *, min_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    if isinstance(group_names, str) or not isinstance(group_names, Sequence | np.ndarray | pd.Index):
        raise FairGenError("group_names must be a sequence of group names, e.g. assign_domains(...).group_names.")
    names = tuple(str(name) for name in group_names)
    if len(names) < min_groups:
        raise FairGenError(
            f"fairness metrics compare groups, but {len(names)} group name(s) were given: give at least "
            f"{min_groups} (e.g. assign_domains(...).group_names)."
        )
    y = _binary(y_true, "y_true", "labels")
    p = _binary(y_pred, "y_pred", "predictions")
    g = _as_1d(groups, "groups")
    if not (len(y) == len(p) == len(g)):
        raise FairGenError(
            f"y_true, y_pred and groups must have one entry per row, but their lengths are {len(y)}, {len(p)} "
            f"and {len(g)}: pass the labels, predictions and groups of the same rows."
        )
    if len(y) == 0:
        raise FairGenError("there are no rows to evaluate: pass at least one labelled, predicted row.")
    if g.dtype.kind not in "iub" and not (g.dtype.kind == "f" and np.all(np.isfinite(g)) and np.all(g == np.round(g))):
        raise FairGenError(
            f"groups must be whole-number group indices 0..{len(names) - 1} (dtype {g.dtype} given): use "
            "assign_domains(...).group."
        )
    g = g.astype(np.int64)
    outside = (g < 0) | (g >= len(names))
    if outside.any():
        if (g[outside] == -1).all():
            raise FairGenError(
                f"{int(outside.sum())} row(s) have group -1 (missing label or sensitive value): keep only the "
                "valid rows, e.g. with assign_domains(...).valid."
            )
        raise FairGenError(
            f"group index {int(g[outside][0])} is out of range: with {len(names)} group name(s) the indices "
            f"must lie in 0..{len(names) - 1}; pass one name per group."
        )
    return y, p, g, names


def _as_1d(values: object, name: str) -> np.ndarray:
    array = np.asarray(values.to_numpy() if isinstance(values, pd.Series | pd.Index) else values)
    if array.ndim == 2 and 1 in array.shape:
        array = array.ravel()
    if array.ndim != 1:
        raise FairGenError(f"{name} must be one-dimensional (one entry per row), but has shape {array.shape}.")
    return array


def _binary(values: object, name: str, what: str) -> np.ndarray:
    array = _as_1d(values, name)
    if array.dtype.kind == "b":
        return array.astype(np.int64)
    if array.dtype.kind in "iuf":
        ok = np.isin(array, (0, 1))
        if ok.all():
            return array.astype(np.int64)
        shown = ", ".join(map(repr, pd.unique(array[~ok])[:5].tolist()))
        raise FairGenError(
            f"{name} must hold binary {what} 0/1 (1 = favourable), but contains {shown}: binarise them first, "
            "e.g. assign_domains(...).label for labels or (scores >= 0.5).astype(int) for predictions, and drop "
            "missing values."
        )
    raise FairGenError(
        f"{name} must hold binary {what} 0/1 (1 = favourable), not values of type {array.dtype}: binarise them "
        "first, e.g. with assign_domains(...).label."
    )


def cell_counts(y: np.ndarray, p: np.ndarray, g: np.ndarray, n_groups: int) -> np.ndarray:
    """Counts of every (group, label, prediction) cell.

    Parameters
    ----------
    y, p : numpy.ndarray of int
        Binary labels and predictions (0/1), one per row.
    g : numpy.ndarray of int
        Group index per row, ``0 .. n_groups - 1``.
    n_groups : int
        Number of groups.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_groups, 2, 2)``, indexed ``[group, label, prediction]``.

    Examples
    --------
    >>> cell_counts(np.array([1, 0, 1]), np.array([1, 1, 0]), np.array([0, 0, 1]), 2)[0].tolist()
    [[0, 1], [0, 1]]
    """
    return np.bincount(4 * g + 2 * y + p, minlength=4 * n_groups).reshape(n_groups, 2, 2)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    return np.divide(numerator, denominator, out=np.full(np.broadcast(numerator, denominator).shape, np.nan),
                     where=denominator > 0)


def _ratio_scalar(numerator: float, denominator: float) -> float:
    if np.isnan(numerator) or np.isnan(denominator) or (numerator == 0 and denominator == 0):
        return float("nan")
    return float("inf") if denominator == 0 else float(numerator / denominator)


def confusion_rates(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Per-group rates from cell counts (vectorised over any leading axes, e.g. bootstrap draws).

    Parameters
    ----------
    counts : numpy.ndarray
        Shape ``(..., n_groups, 2, 2)``, indexed ``[group, label, prediction]`` (see :func:`cell_counts`).

    Returns
    -------
    dict of str to numpy.ndarray
        ``tpr``, ``fpr``, ``tnr``, ``fnr``, ``selection_rate``, ``base_rate``, ``accuracy``,
        ``balanced_accuracy`` and ``precision`` (TP / (TP + FP)), each of shape ``(..., n_groups)``; NaN
        where the denominator is 0.
    """
    tn, fp, fn, tp = counts[..., 0, 0], counts[..., 0, 1], counts[..., 1, 0], counts[..., 1, 1]
    positives, negatives = tp + fn, tn + fp
    n = positives + negatives
    tpr, tnr = _ratio(tp, positives), _ratio(tn, negatives)
    return {
        "tpr": tpr,
        "fpr": _ratio(fp, negatives),
        "tnr": tnr,
        "fnr": _ratio(fn, positives),
        "selection_rate": _ratio(tp + fp, n),
        "base_rate": _ratio(positives, n),
        "accuracy": _ratio(tp + tn, n),
        "balanced_accuracy": (tpr + tnr) / 2,
        "precision": _ratio(tp, tp + fp),
    }


def _largest_gaps(rates: dict[str, np.ndarray], n_groups: int) -> tuple[dict[str, np.ndarray], dict[str, tuple]]:
    """Largest absolute gap of each of :data:`GAP_METRICS` over all pairs of groups (NaN pairs skipped).

    ``rates`` arrays have shape ``(..., n_groups)``; the gaps have shape ``(...)``, and the pairs are
    those of the first element (used for a single evaluation).
    """
    pairs = list(itertools.combinations(range(n_groups), 2))
    i, j = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])

    def diff(metric: str) -> np.ndarray:
        return np.abs(rates[metric][..., i] - rates[metric][..., j])

    per_pair = {metric: diff(metric) for metric in GAP_METRICS[:-1]}
    per_pair["average_abs_odds"] = (per_pair["tpr"] + per_pair["fpr"]) / 2
    values, best_pairs = {}, {}
    for metric, d in per_pair.items():
        defined = ~np.isnan(d)
        best = np.argmax(np.where(defined, d, -np.inf), axis=-1)
        value = np.take_along_axis(d, best[..., None], axis=-1)[..., 0]
        values[metric] = np.where(defined.any(axis=-1), value, np.nan)
        best_pairs[metric] = pairs[int(np.ravel(best)[0])]
    return values, best_pairs


def _headline(counts: np.ndarray, n_groups: int) -> dict[str, np.ndarray]:
    """Overall balanced accuracy and the absolute metrics for a stack of count tables ``(B, G, 2, 2)``."""
    overall = confusion_rates(counts.sum(axis=1))
    gaps, _ = _largest_gaps(confusion_rates(counts), n_groups)
    return {"balanced_accuracy": overall["balanced_accuracy"],
            **{name: gaps[metric] for name, metric in ABSOLUTE_METRICS.items()}}
