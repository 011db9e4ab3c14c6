"""Differences between groups, each against a reference group, with counts-based bootstrap intervals and verdicts.

**Groups and the reference.** The groups are the intersections of the binarised sensitive attributes
(:func:`fairgen_core.data.spec.assign_domains`: one attribute gives two groups, two attributes four, …). The
reference group is the *privileged* group, privileged on every sensitive attribute (the last group index), so
that every difference reads "this group minus (or over) the privileged group" and has the sign convention of
aif360. Every other group is compared with it, in group-index order; the first is the group unprivileged on every
attribute (aif360's ``unprivileged_groups`` with two groups, and :attr:`ModelAudit.unprivileged
<fairgen_core.model_audit.ModelAudit>`). With more than two groups each metric also gets one *largest gap* row:
the pair of groups furthest apart (the lowest value minus the highest; for disparate impact the lowest selection
rate over the highest; for the average absolute odds difference the largest over all pairs), whichever groups
they are, so a disparity between two unprivileged groups is not missed. With two groups there is one row per
metric, as before: the unprivileged group against the privileged one.

The signed differences equal aif360's ``ClassificationMetric`` methods of the same names
(``statistical_parity_difference``, ``disparate_impact``, ``equal_opportunity_difference``,
``average_abs_odds_difference``; the predictive parity difference is the difference of its
``positive_predictive_value``), and with several groups fairlearn's ``MetricFrame`` by-group values of each
group minus the reference's (the largest gaps: its ``difference()`` and ``ratio()`` between groups). The
*absolute* average odds difference is reported rather than the signed one, so that a TPR gap and an opposite
FPR gap cannot cancel into "within tolerance".

**Bootstrap.** Every metric depends on the rows only through the counts of the four confusion cells
(TP, FP, TN, FN) of each group. The bootstrap is stratified by group: each group keeps its size ``n_g``
and a resample of its rows is a draw of cell counts from the multinomial distribution with ``n_g`` trials
and the group's observed cell shares, which is exactly the distribution of the counts of ``n_g`` rows drawn
with replacement from that group. All draws and metrics are vectorised, so the cost does not grow with the
number of rows. The interval is the percentile interval: the empirical ``(1 - confidence) / 2`` and
``(1 + confidence) / 2`` quantiles of the resampled values (order statistics without interpolation, so an
infinite resampled ratio stays well defined); resamples in which a metric is undefined (e.g. no selected
row) are left out of its quantiles. A largest gap's interval is that of the largest gap itself, recomputed in
every resample over all pairs (whichever pair it is there); like any extreme it leans away from parity when
many small groups are compared. The verdicts are those of :mod:`~fairgen_core.model_audit.verdicts`, a largest
gap's support judged on the two groups that give it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd

from fairgen_core.metrics.fairness import confusion_rates
from fairgen_core.model_audit.config import ModelAuditConfig
from fairgen_core.model_audit.verdicts import INSUFFICIENT, interval_verdict, support_note, verdict_note

#: Difference metrics (a group vs the reference group) and their readable names, in report order.
DIFFERENCE_METRICS: Mapping[str, str] = MappingProxyType({
    "statistical_parity_difference": "statistical parity difference (selection rate)",
    "disparate_impact": "disparate impact (selection-rate ratio)",
    "equal_opportunity_difference": "equal opportunity difference (TPR)",
    "average_abs_odds_difference": "average absolute odds difference (TPR and FPR)",
    "predictive_parity_difference": "predictive parity difference (precision)",
})
#: ``comparison`` of a row comparing one group with the reference (privileged) group.
VS_REFERENCE = "vs reference"
#: ``comparison`` of a row giving the largest gap between any two groups (more than two groups only).
LARGEST_GAP = "largest gap"
#: Columns of :attr:`ModelAudit.differences`: ``comparison`` is :data:`VS_REFERENCE` or :data:`LARGEST_GAP`;
#: ``group`` and ``reference`` are the two compared groups (for a largest gap, the lower and the higher one; both
#: empty when fewer than two groups have the metric defined).
DIFFERENCE_COLUMNS = ("metric", "comparison", "group", "reference", "value", "ci_low", "ci_high", "tolerance",
                      "verdict", "note")
_UNDEFINED_GAP = "undefined: fewer than two groups have rows in every denominator of this metric"


def bootstrap_counts(counts: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Resampled cell counts, shape ``(n_boot, n_groups, 2, 2)``, stratified by group (see the module notes)."""
    draws = np.zeros((n_boot, *counts.shape), dtype=np.int64)
    for g, cells in enumerate(counts):
        n = int(cells.sum())
        if n:
            draws[:, g] = rng.multinomial(n, cells.ravel() / n, size=n_boot).reshape(n_boot, 2, 2)
    return draws


def comparison_text(comparison: str, group: str, reference: str) -> str:
    """What a row of :attr:`ModelAudit.differences` compares, in words.

    Examples
    --------
    >>> comparison_text(VS_REFERENCE, "sex=F", "sex=M")
    "'sex=F' vs 'sex=M'"
    >>> comparison_text(LARGEST_GAP, "race=B", "race=A")
    "largest gap: 'race=B' vs 'race=A'"
    >>> comparison_text(LARGEST_GAP, "", "")
    'largest gap: undefined'
    """
    pair = f"'{group}' vs '{reference}'" if group or reference else "undefined"
    return pair if comparison == VS_REFERENCE else f"{comparison}: {pair}"


def _pairwise(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Every difference metric between every ordered pair of groups, for counts of shape ``(..., n_groups, 2, 2)``.

    Each array has shape ``(..., n_groups, n_groups)``; entry ``[i, j]`` compares group ``i`` with group ``j``.
    """
    rates = confusion_rates(counts)

    def gap(metric: str) -> np.ndarray:
        return rates[metric][..., :, None] - rates[metric][..., None, :]

    compared, reference = rates["selection_rate"][..., :, None], rates["selection_rate"][..., None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        impact = np.where(reference > 0, compared / reference, np.where(compared > 0, np.inf, np.nan))
    return {
        "statistical_parity_difference": gap("selection_rate"),
        "disparate_impact": impact,
        "equal_opportunity_difference": gap("tpr"),
        "average_abs_odds_difference": (np.abs(gap("tpr")) + np.abs(gap("fpr"))) / 2,
        "predictive_parity_difference": gap("precision"),
    }


def _largest_gap(values: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """The largest gap over the pairs of distinct groups and the flat index ``i * n_groups + j`` of its pair.

    ``values`` has shape ``(..., n_groups, n_groups)`` (:func:`_pairwise`). The largest gap is the most negative
    difference (lowest group minus highest), the smallest ratio, or for the average absolute odds difference the
    largest value; pairs with an undefined value are skipped, and NaN is returned when every pair is undefined.
    """
    n_groups = values.shape[-1]
    flat = np.where(np.eye(n_groups, dtype=bool), np.nan, values).reshape(*values.shape[:-2], n_groups * n_groups)
    highest = metric == "average_abs_odds_difference"
    filled = np.where(np.isnan(flat), -np.inf if highest else np.inf, flat)
    index = filled.argmax(axis=-1) if highest else filled.argmin(axis=-1)
    return np.take_along_axis(flat, index[..., None], axis=-1)[..., 0], index


def differences_table(counts: np.ndarray, draws: np.ndarray, names: tuple[str, ...], config: ModelAuditConfig
                       ) -> pd.DataFrame:
    """The rows of :attr:`ModelAudit.differences <fairgen_core.model_audit.ModelAudit>` from the observed counts
    and their bootstrap draws (:data:`DIFFERENCE_COLUMNS`).

    Every group other than the reference (the last, privileged one) against the reference, group by group in index
    order with every metric of :data:`DIFFERENCE_METRICS`; then, with more than two groups, the largest gap of each
    metric (see the module notes).
    """
    estimates, resampled = _pairwise(counts), _pairwise(draws)
    reference = len(names) - 1
    rows = [_row(metric, VS_REFERENCE, (group, reference), float(estimates[metric][group, reference]),
                 resampled[metric][:, group, reference], counts, names, config)
            for group in range(reference) for metric in DIFFERENCE_METRICS]
    if len(names) > 2:
        for metric in DIFFERENCE_METRICS:
            value, index = _largest_gap(estimates[metric], metric)
            pair = divmod(int(index), len(names)) if not math.isnan(value) else None
            rows.append(_row(metric, LARGEST_GAP, pair, float(value), _largest_gap(resampled[metric], metric)[0],
                             counts, names, config))
    return pd.DataFrame(rows, columns=list(DIFFERENCE_COLUMNS))


def _row(metric: str, comparison: str, pair: tuple[int, int] | None, value: float, samples: np.ndarray,
         counts: np.ndarray, names: tuple[str, ...], config: ModelAuditConfig) -> tuple:
    """One row of :data:`DIFFERENCE_COLUMNS`: the interval, the verdict against the tolerance and its note."""
    low, high = _percentiles(samples, (1 - config.confidence) / 2)
    tolerance = config.tolerances.for_metric(metric)
    if pair is None:
        return metric, comparison, "", "", value, low, high, tolerance, INSUFFICIENT, _UNDEFINED_GAP
    bounds = (tolerance, 1 / tolerance) if metric == "disparate_impact" else (-tolerance, tolerance)
    verdict = interval_verdict(value, low, high, bounds)
    compared, pair_names = counts[list(pair)], (names[pair[0]], names[pair[1]])
    note = support_note(metric, compared, pair_names, config.tolerances.min_positives)
    if note:
        verdict = INSUFFICIENT
    else:
        note = verdict_note(metric, verdict, value, (low, high), bounds, int(compared.sum()), pair_names)
    return metric, comparison, *pair_names, value, low, high, tolerance, verdict, note


def _percentiles(values: np.ndarray, alpha: float) -> tuple[float, float]:
    defined = values[~np.isnan(values)]
    if not defined.size:
        return math.nan, math.nan
    low, high = np.quantile(defined, [alpha, 1 - alpha], method="inverted_cdf")
    return float(low), float(high)
