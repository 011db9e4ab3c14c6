"""Disparate impact remover (Feldman et al. 2015): per-group quantiles of each numeric feature pulled together.

The repair (:class:`~fairgen_core.mitigations.repair.QuantileRepair`) is learned on the training rows only
and then applied to the training, validation and test rows alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from fairgen_core.classifier.selection import Candidate, EpochRecorder
from fairgen_core.config import ClassifierConfig
from fairgen_core.errors import MethodUnavailableError
from fairgen_core.mitigations.aif import require_two_groups
from fairgen_core.mitigations.base import Network, network_candidates
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

    def networks(self, data: MethodData, config: ClassifierConfig) -> list[Network]:
        """Per level: the repair fitted on the training rows, every split repaired with it, C on the repaired rows."""
        require_two_groups(data, self.name)
        if not data.numeric_columns:
            raise MethodUnavailableError(f"{self.name} repairs numeric features, and this data has none.")
        out = []
        for level in self.levels:
            repair = QuantileRepair.fit(data.x_train, data.group_train, data.numeric_columns, level,
                                        n_groups=data.n_groups)
            out.append(Network(("repaired", float(level)), *(repair.apply(x, g) for x, g in (
                (data.x_train, data.group_train), (data.x_val, data.group_val), (data.x_test, data.group_test))),
                chosen={"repair_level": level}))
        return out

    def from_networks(self, data: MethodData, config: ClassifierConfig,
                      trained: Sequence[EpochRecorder]) -> list[Candidate]:
        """Every (repair level, epoch) a candidate."""
        return [c for recorder in trained for c in recorder.candidates]

    def candidates(self, data: MethodData, config: ClassifierConfig) -> list[Candidate]:
        """Per level: fit the repair on the training rows, repair every split with it, train C."""
        return network_candidates(self, data, config)
