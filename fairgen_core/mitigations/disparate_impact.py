"""Disparate impact remover (Feldman et al. 2015): per-group quantiles of each numeric feature pulled together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from fairgen_core.classifier.training import predict, train_real_only
from fairgen_core.config import ClassifierConfig
from fairgen_core.errors import FairGenError
from fairgen_core.mitigations.aif import GROUP, binary_label_dataset, require_two_groups
from fairgen_core.mitigations.base import MethodResult, MethodUnavailableError, result_from_scores
from fairgen_core.mitigations.data import MethodData
from fairgen_core.mitigations.selection import SELECTION_TOLERANCE, select_fair, validation_scores


def repair_features(x: np.ndarray, group: np.ndarray, columns: Sequence[int], level: float) -> np.ndarray:
    """A copy of ``x`` whose ``columns`` are repaired by aif360's ``DisparateImpactRemover``.

    Each value moves towards the same quantile of the median distribution over the groups, by ``level``:
    at 1 the groups' distributions of a repaired column are equal, at 0 nothing changes. The repair
    uses the rows it is given only (aif360 has no separate fit), so each split is repaired on its own.

    Parameters
    ----------
    x : numpy.ndarray
        Encoded features.
    group : numpy.ndarray
        0/1 group per row.
    columns : sequence of int
        Columns to repair (numeric ones; one-hot slots are left alone).
    level : float
        Repair level in [0, 1].

    Notes
    -----
    aif360 delegates to BlackBoxAuditing, which walks the *distinct* values of a column in quantile
    buckets, so a column with many ties (e.g. age in whole years) is only approximately equalised;
    near-continuous columns end up with (nearly) equal per-group quantiles.
    """
    from aif360.algorithms.preprocessing import DisparateImpactRemover

    if not 0.0 <= level <= 1.0:
        raise FairGenError(f"the repair level must be in [0, 1], got {level}.")
    columns = list(columns)
    dataset = binary_label_dataset(x[:, columns], np.zeros(len(x)), group)
    repaired = DisparateImpactRemover(repair_level=level, sensitive_attribute=GROUP).fit_transform(dataset)
    out = np.array(x, dtype=np.float32, copy=True)
    out[:, columns] = repaired.features[:, : len(columns)]
    return out


@dataclass(frozen=True)
class DisparateImpactRemoverMethod:
    """Repaired numeric features, then the network C; the repair level is chosen on the validation rows.

    Parameters
    ----------
    levels : tuple of float
        Candidate repair levels. Each trains C on the repaired training rows; the chosen level is the one
        with the smallest validation |equal opportunity difference| among those within ``tolerance`` of
        the best validation balanced accuracy (:func:`~fairgen_core.mitigations.selection.select_fair`).
    tolerance : float
        Balanced-accuracy tolerance of the choice.
    """

    name: ClassVar[str] = "disparate_impact_remover"
    levels: tuple[float, ...] = (0.5, 0.8, 1.0)
    tolerance: float = SELECTION_TOLERANCE

    def run(self, data: MethodData, config: ClassifierConfig) -> MethodResult:
        """Repair every split at each level, train, choose on validation, predict the repaired test rows."""
        require_two_groups(data, self.name)
        if not data.numeric_columns:
            raise MethodUnavailableError(f"{self.name} repairs numeric features, and this data has none.")
        candidates, models = [], []
        for level in self.levels:
            x_train, x_val = (repair_features(x, g, data.numeric_columns, level)
                              for x, g in ((data.x_train, data.group_train), (data.x_val, data.group_val)))
            model = train_real_only(x_train, data.y_train, x_val, data.y_val, config)
            candidates.append(validation_scores(data, predict(model, x_val)))
            models.append(model)
        best = select_fair(candidates, tolerance=self.tolerance)
        x_test = repair_features(data.x_test, data.group_test, data.numeric_columns, self.levels[best])
        return result_from_scores(self.name, predict(models[best], x_test), {"repair_level": self.levels[best]})
