"""The reference: the classifier C trained on the real training rows, no mitigation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from fairgen_core.classifier.training import predict, train_real_only
from fairgen_core.config import ClassifierConfig
from fairgen_core.mitigations.base import MethodResult, result_from_scores
from fairgen_core.mitigations.data import MethodData


@dataclass(frozen=True)
class Baseline:
    """The same network and training as the "no TL" classifier (epoch chosen on validation accuracy)."""

    name: ClassVar[str] = "baseline"

    def run(self, data: MethodData, config: ClassifierConfig) -> MethodResult:
        """Train C on the training rows and score the test rows (threshold 0.5)."""
        model = train_real_only(data.x_train, data.y_train, data.x_val, data.y_val, config)
        return result_from_scores(self.name, predict(model, data.x_test))
