"""Random train/validation/test splits stratified by domain, repeatable by seed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fairgen_core.data.spec import DatasetSpec, assign_domains
from fairgen_core.errors import SpecError

#: Train, validation and test shares of every split (the paper's 70/15/15).
DEFAULT_FRACTIONS = (0.7, 0.15, 0.15)


@dataclass(frozen=True)
class Split:
    """Row positions of one train/validation/test split.

    Attributes
    ----------
    train, val, test : numpy.ndarray
        Sorted integer row positions; disjoint, and together all rows with a valid domain.
    seed : int
        The seed that produced this split (re-running with it gives the same split).
    repetition : int
        Index of the repetition this split belongs to.
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    seed: int
    repetition: int = 0


def split_by_domain(
    domains: np.ndarray,
    *,
    seed: int,
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    repetition: int = 0,
) -> Split:
    """Split rows at random, keeping every domain's share the same in each part.

    Parameters
    ----------
    domains : numpy.ndarray
        Domain index per row (see :class:`~fairgen_core.data.spec.DomainAssignment`); rows with a
        negative index (missing label or sensitive value) are left out.
    seed : int
        Seed of the random permutation.
    fractions : tuple of float
        Train, validation and test shares; must be positive and sum to 1.
    repetition : int
        Recorded on the result.

    Returns
    -------
    Split
        Within each domain the counts are ``round(n * fraction)`` for train and validation, the rest test.

    Examples
    --------
    >>> split = split_by_domain(np.repeat([0, 1], 100), seed=0)
    >>> len(split.train), len(split.val), len(split.test)
    (140, 30, 30)
    """
    _check_fractions(fractions)
    rng = np.random.default_rng(seed)
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    domains = np.asarray(domains)
    for domain in np.unique(domains[domains >= 0]):
        rows = rng.permutation(np.flatnonzero(domains == domain))
        n_train = round(len(rows) * fractions[0])
        n_val = round(len(rows) * fractions[1])
        for part, chunk in zip(parts, np.split(rows, [n_train, n_train + n_val])):
            part.append(chunk)
    train, val, test = (np.sort(np.concatenate(p)) if p else np.empty(0, dtype=np.int64) for p in parts)
    return Split(train, val, test, seed, repetition)


def default_split(frame: pd.DataFrame, spec: DatasetSpec, *, seed: int, repetition: int = 0) -> Split:
    """The split every run uses (the one rule): the rows' domains under ``spec``, split 70/15/15 with seed
    ``seed + repetition``, so that the repetitions of an experiment differ and each can be made again alone.

    Parameters
    ----------
    frame : pandas.DataFrame
        The whole table.
    spec : DatasetSpec
        Defines each row's domain (:func:`~fairgen_core.data.spec.assign_domains`).
    seed : int
        The seed of repetition 0 (a generator's ``config.seed``, an experiment's seed).
    repetition : int
        Which repetition of the protocol.

    Returns
    -------
    Split
        :func:`split_by_domain` of the domains with seed ``seed + repetition``, recording ``repetition``.

    Examples
    --------
    >>> from fairgen_core.data.spec import SensitiveAttribute
    >>> frame = pd.DataFrame({"y": [0, 1] * 50, "sex": ["F"] * 50 + ["M"] * 50})
    >>> spec = DatasetSpec("y", (1,), (SensitiveAttribute("sex", ("M",)),))
    >>> split = default_split(frame, spec, seed=7, repetition=2)
    >>> split.seed, split.repetition, len(split.train)
    (9, 2, 72)
    """
    return split_by_domain(assign_domains(frame, spec).domain, seed=seed + repetition, repetition=repetition)


def _check_fractions(fractions: tuple[float, float, float]) -> None:
    if len(fractions) != 3 or any(f <= 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise SpecError(
            f"split fractions must be three positive numbers summing to 1 (train, validation, test), "
            f"got {fractions}."
        )
