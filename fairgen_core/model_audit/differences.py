"""Unprivileged-vs-privileged differences with counts-based bootstrap intervals, and their verdicts.

The signed differences equal aif360's ``ClassificationMetric`` methods of the same names
(``statistical_parity_difference``, ``disparate_impact``, ``equal_opportunity_difference``,
``average_abs_odds_difference``; the predictive parity difference is the difference of its
``positive_predictive_value``). The *absolute* average odds difference is reported rather than the signed
one, so that a TPR gap and an opposite FPR gap cannot cancel into "within tolerance".

**Bootstrap.** Every metric depends on the rows only through the counts of the four confusion cells
(TP, FP, TN, FN) of each group. The bootstrap is stratified by group: each group keeps its size ``n_g``
and a resample of its rows is a draw of cell counts from the multinomial distribution with ``n_g`` trials
and the group's observed cell shares, which is exactly the distribution of the counts of ``n_g`` rows drawn
with replacement from that group. All draws and metrics are vectorised, so the cost does not grow with the
number of rows. The interval is the percentile interval: the empirical ``(1 - confidence) / 2`` and
``(1 + confidence) / 2`` quantiles of the resampled values (order statistics without interpolation, so an
infinite resampled ratio stays well defined); resamples in which a metric is undefined (e.g. no selected
row) are left out of its quantiles. The verdicts are those of :mod:`~fairgen_core.model_audit.verdicts`.
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

#: Difference metrics (unprivileged vs privileged) and their readable names, in report order.
DIFFERENCE_METRICS: Mapping[str, str] = MappingProxyType({
    "statistical_parity_difference": "statistical parity difference (selection rate)",
    "disparate_impact": "disparate impact (selection-rate ratio)",
    "equal_opportunity_difference": "equal opportunity difference (TPR)",
    "average_abs_odds_difference": "average absolute odds difference (TPR and FPR)",
    "predictive_parity_difference": "predictive parity difference (precision)",
})
#: Columns of :attr:`ModelAudit.differences`.
DIFFERENCE_COLUMNS = ("metric", "value", "ci_low", "ci_high", "tolerance", "verdict", "note")


def bootstrap_counts(counts: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Resampled cell counts, shape ``(n_boot, n_groups, 2, 2)``, stratified by group (see the module notes)."""
    draws = np.zeros((n_boot, *counts.shape), dtype=np.int64)
    for g, cells in enumerate(counts):
        n = int(cells.sum())
        if n:
            draws[:, g] = rng.multinomial(n, cells.ravel() / n, size=n_boot).reshape(n_boot, 2, 2)
    return draws


def _difference_values(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Every difference metric, group 0 vs the last group, for counts of shape ``(..., n_groups, 2, 2)``."""
    rates = confusion_rates(counts)

    def gap(metric: str) -> np.ndarray:
        return rates[metric][..., 0] - rates[metric][..., -1]

    unprivileged, privileged = rates["selection_rate"][..., 0], rates["selection_rate"][..., -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        impact = np.where(privileged > 0, unprivileged / privileged,
                          np.where(unprivileged > 0, np.inf, np.nan))
    return {
        "statistical_parity_difference": gap("selection_rate"),
        "disparate_impact": impact,
        "equal_opportunity_difference": gap("tpr"),
        "average_abs_odds_difference": (np.abs(gap("tpr")) + np.abs(gap("fpr"))) / 2,
        "predictive_parity_difference": gap("precision"),
    }


def differences_table(counts: np.ndarray, draws: np.ndarray, names: tuple[str, ...], config: ModelAuditConfig
                       ) -> pd.DataFrame:
    """The rows of :attr:`ModelAudit.differences <fairgen_core.model_audit.ModelAudit>` from the observed counts
    and their bootstrap draws (:data:`DIFFERENCE_COLUMNS`)."""
    estimates = _difference_values(counts)
    resampled = _difference_values(draws)
    alpha = (1 - config.confidence) / 2
    compared = counts[[0, -1]]
    rows = []
    for metric in DIFFERENCE_METRICS:
        value = float(estimates[metric])
        low, high = _percentiles(resampled[metric], alpha)
        tolerance = config.tolerances.for_metric(metric)
        bounds = (tolerance, 1 / tolerance) if metric == "disparate_impact" else (-tolerance, tolerance)
        verdict = interval_verdict(value, low, high, bounds)
        short = support_note(metric, compared, (names[0], names[-1]), config.tolerances.min_positives)
        if short:
            verdict, note = INSUFFICIENT, short
        else:
            note = verdict_note(metric, verdict, value, (low, high), bounds, int(compared.sum()),
                                 (names[0], names[-1]))
        rows.append((metric, value, low, high, tolerance, verdict, note))
    return pd.DataFrame(rows, columns=list(DIFFERENCE_COLUMNS))


def _percentiles(values: np.ndarray, alpha: float) -> tuple[float, float]:
    defined = values[~np.isnan(values)]
    if not defined.size:
        return math.nan, math.nan
    low, high = np.quantile(defined, [alpha, 1 - alpha], method="inverted_cdf")
    return float(low), float(high)
