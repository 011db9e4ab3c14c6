"""Numbers, intervals, tolerances and a model audit's comparisons in words: written the same way by the HTML reports,
the CLI and the Model audit page."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from fairgen_core.model_audit import VS_REFERENCE, EqualisingThresholds, ModelAudit, comparison_text


def value_text(value: object, digits: int = 3) -> str:
    """A table cell's value in words: ``—`` when missing, yes / no, whole numbers with thousands separators,
    other numbers with ``digits`` decimals.

    Examples
    --------
    >>> value_text(None), value_text(True), value_text(12_345), value_text(0.12345), value_text("a")
    ('—', 'yes', '12,345', '0.123', 'a')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.{digits}f}"
    return str(value)


def number_text(value: float) -> str:
    """A metric value with three decimals, ``—`` when undefined (as the report's tables write it).

    Examples
    --------
    >>> number_text(0.25), number_text(float("nan")), number_text(float("inf"))
    ('0.250', '—', 'inf')
    """
    return value_text(float(value))


def interval_text(low: float, high: float) -> str:
    """An interval as ``[low, high]`` with three decimals (``—`` for an undefined end).

    Examples
    --------
    >>> interval_text(-0.2, 0.05), interval_text(float("nan"), float("nan"))
    ('[-0.200, 0.050]', '[—, —]')
    """
    return f"[{number_text(low)}, {number_text(high)}]"


def estimate_text(value: float, low: float, high: float) -> str:
    """A value with its interval, as the per-domain tables write it.

    Examples
    --------
    >>> estimate_text(0.8, 0.67, 0.888), estimate_text(float("nan"), float("nan"), float("nan"))
    ('0.800 [0.670, 0.888]', '—')
    """
    return number_text(value) if math.isnan(value) else f"{number_text(value)} {interval_text(low, high)}"


def tolerance_text(metric: str, tolerance: float) -> str:
    """How the tolerance of a difference reads: the four-fifths band for disparate impact, ± otherwise.

    Examples
    --------
    >>> tolerance_text("disparate_impact", 0.8), tolerance_text("equal_opportunity_difference", 0.1)
    ('0.8 to 1.25', '±0.1')
    """
    return f"{tolerance:g} to {1 / tolerance:g}" if metric == "disparate_impact" else f"±{tolerance:g}"


def group_text(comparison: str, group: str) -> str:
    """The ``group`` cell of a difference in a table: the group, or for a largest gap ``largest gap: GROUP``.

    Examples
    --------
    >>> group_text("vs reference", "sex=F"), group_text("largest gap", "race=B"), group_text("largest gap", "")
    ('sex=F', 'largest gap: race=B', 'largest gap: undefined')
    """
    return group if comparison == VS_REFERENCE else f"{comparison}: {group or 'undefined'}"


def equalising_text(result: EqualisingThresholds) -> str:
    """The TPR-equalising group thresholds' cost in balanced accuracy, in words (report and Model audit page)."""
    change = "costs" if result.cost > 0 else "gains"
    single, equalised = value_text(result.balanced_accuracy_single), value_text(result.balanced_accuracy_equalised)
    return (f"At the single threshold {result.threshold:g} the overall TPR is {value_text(result.target_tpr)}. Group "
            f"thresholds bringing every group's TPR close to it {change} {abs(result.cost):.3f} of balanced "
            f"accuracy ({single} → {equalised}).")


def comparison_rows(audit: ModelAudit) -> list[tuple[str, pd.DataFrame]]:
    """A model's differences per comparison, in order: the comparison in words and its rows (one per metric).

    With two groups, one comparison (unprivileged vs privileged); with more, one per group against the privileged
    group and one for the largest gaps (:func:`~fairgen_core.model_audit.comparison_text`; a largest gap's pair
    differs from metric to metric, so that comparison reads "largest gap"). For the side-by-side tables of the
    report and the Model audit page.
    """
    table = audit.differences
    keys = list(zip(table["comparison"], table["group"].where(table["comparison"] == VS_REFERENCE, "")))
    groups: dict[tuple[str, str], list[int]] = {}
    for position, key in enumerate(keys):
        groups.setdefault(key, []).append(position)
    return [(comparison_text(comparison, group, audit.privileged) if comparison == VS_REFERENCE else comparison,
             table.iloc[positions]) for (comparison, group), positions in groups.items()]
