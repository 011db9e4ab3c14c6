"""The reference: the classifier C trained on the real training rows, no mitigation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from fairgen_core.classifier.selection import Candidate
from fairgen_core.classifier.training import train_real_only
from fairgen_core.config import ClassifierConfig
from fairgen_core.mitigations.base import epoch_candidates
from fairgen_core.mitigations.data import MethodData
from fairgen_core.results.table import BASELINE


@dataclass(frozen=True)
class Baseline:
    """The same network and training as the "no TL" classifier, on the rows as they are; every epoch a candidate."""

    name: ClassVar[str] = BASELINE

    def candidates(self, data: MethodData, config: ClassifierConfig) -> list[Candidate]:
        """Train C on the training rows; each epoch's validation and test probabilities (threshold 0.5)."""
        return epoch_candidates(data, lambda on_epoch: train_real_only(
            data.x_train, data.y_train, data.x_val, data.y_val, config, on_epoch=on_epoch))
