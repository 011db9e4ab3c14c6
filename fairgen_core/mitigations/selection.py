"""Model selection on the validation rows: the fairest candidate that is nearly as accurate as the best."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
from torch import nn

from fairgen_core.errors import FairGenError
from fairgen_core.metrics.fairness import fairness_report
from fairgen_core.mitigations.data import MethodData

#: A candidate is kept when its validation balanced accuracy is within this of the best candidate's.
SELECTION_TOLERANCE = 0.02
#: The validation fairness metric candidates are ranked by (smaller is fairer).
SELECTION_METRIC = "abs_equal_opportunity_difference"


def validation_scores(data: MethodData, probability: np.ndarray) -> tuple[float, float]:
    """Balanced accuracy and :data:`SELECTION_METRIC` of ``probability >= 0.5`` on the validation rows.

    The fairness value is NaN when it is undefined (e.g. a group without favourable labels).
    """
    predictions = (np.asarray(probability) >= 0.5).astype(np.int64)
    report = fairness_report(data.y_val, predictions, data.group_val, data.group_names)
    return float(report.overall["balanced_accuracy"]), float(report.absolute[SELECTION_METRIC])


def select_fair(candidates: Sequence[tuple[float, float]], *, tolerance: float = SELECTION_TOLERANCE) -> int:
    """Index of the fairest candidate among those nearly as accurate as the most accurate one.

    Parameters
    ----------
    candidates : sequence of (float, float)
        Validation ``(balanced accuracy, unfairness)`` per candidate; a NaN unfairness counts as the worst.
    tolerance : float
        Candidates with a balanced accuracy at least ``best - tolerance`` are eligible.

    Returns
    -------
    int
        The eligible candidate with the smallest unfairness; ties go to the higher balanced accuracy,
        then to the earlier candidate.

    Examples
    --------
    >>> select_fair([(0.70, 0.20), (0.69, 0.05), (0.60, 0.00)])
    1
    """
    if not candidates:
        raise FairGenError("no candidates to select from.")
    accuracy = np.array([c[0] for c in candidates], dtype=np.float64)
    unfairness = np.array([c[1] for c in candidates], dtype=np.float64)
    eligible = accuracy >= np.max(accuracy) - tolerance
    order = sorted(np.flatnonzero(eligible),
                   key=lambda i: (np.inf if np.isnan(unfairness[i]) else unfairness[i], -accuracy[i], i))
    return int(order[0])


class EpochSelector:
    """Remembers the weights and validation scores of every epoch and restores the one :func:`select_fair` picks.

    Adversarial methods trade accuracy for fairness as training goes on, so the epoch is chosen by the
    same rule as other hyper-parameters rather than by accuracy alone.

    Parameters
    ----------
    data : MethodData
        Its validation rows score the epochs.
    modules : sequence of torch.nn.Module
        The networks whose weights make up a candidate.
    tolerance : float
        Balanced-accuracy tolerance of :func:`select_fair`.
    """

    def __init__(self, data: MethodData, modules: Sequence[nn.Module], *,
                 tolerance: float = SELECTION_TOLERANCE) -> None:
        self.data, self.modules, self.tolerance = data, tuple(modules), tolerance
        self.scores: list[tuple[float, float]] = []
        self._states: list[list[dict]] = []

    def record(self, val_probability: np.ndarray) -> None:
        """Score the current weights by their validation probabilities and keep a copy of them."""
        self.scores.append(validation_scores(self.data, val_probability))
        self._states.append([copy.deepcopy(module.state_dict()) for module in self.modules])

    def restore(self) -> dict[str, float]:
        """Load the selected epoch's weights (modules left in eval mode) and describe the choice.

        Returns
        -------
        dict
            ``epoch`` (from 1), its ``val_balanced_accuracy`` and its validation :data:`SELECTION_METRIC`.
        """
        best = select_fair(self.scores, tolerance=self.tolerance)
        for module, state in zip(self.modules, self._states[best]):
            module.load_state_dict(state)
            module.eval()
        accuracy, unfairness = self.scores[best]
        return {"epoch": best + 1, "val_balanced_accuracy": accuracy, f"val_{SELECTION_METRIC}": unfairness}
