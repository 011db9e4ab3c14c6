"""The reference: the classifier C trained on the real training rows, no mitigation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from fairgen_core.classifier.selection import Candidate, EpochRecorder
from fairgen_core.config import ClassifierConfig
from fairgen_core.mitigations.base import Network, network_candidates
from fairgen_core.mitigations.data import MethodData
from fairgen_core.results.table import BASELINE


@dataclass(frozen=True)
class Baseline:
    """The same network and training as the "no TL" classifier, on the rows as they are; every epoch a candidate."""

    name: ClassVar[str] = BASELINE

    def networks(self, data: MethodData, config: ClassifierConfig) -> list[Network]:
        """The plain network C on the training rows."""
        return [Network.plain(data)]

    def from_networks(self, data: MethodData, config: ClassifierConfig,
                      trained: Sequence[EpochRecorder]) -> list[Candidate]:
        """Each epoch's validation and test probabilities (threshold 0.5)."""
        return trained[0].candidates

    def candidates(self, data: MethodData, config: ClassifierConfig) -> list[Candidate]:
        """Train C on the training rows; every epoch a candidate."""
        return network_candidates(self, data, config)
