"""The one model-selection rule every method uses, on validation rows only.

Every method — ours, "no TL", the Baseline and each comparison method — produces *candidates* (training
epochs, repair levels, post-processing variants), each with its predictions on the validation rows and on
the test rows. :func:`select` then chooses one candidate by a named rule, looking at validation numbers
only:

* ``accuracy`` — the best validation balanced accuracy;
* ``fair`` — the smallest validation |equal opportunity difference| among the candidates whose balanced
  accuracy is within :data:`SELECTION_TOLERANCE` of the best one.

No method chooses for itself, so every results table can name the rule its numbers were selected by.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np
import torch
from torch import nn

from fairgen_core.errors import FairGenError
from fairgen_core.metrics.fairness import fairness_report

SelectionRule = Literal["accuracy", "fair"]
#: The selection rules, in the order results tables list them.
SELECTION_RULES: tuple[str, ...] = ("accuracy", "fair")
#: Each rule in words, for tables and pages.
RULE_DESCRIPTIONS: dict[str, str] = {
    "accuracy": "best validation balanced accuracy",
    "fair": "smallest validation |equal opportunity difference| within 0.02 of the best validation balanced accuracy",
}
#: The rule the product uses where one rule is shown.
DEFAULT_SELECTION: SelectionRule = "fair"
#: ``fair``: a candidate is eligible when its validation balanced accuracy is within this of the best one.
SELECTION_TOLERANCE = 0.02
#: ``fair``: the validation fairness metric eligible candidates are ranked by (smaller is fairer).
SELECTION_METRIC = "abs_equal_opportunity_difference"


def check_selection(rule: str) -> str:
    """``rule`` if it is a selection rule, else a :class:`FairGenError` naming the rules.

    Examples
    --------
    >>> check_selection("fair")
    'fair'
    """
    if rule not in SELECTION_RULES:
        raise FairGenError(f"the selection rule must be one of {', '.join(SELECTION_RULES)}, got '{rule}'.")
    return rule


@dataclass(frozen=True, eq=False)
class Validation:
    """Validation rows' labels and groups: everything the rule looks at besides a candidate's predictions."""

    y: np.ndarray
    group: np.ndarray
    group_names: tuple[str, ...]

    def scores(self, predictions: np.ndarray) -> tuple[float, float]:
        """Balanced accuracy and :data:`SELECTION_METRIC` of 0/1 ``predictions`` (NaN where undefined)."""
        report = fairness_report(self.y, np.asarray(predictions).astype(np.int64), self.group, self.group_names)
        return float(report.overall["balanced_accuracy"]), float(report.absolute[SELECTION_METRIC])


@dataclass(frozen=True, eq=False)
class Candidate:
    """One choice a method could make, with its validation and test outputs.

    Attributes
    ----------
    val_balanced_accuracy, val_unfairness : float
        Validation balanced accuracy and :data:`SELECTION_METRIC` — all the rule reads.
    test_predictions : numpy.ndarray
        0/1 predictions on the test rows (never read by the rule).
    test_scores : numpy.ndarray
        The scores the test predictions threshold.
    chosen : mapping of str to float
        What the candidate is (``epoch``, ``repair_level``, ...).
    state : object, optional
        Whatever restores the candidate's model (weights), for callers that keep the model.
    """

    val_balanced_accuracy: float
    val_unfairness: float
    test_predictions: np.ndarray
    test_scores: np.ndarray
    chosen: Mapping[str, float] = field(default_factory=dict)
    state: object = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "chosen", MappingProxyType({k: float(v) for k, v in self.chosen.items()}))


def candidate(validation: Validation, val_predictions: np.ndarray, test_scores: np.ndarray, *,
              test_predictions: np.ndarray | None = None, state: object = None, **chosen: float) -> Candidate:
    """A :class:`Candidate` scored on ``validation``; test predictions default to ``test_scores >= 0.5``."""
    accuracy, unfairness = validation.scores(val_predictions)
    test_scores = np.asarray(test_scores, dtype=np.float64).ravel()
    predictions = (test_scores >= 0.5) if test_predictions is None else np.asarray(test_predictions)
    return Candidate(accuracy, unfairness, predictions.astype(np.int64), test_scores, chosen, state)


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
    accuracy = np.where(np.isnan(accuracy), -np.inf, accuracy)
    eligible = accuracy >= np.max(accuracy) - tolerance
    order = sorted(np.flatnonzero(eligible),
                   key=lambda i: (np.inf if np.isnan(unfairness[i]) else unfairness[i], -accuracy[i], i))
    return int(order[0])


def select(candidates: Sequence[Candidate], rule: str, *, tolerance: float = SELECTION_TOLERANCE) -> int:
    """Index of the candidate the selection ``rule`` chooses, from validation numbers only.

    Examples
    --------
    >>> c = [Candidate(0.70, 0.20, np.zeros(1), np.zeros(1)), Candidate(0.69, 0.05, np.zeros(1), np.zeros(1))]
    >>> select(c, "accuracy"), select(c, "fair")
    (0, 1)
    """
    scores = [(c.val_balanced_accuracy, c.val_unfairness) for c in candidates]
    if check_selection(rule) == "fair":
        return select_fair(scores, tolerance=tolerance)
    if not scores:
        raise FairGenError("no candidates to select from.")
    accuracy = np.array([s[0] for s in scores], dtype=np.float64)
    return int(np.argmax(np.where(np.isnan(accuracy), -np.inf, accuracy)))


class EpochRecorder:
    """Turns every training epoch of some networks into a :class:`Candidate`.

    Parameters
    ----------
    validation : Validation
        Scores the epochs.
    modules : sequence of torch.nn.Module
        The networks whose weights make up a candidate (kept when ``keep_states``).
    keep_states : bool
        Keep a copy of the weights of every epoch (to restore the chosen one afterwards).
    """

    def __init__(self, validation: Validation, modules: Sequence[nn.Module], *, keep_states: bool = False) -> None:
        self.validation, self.modules, self.keep_states = validation, tuple(modules), keep_states
        self.candidates: list[Candidate] = []
        self.val_probabilities: list[np.ndarray] = []

    def record(self, val_probability: np.ndarray, test_probability: np.ndarray, **chosen: float) -> None:
        """Score the current weights by their validation probabilities (threshold 0.5) and keep them."""
        state = [copy.deepcopy(m.state_dict()) for m in self.modules] if self.keep_states else None
        self.val_probabilities.append(np.asarray(val_probability, dtype=np.float64))
        self.candidates.append(candidate(self.validation, np.asarray(val_probability) >= 0.5, test_probability,
                                         state=state, **chosen))

    def restore(self, index: int) -> None:
        """Load the weights of candidate ``index`` (requires ``keep_states``); modules are left in eval mode."""
        state = self.candidates[index].state if 0 <= index < len(self.candidates) else None
        if state is None:
            raise FairGenError(f"no weights of candidate {index} were kept: record it with keep_states=True.")
        with torch.no_grad():
            for module, weights in zip(self.modules, state):
                module.load_state_dict(weights)
                module.eval()
