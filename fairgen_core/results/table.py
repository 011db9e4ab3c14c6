"""The tidy results table: its columns, the method names, the metrics and their direction, one summary.

The ratio sweep (:func:`~fairgen_core.classifier.sweep.ratio_sweep`) and the comparison methods
(:func:`~fairgen_core.mitigations.compare_methods`) both write one row per (method, ratio, repetition, selection
rule, metric) with the columns of :data:`COLUMNS`; charts, the report, the experiment runner, the CLI and the pages
read them with the names defined here. Metric names come from :mod:`fairgen_core.metrics.fairness`, which computes
them.

One repetition has no spread: :func:`summarise` gives it a NaN standard deviation (the sample standard deviation
is undefined for one value), charts draw no band or error bar for it and :func:`mean_std_text` shows its value
alone.
"""

from __future__ import annotations

import math

import pandas as pd

from fairgen_core.errors import FairGenError
from fairgen_core.metrics.fairness import ABSOLUTE_METRICS, BOOTSTRAP_METRICS, SIGNED_METRICS

#: Columns of a results table, in order (the experiment's ``results.csv`` adds ``dataset`` in front).
COLUMNS: tuple[str, ...] = ("method", "ratio", "repetition", "seed", "selection", "metric", "value", "note")

#: Ours: the classifier pre-trained on synthetic rows and fine-tuned at one real:synthetic ratio.
TRANSFER = "transfer"
#: Ours with the real:synthetic ratio chosen on validation by the selection rule, among the swept ratios.
TRANSFER_CHOSEN_RATIO = "transfer, ratio chosen"
#: Ours with group-specific thresholds fitted on validation (:mod:`fairgen_core.classifier.thresholds`).
TRANSFER_THRESHOLDS = "transfer + thresholds"
#: The same network trained on real rows only, without pre-training.
NO_TL = "no TL"
#: The paper's down-sampling ablation: fine-tuned on real rows down-sampled to the smallest domain's count.
DOWNSAMPLED = "down-sampled TL"
#: The comparison methods' reference: the same network on the rows as they are (paired differences compare with it).
BASELINE = "baseline"

#: The fairness gaps of the paper (absolute; the largest gap between any two groups), in order.
FAIRNESS_METRICS: tuple[str, ...] = tuple(ABSOLUTE_METRICS)
#: The headline metrics: the balanced accuracy, then :data:`FAIRNESS_METRICS` (Fig. 2 and 3 panels).
SWEEP_METRICS: tuple[str, ...] = BOOTSTRAP_METRICS
#: Every metric of a results table, in order: the headline metrics, then the signed differences (two groups only).
TABLE_METRICS: tuple[str, ...] = SWEEP_METRICS + SIGNED_METRICS
#: Metrics for which a larger value is better.
HIGHER_IS_BETTER: tuple[str, ...] = ("balanced_accuracy",)
#: Name prefixes of absolute fairness gaps, for which a smaller value is fairer.
LOWER_IS_FAIRER_PREFIXES: tuple[str, ...] = ("abs_", "average_abs_")
#: Readable names of the headline metrics.
METRIC_LABELS: dict[str, str] = dict(zip(SWEEP_METRICS, (
    "Balanced accuracy", "|Equal opportunity diff.|", "|Average odds diff.|", "|Balanced accuracy diff.|",
    "|Statistical parity diff.|"), strict=True))
#: Chart and table titles of the headline metrics: the name with its better direction (↑ higher, ↓ lower).
METRIC_TITLES: dict[str, str] = {metric: f"{label} {'↑' if metric in HIGHER_IS_BETTER else '↓'}"
                                 for metric, label in METRIC_LABELS.items()}
#: Ratios closer than this are the same ratio.
RATIO_TOLERANCE = 1e-9


def has_direction(metric: str) -> bool:
    """Whether a metric has a better direction: the balanced accuracy (higher) or an absolute gap (lower).

    Examples
    --------
    >>> has_direction("balanced_accuracy"), has_direction("abs_equal_opportunity_difference")
    (True, True)
    >>> has_direction("statistical_parity_difference")
    False
    """
    return metric in HIGHER_IS_BETTER or metric.startswith(LOWER_IS_FAIRER_PREFIXES)


def at_ratio(ratios: pd.Series | float, ratio: float) -> pd.Series | bool:
    """Whether each of ``ratios`` is ``ratio`` (within :data:`RATIO_TOLERANCE`; NaN never is).

    Parameters
    ----------
    ratios : pandas.Series or float
        A table's ``ratio`` column, or one ratio.
    ratio : float
        The ratio looked for.

    Returns
    -------
    pandas.Series of bool or bool
        A row mask for a column, a bool for one ratio.

    Examples
    --------
    >>> at_ratio(pd.Series([0.5, 0.1 + 0.2, float("nan")]), 0.3).tolist()
    [False, True, False]
    >>> at_ratio(0.5, 0.5)
    True
    """
    return abs(ratios - ratio) < RATIO_TOLERANCE


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, sample standard deviation and count of every (selection, method, ratio, metric) over repetitions.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy results with columns ``metric`` and ``value``; ``selection``, ``method`` and ``ratio`` (NaN where it
        does not apply) separate the rows summarised when present. Other columns (e.g. ``repetition``) are ignored.

    Returns
    -------
    pandas.DataFrame
        The grouping columns present, then ``mean``, ``std`` (NaN for a single value: see the module's note) and
        ``n`` (non-missing values), one row per group in order of first appearance. Missing values are left out.

    Raises
    ------
    FairGenError
        If ``metric`` or ``value`` is missing or a value is not numeric.

    Examples
    --------
    >>> t = pd.DataFrame({"method": ["a", "a", "b"], "ratio": [0.5, 0.5, None], "metric": ["m"] * 3,
    ...                   "value": [1.0, 3.0, 2.0]})
    >>> summarise(t)[["method", "mean", "std", "n"]].values.tolist()
    [['a', 2.0, 1.4142135623730951, 2], ['b', 2.0, nan, 1]]
    """
    missing = [c for c in ("metric", "value") if c not in table.columns]
    if missing:
        raise FairGenError(
            f"the results table lacks the column(s) {', '.join(map(repr, missing))}: give a tidy table with one row "
            f"per (repetition, metric) and columns 'metric' and 'value' (it has {list(table.columns)})."
        )
    numeric = pd.to_numeric(table["value"], errors="coerce")
    bad = numeric.isna() & table["value"].notna()
    if bad.any():
        raise FairGenError(f"the 'value' column must hold numbers; found {table['value'][bad].iloc[0]!r}: convert "
                           "the values to floats first.")
    keys = [c for c in ("selection", "method", "ratio") if c in table.columns] + ["metric"]
    values = table[keys].assign(value=numeric.astype(float)).dropna(subset=["value"])
    if "ratio" in keys:
        values["ratio"] = values["ratio"].fillna(-1.0)
    summary = (values.groupby(keys, sort=False)["value"].agg(["mean", "std", "count"]).reset_index()
               .rename(columns={"count": "n"}))
    if "ratio" in keys:
        summary["ratio"] = summary["ratio"].where(summary["ratio"] >= 0)
    return summary


def mean_std_text(mean: float, std: float) -> str:
    """``"mean ± std"`` with three decimals; the mean alone when the std is NaN (a single repetition).

    Examples
    --------
    >>> mean_std_text(0.75, 0.05), mean_std_text(0.75, float("nan"))
    ('0.750 ± 0.050', '0.750')
    """
    return f"{mean:.3f}" if math.isnan(std) else f"{mean:.3f} ± {std:.3f}"


def mean_std_column(summary: pd.DataFrame) -> pd.Series:
    """:func:`mean_std_text` of every row of a :func:`summarise` table.

    Examples
    --------
    >>> mean_std_column(pd.DataFrame({"mean": [0.75, 0.5], "std": [0.05, float("nan")]})).tolist()
    ['0.750 ± 0.050', '0.500']
    """
    return pd.Series([mean_std_text(m, s) for m, s in zip(summary["mean"], summary["std"])], index=summary.index,
                     dtype=object)
