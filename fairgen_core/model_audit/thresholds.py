"""Decisions from scores at other thresholds: per-group rates for a slider, and the thresholds that equalise TPR."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fairgen_core.errors import FairGenError
from fairgen_core.metrics.fairness import cell_counts, confusion_rates
from fairgen_core.model_audit.config import ModelAuditConfig


@dataclass(frozen=True)
class EqualisingThresholds:
    """Per-group thresholds that equalise the TPR, and their cost in balanced accuracy.

    Attributes
    ----------
    threshold : float
        The single threshold the target comes from.
    target_tpr : float
        The overall TPR at ``threshold``, which every group's TPR is brought close to.
    thresholds : tuple of float
        The threshold of each group index (``threshold`` for a group without positives).
    tpr : tuple of float
        Each group's TPR at its threshold (NaN without positives).
    balanced_accuracy_single, balanced_accuracy_equalised : float
        Overall balanced accuracy at the single threshold and at the group thresholds.
    """

    threshold: float
    target_tpr: float
    thresholds: tuple[float, ...]
    tpr: tuple[float, ...]
    balanced_accuracy_single: float
    balanced_accuracy_equalised: float

    @property
    def cost(self) -> float:
        """Balanced accuracy lost by using the group thresholds (negative: gained)."""
        return self.balanced_accuracy_single - self.balanced_accuracy_equalised


def group_rates(
    y: np.ndarray,
    values: np.ndarray,
    group: np.ndarray,
    threshold: float | Sequence[float],
    group_names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per-group size, selection rate, TPR and FPR at a threshold: fast enough for a slider.

    Parameters
    ----------
    y : numpy.ndarray
        Binary labels (1 = favourable) of the rows, e.g. ``assign_domains(...).label[valid]``.
    values : numpy.ndarray
        Scores in [0, 1] (or 0/1 decisions, with any threshold in (0, 1]) of the same rows.
    group : numpy.ndarray
        Group index per row, e.g. ``assign_domains(...).group[valid]``.
    threshold : float or sequence of float
        One threshold for everybody, or one per group index; decision = ``value >= threshold``.
    group_names : sequence of str, optional
        Names of the groups (default: the indices; their number gives the number of groups).

    Returns
    -------
    pandas.DataFrame
        Index ``group``; columns ``threshold``, ``n``, ``positives``, ``negatives``, ``selection_rate``,
        ``tpr``, ``fpr`` (NaN with a zero denominator).

    Examples
    --------
    >>> table = group_rates(np.array([1, 0, 1, 0]), np.array([0.9, 0.6, 0.4, 0.2]), np.array([0, 0, 1, 1]),
    ...                     0.5, ["a", "b"])
    >>> table[["selection_rate", "tpr", "fpr"]].to_dict("list")
    {'selection_rate': [1.0, 0.0], 'tpr': [1.0, 0.0], 'fpr': [1.0, 0.0]}
    """
    y, values, group = (np.asarray(a) for a in (y, values, group))
    if not len(y) == len(values) == len(group):
        raise FairGenError(f"labels, values and groups must have one entry per row, but have {len(y):,}, "
                           f"{len(values):,} and {len(group):,}.")
    n_groups = len(group_names) if group_names is not None else int(group.max(initial=-1)) + 1
    thresholds = _group_threshold_array(threshold, n_groups)
    counts = cell_counts(y.astype(np.int64), (values >= thresholds[group]).astype(np.int64), group, n_groups)
    rates = confusion_rates(counts)
    return pd.DataFrame(
        {
            "threshold": thresholds,
            "n": counts.sum(axis=(1, 2)),
            "positives": counts[:, 1].sum(axis=1),
            "negatives": counts[:, 0].sum(axis=1),
            "selection_rate": rates["selection_rate"],
            "tpr": rates["tpr"],
            "fpr": rates["fpr"],
        },
        index=pd.Index(list(group_names) if group_names is not None else range(n_groups), name="group"),
    )


def equalising_thresholds(
    y: np.ndarray,
    scores: np.ndarray,
    group: np.ndarray,
    *,
    threshold: float = 0.5,
    grid: np.ndarray | None = None,
) -> EqualisingThresholds:
    """Per-group thresholds that equalise the TPR (the post-processing anchor), and their cost.

    Parameters
    ----------
    y : numpy.ndarray
        Binary labels (1 = favourable).
    scores : numpy.ndarray
        Scores in [0, 1] of the same rows.
    group : numpy.ndarray
        Group index per row (``0 .. n_groups - 1``).
    threshold : float
        The single threshold; the target TPR is the overall TPR there.
    grid : numpy.ndarray, optional
        Candidate thresholds (default ``0, 0.01, ..., 1``). Each group gets the candidate whose TPR is
        closest to the target (ties: the candidate closest to ``threshold``).

    Returns
    -------
    EqualisingThresholds
        The thresholds, the TPR each reaches, and the overall balanced accuracy at the single threshold
        and at the group thresholds (``cost`` is their difference).

    Examples
    --------
    >>> y = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    >>> s = np.array([0.9, 0.7, 0.4, 0.1, 0.45, 0.35, 0.2, 0.1])
    >>> result = equalising_thresholds(y, s, np.array([0, 0, 0, 0, 1, 1, 1, 1]), threshold=0.5)
    >>> result.target_tpr, result.tpr, result.thresholds
    (0.5, (0.5, 0.5), (0.71, 0.45))
    """
    y, scores, group = (np.asarray(a) for a in (y, scores, group))
    grid = np.round(np.linspace(0, 1, 101), 10) if grid is None else np.sort(np.asarray(grid, dtype=float))
    n_groups = int(group.max(initial=-1)) + 1
    positive = y == 1
    target = float(np.mean(scores[positive] >= threshold)) if positive.any() else math.nan
    chosen, reached = [], []
    for g in range(n_groups):
        ranked = np.sort(scores[positive & (group == g)])
        if not ranked.size or math.isnan(target):
            chosen.append(float(threshold))
            reached.append(math.nan)
            continue
        tpr = 1 - np.searchsorted(ranked, grid, side="left") / ranked.size
        error = np.abs(tpr - target)
        ties = np.flatnonzero(error <= error.min() + 1e-12)
        best = ties[np.argmin(np.abs(grid[ties] - threshold))]
        chosen.append(float(grid[best]))
        reached.append(float(tpr[best]))
    return EqualisingThresholds(
        threshold=float(threshold),
        target_tpr=target,
        thresholds=tuple(chosen),
        tpr=tuple(reached),
        balanced_accuracy_single=_balanced_accuracy(y, scores >= threshold),
        balanced_accuracy_equalised=_balanced_accuracy(y, scores >= np.asarray(chosen)[group]),
    )


def model_decisions(values: np.ndarray, group: np.ndarray, n_groups: int, *, is_score: bool,
                    config: ModelAuditConfig) -> tuple[np.ndarray, tuple[float, ...] | None]:
    """A model's 0/1 decisions: scores against the config's threshold(s), decisions as they are.

    Parameters
    ----------
    values : numpy.ndarray
        The model's scores in [0, 1] or 0/1 decisions, one per row.
    group : numpy.ndarray
        Group index per row (``0 .. n_groups - 1``).
    n_groups : int
        Number of groups (``config.group_thresholds``, when given, holds one threshold each).
    is_score : bool
        Whether ``values`` are scores.
    config : ModelAuditConfig
        The threshold, or the group thresholds.

    Returns
    -------
    decisions : numpy.ndarray of int64
        1 where ``score >= threshold of the row's group`` (scores), else the decisions themselves.
    thresholds : tuple of float or None
        Each group's threshold; None for decisions.

    Examples
    --------
    >>> model_decisions(np.array([0.2, 0.6, 0.6]), np.array([0, 0, 1]), 2, is_score=True,
    ...                 config=ModelAuditConfig(group_thresholds=(0.5, 0.7)))
    (array([0, 1, 0]), (0.5, 0.7))
    """
    if not is_score:
        return values.astype(np.int64), None
    thresholds = _group_threshold_array(
        config.group_thresholds if config.group_thresholds is not None else config.threshold, n_groups)
    return (values >= thresholds[group]).astype(np.int64), tuple(float(t) for t in thresholds)


def _group_threshold_array(threshold: float | Sequence[float], n_groups: int) -> np.ndarray:
    thresholds = np.broadcast_to(np.asarray(threshold, dtype=float), (n_groups,)) if np.ndim(threshold) == 0 \
        else np.asarray(threshold, dtype=float)
    if thresholds.shape != (n_groups,):
        raise FairGenError(f"give one threshold, or one per group ({n_groups}), not {len(thresholds)}.")
    return thresholds


def _balanced_accuracy(y: np.ndarray, decisions: np.ndarray) -> float:
    rates = confusion_rates(cell_counts(y.astype(np.int64), decisions.astype(np.int64), np.zeros(len(y), np.int64), 1))
    return float(rates["balanced_accuracy"][0])
