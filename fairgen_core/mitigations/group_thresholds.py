"""Group-specific thresholds on the baseline network (Hardt et al. 2016; fairlearn's ``ThresholdOptimizer``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from fairgen_core.classifier.selection import Candidate, EpochRecorder
from fairgen_core.classifier.thresholds import threshold_candidates
from fairgen_core.config import ClassifierConfig
from fairgen_core.mitigations.base import Network, network_candidates
from fairgen_core.mitigations.data import MethodData


@dataclass(frozen=True)
class GroupThresholds:
    """The baseline network C with one decision threshold per group, fitted on the validation rows.

    Every epoch of C, thresholded for equal opportunity and for equalised odds
    (:func:`~fairgen_core.classifier.thresholds.threshold_candidates`), is a candidate. Cruz & Hardt (ICLR 2024)
    found this post-processing of the most accurate model on the fairness–accuracy frontier of every method
    they tested. The group is read at prediction time.
    """

    name: ClassVar[str] = "group_thresholds"

    def networks(self, data: MethodData, config: ClassifierConfig) -> list[Network]:
        """The baseline's plain network C."""
        return [Network.plain(data)]

    def candidates(self, data: MethodData, config: ClassifierConfig) -> list[Candidate]:
        """Train C, then threshold every epoch's scores per group."""
        return network_candidates(self, data, config)

    def from_networks(self, data: MethodData, config: ClassifierConfig,
                      trained: Sequence[EpochRecorder]) -> list[Candidate]:
        """Every epoch's scores thresholded per group, for each constraint."""
        (recorder,) = trained
        return threshold_candidates(data.validation, recorder.val_probabilities,
                                    [c.test_scores for c in recorder.candidates], data.group_test,
                                    [c.chosen for c in recorder.candidates], seed=config.seed)
