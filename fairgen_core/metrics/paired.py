"""Paired comparisons of methods against a reference method over repeated splits.

An experiment repeats every method on the same data splits: repetition ``r`` uses the same train/test
split for the baseline, for transfer learning at every real:synthetic ratio and for every mitigation.
Fairness gaps move a lot from one split to the next (±0.05 on the benchmark data is common, as large as
the effects being measured), but much of that movement is shared by all methods evaluated on the same
split. Comparing the *paired* differences ``value(method, r) - value(reference, r)`` removes the shared
part, so a real improvement is not drowned by split-to-split noise the way it is when two independent
mean ± std summaries are compared.

:func:`paired_differences` reports, per method, ratio and metric, the mean paired difference and a
percentile bootstrap interval over repetitions: the ``n`` paired differences are resampled with
replacement ``n_boot`` times, the mean of each resample is taken, and the ``(1 - level) / 2`` and
``1 - (1 - level) / 2`` quantiles of those means bound the interval. Each group gets a fresh generator
seeded with ``seed``, so a group's interval does not depend on which other groups are in the table.
Repetitions where either value is missing (e.g. a skipped method) are dropped pairwise.

:func:`verdict` turns an interval into words: an interval entirely below 0 on an absolute gap
(``abs_*`` or ``average_abs_*``, lower is fairer) means "fairer", entirely above 0 "less fair"; for
metrics in :data:`HIGHER_IS_BETTER` (the balanced accuracy) above 0 means "more accurate". An interval
that contains or touches 0 means "no detectable difference". Signed differences (unprivileged minus
privileged) have no better direction by themselves and get no verdict; their absolute counterparts
carry it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from fairgen_core.errors import FairGenError
from fairgen_core.results.table import BASELINE, HIGHER_IS_BETTER, LOWER_IS_FAIRER_PREFIXES

#: Output columns of :func:`paired_differences`, after the optional ``dataset`` and ``selection``.
PAIRED_COLUMNS: tuple[str, ...] = (
    "method",
    "ratio",
    "metric",
    "n",
    "mean",
    "reference_mean",
    "difference",
    "ci_low",
    "ci_high",
    "verdict",
)
#: Optional columns that separate comparisons (pairs never cross their values).
CONTEXT_COLUMNS: tuple[str, ...] = ("dataset", "selection")
#: Columns :func:`paired_differences` needs.
REQUIRED_COLUMNS: tuple[str, ...] = ("method", "ratio", "repetition", "metric", "value")

FAIRER = "fairer"
LESS_FAIR = "less fair"
MORE_ACCURATE = "more accurate"
LESS_ACCURATE = "less accurate"
NO_DIFFERENCE = "no detectable difference"
TOO_FEW = "too few repetitions"


def verdict(metric: str, ci_low: float, ci_high: float) -> str:
    """Judge a method by the interval of its paired difference to the reference.

    Parameters
    ----------
    metric : str
        The metric's name, e.g. ``"balanced_accuracy"`` or ``"abs_equal_opportunity_difference"``.
    ci_low, ci_high : float
        Bounds of the interval of ``method - reference``.

    Returns
    -------
    str
        For absolute gaps (names starting with ``"abs_"`` or ``"average_abs_"``): ``"fairer"`` if
        ``ci_high < 0``, ``"less fair"`` if ``ci_low > 0``; for metrics in :data:`HIGHER_IS_BETTER`:
        ``"more accurate"`` if ``ci_low > 0``, ``"less accurate"`` if ``ci_high < 0``; otherwise (the
        interval contains or touches 0) ``"no detectable difference"``. Signed metrics give ``""``: they
        have no better direction. A missing bound (NaN, no interval) gives ``"too few repetitions"``.

    Examples
    --------
    >>> verdict("average_abs_odds_difference", -0.04, -0.01)
    'fairer'
    >>> verdict("balanced_accuracy", -0.02, 0.0)
    'no detectable difference'
    >>> verdict("average_odds_difference", -0.04, -0.01)
    ''
    """
    lower_is_fairer = metric.startswith(LOWER_IS_FAIRER_PREFIXES)
    higher_is_better = metric in HIGHER_IS_BETTER
    if not (lower_is_fairer or higher_is_better):
        return ""
    if math.isnan(ci_low) or math.isnan(ci_high):
        return TOO_FEW
    if lower_is_fairer:
        if ci_high < 0:
            return FAIRER
        if ci_low > 0:
            return LESS_FAIR
        return NO_DIFFERENCE
    if ci_low > 0:
        return MORE_ACCURATE
    if ci_high < 0:
        return LESS_ACCURATE
    return NO_DIFFERENCE


def describe(difference: float, ci_low: float, ci_high: float, verdict_text: str) -> str:
    """A paired difference for people: ``"-0.031 [-0.050, -0.012] fairer"``.

    Examples
    --------
    >>> describe(-0.0312, -0.05, -0.0121, "fairer")
    '-0.031 [-0.050, -0.012] fairer'
    >>> describe(0.01, float("nan"), float("nan"), "too few repetitions")
    '+0.010 (too few repetitions)'
    """
    if math.isnan(ci_low) or math.isnan(ci_high):
        return f"{difference:+.3f} ({verdict_text})" if verdict_text else f"{difference:+.3f}"
    return f"{difference:+.3f} [{ci_low:+.3f}, {ci_high:+.3f}] {verdict_text}".rstrip()


def paired_differences(
    results: pd.DataFrame,
    *,
    reference: str = BASELINE,
    n_boot: int = 10_000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean paired difference of every method to a reference method, with a bootstrap interval.

    Parameters
    ----------
    results : pandas.DataFrame
        A tidy results table with columns ``method``, ``ratio`` (NaN for methods without a ratio),
        ``repetition`` (equal repetitions share the data split), ``metric`` and ``value`` (NaN where a
        method was skipped), and optionally ``dataset`` and ``selection``. Other columns are ignored.
    reference : str
        The method everything is compared with; its ``ratio`` is ignored.
    n_boot : int
        Number of bootstrap resamples of the repetitions.
    level : float
        Coverage of the intervals, in (0, 1).
    seed : int
        Seed of the generator created afresh for every group, so each interval is reproducible on its own.

    Returns
    -------
    pandas.DataFrame
        One row per (``dataset``, ``selection``, ``method``, ``ratio``, ``metric``) group of the other
        methods, in order of first appearance, with the columns ``dataset`` and ``selection`` where the
        input has them followed by :data:`PAIRED_COLUMNS`: ``n`` (complete pairs: same dataset, selection,
        metric and repetition, both values present), ``mean`` and ``reference_mean`` (means over those
        pairs), ``difference`` (their difference, the mean paired difference), ``ci_low`` and ``ci_high``
        (percentile bootstrap interval of the mean paired difference; NaN for fewer than two pairs) and
        ``verdict`` (see :func:`verdict`; ``"too few repetitions"`` for fewer than two pairs).

    Raises
    ------
    FairGenError
        If a required column is missing, the reference method is absent, a value is not numeric,
        ``n_boot`` or ``level`` is invalid, or a repetition occurs twice in a group.

    Notes
    -----
    For a group with paired differences ``d`` (ordered by repetition) of length ``n``, the interval is
    ``np.quantile(d[rng.integers(0, n, size=(n_boot, n))].mean(axis=1), [(1 - level) / 2,
    1 - (1 - level) / 2])`` with ``rng = np.random.default_rng(seed)``.

    Examples
    --------
    >>> results = pd.DataFrame({
    ...     "method": ["baseline"] * 3 + ["reweighing"] * 3,
    ...     "ratio": float("nan"),
    ...     "repetition": [0, 1, 2] * 2,
    ...     "metric": "abs_equal_opportunity_difference",
    ...     "value": [0.25, 0.125, 0.375, 0.0, -0.125, 0.125],
    ... })
    >>> table = paired_differences(results, n_boot=100)
    >>> print(table[["method", "n", "difference", "ci_low", "ci_high", "verdict"]].to_string(index=False))
        method  n  difference  ci_low  ci_high verdict
    reweighing  3       -0.25   -0.25    -0.25  fairer
    """
    frame, context = _validate(results, reference=reference, n_boot=n_boot, level=level)
    pair_keys = [*context, "metric", "repetition"]
    group_keys = [*context, "method", "ratio", "metric"]

    ref = frame.loc[frame["method"] == reference, [*pair_keys, "value"]]
    _reject_duplicates(ref, pair_keys, f"the reference method {reference!r}")
    ref = ref.rename(columns={"value": "reference_value"})
    others = frame.loc[frame["method"] != reference, [*group_keys, "repetition", "value"]]
    _reject_duplicates(others, [*group_keys, "repetition"], "a method")

    merged = others.merge(ref, on=pair_keys, how="left", sort=False)
    alpha = (1 - level) / 2
    rows = []
    for key, group in merged.groupby(group_keys, sort=False, dropna=False):
        group = group.sort_values("repetition", kind="stable")
        complete = group["value"].notna() & group["reference_value"].notna()
        values = group.loc[complete, "value"].to_numpy(dtype=float)
        ref_values = group.loc[complete, "reference_value"].to_numpy(dtype=float)
        diffs = values - ref_values
        n = len(diffs)
        ci_low = ci_high = math.nan
        if n >= 2:
            rng = np.random.default_rng(seed)
            idx = rng.integers(0, n, size=(n_boot, n))
            boot = diffs[idx].mean(axis=1)
            ci_low, ci_high = (float(q) for q in np.quantile(boot, [alpha, 1 - alpha]))
        metric = key[-1]
        rows.append(
            (
                *key,
                n,
                float(values.mean()) if n else math.nan,
                float(ref_values.mean()) if n else math.nan,
                float(diffs.mean()) if n else math.nan,
                ci_low,
                ci_high,
                verdict(str(metric), ci_low, ci_high) if n >= 2 else TOO_FEW,
            )
        )
    table = pd.DataFrame(rows, columns=[*context, *PAIRED_COLUMNS])
    table["n"] = table["n"].astype(int)
    for column in ("ratio", "mean", "reference_mean", "difference", "ci_low", "ci_high"):
        table[column] = table[column].astype(float)
    return table


# -- internals -------------------------------------------------------------------------------------
def _validate(results: object, *, reference: str, n_boot: object, level: object) -> tuple[pd.DataFrame, list[str]]:
    if not isinstance(results, pd.DataFrame):
        raise FairGenError(
            "paired_differences needs a pandas DataFrame with columns "
            f"{', '.join(map(repr, REQUIRED_COLUMNS))}, not {type(results).__name__}."
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in results.columns]
    if missing:
        raise FairGenError(
            f"the results table lacks the column(s) {', '.join(map(repr, missing))}: give a tidy table with one "
            f"row per (method, ratio, repetition, metric) and columns {', '.join(map(repr, REQUIRED_COLUMNS))} "
            f"(it has {list(results.columns)})."
        )
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise FairGenError(f"n_boot must be a positive whole number of resamples (e.g. 10000), not {n_boot!r}.")
    if isinstance(level, bool) or not isinstance(level, int | float | np.number) or not 0 < level < 1:
        raise FairGenError(f"level must lie strictly between 0 and 1 (e.g. 0.95 for 95 %), not {level!r}.")
    methods = list(pd.unique(results["method"]))
    if reference not in methods:
        raise FairGenError(
            f"the reference method {reference!r} is not in the results table, so there is nothing to pair with; "
            f"the methods present are {methods}: pass one of them as reference."
        )
    context = [c for c in CONTEXT_COLUMNS if c in results.columns]
    frame = results[[*context, *REQUIRED_COLUMNS]].copy()
    for column in ("value", "ratio"):
        numeric = pd.to_numeric(frame[column], errors="coerce")
        bad = numeric.isna() & frame[column].notna()
        if bad.any():
            raise FairGenError(
                f"the {column!r} column must hold numbers (NaN where missing); found "
                f"{frame.loc[bad, column].iloc[0]!r}: convert the column to floats first."
            )
        frame[column] = numeric.astype(float)
    return frame, context


def _reject_duplicates(frame: pd.DataFrame, keys: list[str], who: str) -> None:
    duplicated = frame.duplicated(subset=keys, keep=False)
    if duplicated.any():
        first = frame.loc[duplicated, keys].iloc[0].to_dict()
        raise FairGenError(
            f"{who} has more than one value for {first}: each repetition must occur once per "
            "(dataset, selection, method, ratio, metric), so the pairs by repetition are unambiguous."
        )
