"""Reweighing (Kamiran & Calders 2012): per-(group, label) weights that make group and label independent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from fairgen_core.classifier.selection import Candidate, EpochRecorder
from fairgen_core.config import ClassifierConfig
from fairgen_core.errors import MethodUnavailableError
from fairgen_core.mitigations.aif import PRIVILEGED, UNPRIVILEGED, binary_label_dataset, require_two_groups
from fairgen_core.mitigations.base import Network, network_candidates
from fairgen_core.mitigations.data import MethodData


def reweighing_weights(y: np.ndarray, group: np.ndarray) -> np.ndarray:
    """aif360's ``Reweighing`` weight of every row: ``P(group) P(label) / P(group, label)``.

    Parameters
    ----------
    y : numpy.ndarray
        0/1 labels.
    group : numpy.ndarray
        0/1 groups (1 = privileged).

    Returns
    -------
    numpy.ndarray
        One weight per row; under them P(y = 1 | group) is the same for both groups.

    Raises
    ------
    MethodUnavailableError
        If a (group, label) cell is empty (its weight would be infinite).
    """
    from aif360.algorithms.preprocessing import Reweighing

    y, group = np.asarray(y), np.asarray(group)
    empty = [(g, label) for g in (0, 1) for label in (0, 1) if not ((group == g) & (y == label)).any()]
    if empty:
        raise MethodUnavailableError(f"reweighing needs rows in every (group, label) cell; empty: {empty}.")
    dataset = binary_label_dataset(np.zeros((len(y), 0)), y, group)
    reweighed = Reweighing(unprivileged_groups=UNPRIVILEGED, privileged_groups=PRIVILEGED).fit_transform(dataset)
    return np.asarray(reweighed.instance_weights, dtype=np.float64)


@dataclass(frozen=True)
class ReweighingMethod:
    """The network C trained with each training row's loss scaled by its reweighing weight."""

    name: ClassVar[str] = "reweighing"

    def networks(self, data: MethodData, config: ClassifierConfig) -> list[Network]:
        """C with the training rows weighted by their reweighing weights."""
        require_two_groups(data, self.name)
        return [Network(("reweighing",), data.x_train, data.x_val, data.x_test,
                        sample_weight=reweighing_weights(data.y_train, data.group_train))]

    def from_networks(self, data: MethodData, config: ClassifierConfig,
                      trained: Sequence[EpochRecorder]) -> list[Candidate]:
        """Every epoch of the weighted network a candidate."""
        return trained[0].candidates

    def candidates(self, data: MethodData, config: ClassifierConfig) -> list[Candidate]:
        """Weights from the training rows, then weighted training; every epoch a candidate."""
        return network_candidates(self, data, config)
