"""How a model is audited: the threshold(s), the bootstrap and the tolerances of the verdicts."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fairgen_core.errors import FairGenError


def _whole(value: object) -> bool:
    """A whole number (not a bool); used by the configs' checks, defined before their default instances."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


@dataclass(frozen=True)
class Tolerances:
    """How large a difference may be before it counts as a disparity.

    Parameters
    ----------
    statistical_parity : float
        Largest acceptable |difference in selection rate| (default 0.1).
    disparate_impact : float
        The four-fifths rule: a selection-rate ratio below this (default 0.8) or above its inverse (1.25)
        is a disparity. In (0, 1).
    equal_opportunity : float
        Largest acceptable |TPR difference| (default 0.1).
    average_odds : float
        Largest acceptable mean of |TPR difference| and |FPR difference| (default 0.1).
    predictive_parity : float
        Largest acceptable |precision difference| (default 0.1).
    min_positives : int
        Fewest cases a compared group needs in each denominator of a metric (rows, positives, negatives
        or selected rows; default 30); fewer gives "insufficient evidence".
    """

    statistical_parity: float = 0.1
    disparate_impact: float = 0.8
    equal_opportunity: float = 0.1
    average_odds: float = 0.1
    predictive_parity: float = 0.1
    min_positives: int = 30

    def __post_init__(self) -> None:
        for name in ("statistical_parity", "equal_opportunity", "average_odds", "predictive_parity"):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise FairGenError(f"the {name.replace('_', ' ')} tolerance must lie in (0, 1), e.g. 0.1, not "
                                   f"{value!r}.")
        if not 0 < self.disparate_impact < 1:
            raise FairGenError(f"the disparate impact tolerance is the lowest acceptable ratio, in (0, 1) (the "
                               f"four-fifths rule: 0.8), not {self.disparate_impact!r}.")
        if not _whole(self.min_positives) or self.min_positives < 1:
            raise FairGenError(f"min_positives must be a positive whole number (e.g. 30), not {self.min_positives!r}.")

    def for_metric(self, metric: str) -> float:
        """The tolerance of one of :data:`DIFFERENCE_METRICS`."""
        return {
            "statistical_parity_difference": self.statistical_parity,
            "disparate_impact": self.disparate_impact,
            "equal_opportunity_difference": self.equal_opportunity,
            "average_abs_odds_difference": self.average_odds,
            "predictive_parity_difference": self.predictive_parity,
        }[metric]


@dataclass(frozen=True)
class ModelAuditConfig:
    """How a model is audited.

    Parameters
    ----------
    threshold : float
        For scores: decision = ``score >= threshold`` (default 0.5). Ignored for 0/1 decisions.
    group_thresholds : tuple of float, optional
        For scores: one threshold per group index (overrides ``threshold``).
    bootstrap : int
        Bootstrap resamples per model (default 1000).
    seed : int
        Seed of the resampling; every model gets a generator seeded with it.
    confidence : float
        Coverage of the intervals, in (0, 1) (default 0.95).
    tolerances : Tolerances
        When a difference is a disparity.
    calibration_bins : int
        Equal-width score bins of the reliability curve (default 10).
    """

    threshold: float = 0.5
    group_thresholds: tuple[float, ...] | None = None
    bootstrap: int = 1000
    seed: int = 0
    confidence: float = 0.95
    tolerances: Tolerances = field(default_factory=Tolerances)
    calibration_bins: int = 10

    def __post_init__(self) -> None:
        for value in (self.threshold, *(self.group_thresholds or ())):
            if not 0 <= value <= 1:
                raise FairGenError(f"a threshold applies to scores in [0, 1], so it must lie in [0, 1], not {value!r}.")
        if not _whole(self.bootstrap) or self.bootstrap < 1:
            raise FairGenError(f"bootstrap must be a positive number of resamples (e.g. 1000), not {self.bootstrap!r}.")
        if not 0 < self.confidence < 1:
            raise FairGenError(f"confidence must lie strictly between 0 and 1 (e.g. 0.95), not {self.confidence!r}.")
        if not _whole(self.calibration_bins) or self.calibration_bins < 1:
            raise FairGenError(f"calibration_bins must be a positive whole number, not {self.calibration_bins!r}.")
