"""The one selection rule: validation numbers only, the same for every method."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fairgen_core.classifier.selection import (
    Candidate,
    EpochRecorder,
    Validation,
    candidate,
    select,
    select_fair,
)
from fairgen_core.errors import FairGenError


def _candidates(*scores: tuple[float, float]) -> list[Candidate]:
    return [Candidate(accuracy, unfairness, np.full(3, i), np.full(3, float(i)), {"epoch": i})
            for i, (accuracy, unfairness) in enumerate(scores)]


def test_the_fairest_candidate_within_the_tolerance_wins() -> None:
    candidates = [(0.70, 0.30), (0.69, 0.10), (0.60, 0.00)]
    assert select_fair(candidates) == 1  # 0.60 is too far below the best 0.70
    assert select_fair(candidates, tolerance=0.2) == 2
    assert select_fair(candidates, tolerance=0.0) == 0


def test_the_two_rules_on_the_same_candidates() -> None:
    options = _candidates((0.70, 0.30), (0.69, 0.10), (0.60, 0.00), (float("nan"), 0.0))
    assert select(options, "accuracy") == 0
    assert select(options, "fair") == 1  # an undefined accuracy is never eligible
    with pytest.raises(FairGenError, match="selection rule"):
        select(options, "test")


def test_ties_and_undefined_fairness() -> None:
    assert select_fair([(0.70, 0.1), (0.71, 0.1)]) == 1  # equal fairness: the more accurate
    assert select_fair([(0.70, 0.1), (0.70, 0.1)]) == 0  # all equal: the earlier
    assert select_fair([(0.71, float("nan")), (0.70, 0.5)]) == 1  # undefined fairness counts as the worst
    with pytest.raises(FairGenError):
        select_fair([])
    with pytest.raises(FairGenError):
        select([], "accuracy")


def test_candidates_are_scored_on_validation_and_never_on_test() -> None:
    y_val, group_val = np.array([1, 1, 0, 0, 1, 1, 0, 0]), np.array([0, 0, 0, 0, 1, 1, 1, 1])
    validation = Validation(y_val, group_val, ("a", "b"))
    unfair = candidate(validation, np.where(group_val == 1, y_val, 1), np.ones(4), epoch=1)
    fair = candidate(validation, y_val, np.zeros(4), epoch=2)
    assert (unfair.val_balanced_accuracy, unfair.val_unfairness) == (0.75, 0.0)
    assert (fair.val_balanced_accuracy, fair.val_unfairness) == (1.0, 0.0)
    assert fair.test_predictions.tolist() == [0, 0, 0, 0] and unfair.test_predictions.tolist() == [1, 1, 1, 1]
    # the test predictions do not enter the choice: swapping them changes nothing
    swapped = [candidate(validation, np.where(group_val == 1, y_val, 1), np.zeros(4)),
               candidate(validation, y_val, np.ones(4))]
    assert select([unfair, fair], "fair") == select(swapped, "fair") == 1


def test_epoch_recorder_restores_the_chosen_weights() -> None:
    y_val, group_val = np.array([1, 1, 0, 0, 1, 1, 0, 0]), np.array([0, 0, 0, 0, 1, 1, 1, 1])
    layer = torch.nn.Linear(1, 1)
    recorder = EpochRecorder(Validation(y_val, group_val, ("a", "b")), [layer], keep_states=True)
    epochs = [  # validation probabilities per epoch, with the bias set to the epoch number
        np.where(group_val == 1, y_val, 1.0),  # accurate for b only: balanced accuracy 0.75
        y_val.astype(float),  # perfect: balanced accuracy 1, no gap
        np.where(group_val == 1, 1.0, y_val),  # as the first, mirrored
    ]
    for epoch, probability in enumerate(epochs, start=1):
        with torch.no_grad():
            layer.bias.fill_(float(epoch))
        recorder.record(probability, np.full(2, 0.1 * epoch), epoch=epoch)
    best = select(recorder.candidates, "fair")
    assert recorder.candidates[best].chosen["epoch"] == 2
    assert recorder.candidates[best].test_scores.tolist() == [0.2, 0.2]
    recorder.restore(best)
    assert layer.bias.detach().item() == 2.0
    assert not layer.training
    with pytest.raises(FairGenError, match="keep_states"):
        EpochRecorder(Validation(y_val, group_val, ("a", "b")), [layer]).restore(0)
