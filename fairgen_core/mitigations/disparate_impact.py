"""Disparate impact remover (Feldman et al. 2015): per-group quantiles of each numeric feature pulled together.

The repair (:class:`~fairgen_core.mitigations.repair.QuantileRepair`) is learned on the training rows only
and then applied to the training, validation and test rows alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from fairgen_core.classifier.selection import Candidate, EpochRecorder
from fairgen_core.classifier.training import recording, train_real_only
from fairgen_core.config import ClassifierConfig
from fairgen_core.mitigations.aif import require_two_groups
from fairgen_core.mitigations.base import MethodUnavailableError
from fairgen_core.mitigations.data import MethodData
from fairgen_core.mitigations.repair import QuantileRepair


@dataclass(frozen=True)
class DisparateImpactRemoverMethod:
    """Repaired numeric features, then the network C; every (repair level, epoch) is a candidate.

    Parameters
    ----------
    levels : tuple of float
        Repair levels tried. Each fits its repair on the training rows and trains C on the repaired rows.
    """

    name: ClassVar[str] = "disparate_impact_remover"
    levels: tuple[float, ...] = (0.5, 0.8, 1.0)

    def candidates(self, data: MethodData, config: ClassifierConfig) -> list[Candidate]:
        """Per level: fit the repair on the training rows, repair every split with it, train C."""
        require_two_groups(data, self.name)
        if not data.numeric_columns:
            raise MethodUnavailableError(f"{self.name} repairs numeric features, and this data has none.")
        out: list[Candidate] = []
        for level in self.levels:
            repair = QuantileRepair.fit(data.x_train, data.group_train, data.numeric_columns, level,
                                        n_groups=data.n_groups)
            x_train, x_val, x_test = (repair.apply(x, g) for x, g in (
                (data.x_train, data.group_train), (data.x_val, data.group_val), (data.x_test, data.group_test)))
            recorder = EpochRecorder(data.validation, [])
            train_real_only(x_train, data.y_train, x_val, data.y_val, config,
                            on_epoch=recording(recorder, x_val, x_test, repair_level=level))
            out += recorder.candidates
        return out
