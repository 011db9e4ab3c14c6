"""Verdicts on a difference and its interval: within tolerance, disparity or insufficient evidence.

A difference is *within tolerance* when its whole interval lies within ``[-tolerance, tolerance]`` (disparate
impact: within ``[t, 1/t]``, the four-fifths rule with ``t = 0.8``), a *disparity* when its whole interval lies
beyond, and *insufficient evidence* otherwise (the interval spans a bound). It is also *insufficient evidence*,
whatever the interval, when one of the two compared groups has fewer than ``min_positives`` cases in a denominator
of the metric: rows (statistical parity, disparate impact), rows with the favourable label (equal opportunity; and
rows with the unfavourable label too for average odds), or selected rows (predictive parity). The note then says
how many rows that group would need: its current size scaled by ``min_positives / count`` (the same share of
cases, enough of them). When the interval spans a bound, the note estimates the rows the two groups together would
need for the interval to clear it, assuming its width shrinks as ``1 / sqrt(n)`` around the same estimate.
"""

from __future__ import annotations

import math

import numpy as np

WITHIN = "within tolerance"
DISPARITY = "disparity"
INSUFFICIENT = "insufficient evidence"
#: The three verdicts of a difference.
VERDICTS = (WITHIN, DISPARITY, INSUFFICIENT)

# Which counts each difference needs enough of, in each compared group: (count name, what it is).
_SUPPORT = {
    "statistical_parity_difference": (("n", "rows"),),
    "disparate_impact": (("n", "rows"),),
    "equal_opportunity_difference": (("positives", "rows with the favourable label"),),
    "average_abs_odds_difference": (("positives", "rows with the favourable label"),
                                    ("negatives", "rows with the unfavourable label")),
    "predictive_parity_difference": (("selected", "selected rows (decision 1)"),),
}


def interval_verdict(value: float, low: float, high: float, bounds: tuple[float, float]) -> str:
    """The verdict of an interval against the tolerance bounds (see the module notes); NaN gives insufficient."""
    if math.isnan(value) or math.isnan(low) or math.isnan(high):
        return INSUFFICIENT
    lower, upper = bounds
    if high < lower or low > upper:
        return DISPARITY
    if lower <= low and high <= upper:
        return WITHIN
    return INSUFFICIENT


def _support_counts(cells: np.ndarray) -> dict[str, int]:
    return {"n": int(cells.sum()), "positives": int(cells[1].sum()), "negatives": int(cells[0].sum()),
            "selected": int(cells[:, 1].sum())}


def support_note(metric: str, compared: np.ndarray, names: tuple[str, str], minimum: int) -> str:
    """Why a compared group has too few cases for ``metric``, and the rows it would need; '' if enough."""
    for cells, name in zip(compared, names):
        have = _support_counts(cells)
        for count, what in _SUPPORT[metric]:
            if have[count] >= minimum:
                continue
            if have[count] == 0:
                need = f"it needs at least {minimum} such rows"
            else:
                need = (f"at its current share that takes about {math.ceil(have['n'] * minimum / have[count]):,} "
                        f"rows of this group (now {have['n']:,})")
            return f"group '{name}' has {have[count]:,} {what}, fewer than {minimum}: {need}"
    return ""


def verdict_note(metric: str, verdict: str, value: float, interval: tuple[float, float],
                  bounds: tuple[float, float], n_compared: int, names: tuple[str, str]) -> str:
    """The note of a verdict: the direction of a disparity, or the rows that would settle an interval; '' within."""
    if verdict == WITHIN:
        return ""
    if verdict == DISPARITY:
        parity = 1.0 if metric == "disparate_impact" else 0.0
        what = "selection rate" if metric in ("statistical_parity_difference", "disparate_impact") else \
            {"equal_opportunity_difference": "TPR", "predictive_parity_difference": "precision"}.get(metric)
        if what is None:
            return f"the TPR and FPR differ between '{names[0]}' and '{names[1]}'"
        return f"the {what} is {'lower' if value < parity else 'higher'} for '{names[0]}' than for '{names[1]}'"
    if math.isnan(value) or math.isnan(interval[0]):
        return "undefined: a compared group has no rows in a denominator of this metric"
    scale = _rows_factor(metric, value, interval, bounds)
    if scale is None:
        return "the estimate lies on the tolerance bound or the interval is unbounded: more rows are needed"
    return (f"the interval spans the tolerance: about {math.ceil(scale * n_compared):,} rows in the two compared "
            f"groups (now {n_compared:,}) would settle it (if the interval narrows as 1/√n around this estimate)")


def _rows_factor(metric: str, value: float, interval: tuple[float, float], bounds: tuple[float, float]
                 ) -> float | None:
    """How many times the rows would shrink the interval (width ∝ 1/√n) to clear the nearer bound, or None."""
    transform = np.log if metric == "disparate_impact" else (lambda v: v)
    with np.errstate(divide="ignore"):
        v, low, high = (float(transform(x)) for x in (value, *interval))
        lower, upper = (float(transform(x)) for x in bounds)
    if not all(map(math.isfinite, (v, low, high))):
        return None
    if lower < v < upper:  # shrink until inside: both half-widths must fit
        shrink = min((upper - v) / (high - v) if high > v else math.inf,
                     (v - lower) / (v - low) if low < v else math.inf)
    elif v > upper:
        shrink = (v - upper) / (v - low)
    elif v < lower:
        shrink = (lower - v) / (high - v)
    else:
        return None
    return max(1.0, 1 / shrink**2)
