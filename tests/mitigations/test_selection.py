"""Choosing on validation rows: the fairest candidate nearly as accurate as the best."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fairgen_core.errors import FairGenError
from fairgen_core.mitigations import EpochSelector, MethodData, select_fair


def test_the_fairest_candidate_within_the_tolerance_wins() -> None:
    candidates = [(0.70, 0.30), (0.69, 0.10), (0.60, 0.00)]
    assert select_fair(candidates) == 1  # 0.60 is too far below the best 0.70
    assert select_fair(candidates, tolerance=0.2) == 2
    assert select_fair(candidates, tolerance=0.0) == 0


def test_ties_and_undefined_fairness() -> None:
    assert select_fair([(0.70, 0.1), (0.71, 0.1)]) == 1  # equal fairness: the more accurate
    assert select_fair([(0.70, 0.1), (0.70, 0.1)]) == 0  # all equal: the earlier
    assert select_fair([(0.71, float("nan")), (0.70, 0.5)]) == 1  # undefined fairness counts as the worst
    with pytest.raises(FairGenError):
        select_fair([])


def test_epoch_selector_restores_the_chosen_weights() -> None:
    y_val, group_val = np.array([1, 1, 0, 0, 1, 1, 0, 0]), np.array([0, 0, 0, 0, 1, 1, 1, 1])
    zeros = np.zeros((8, 1))
    data = MethodData(zeros, y_val, group_val, zeros, y_val, group_val, zeros, y_val, group_val,
                      group_names=("a", "b"))
    layer = torch.nn.Linear(1, 1)
    selector = EpochSelector(data, [layer])
    epochs = [  # validation probabilities per epoch, with the bias set to the epoch number
        np.where(group_val == 1, y_val, 1.0),  # accurate for b only: TPRs equal, balanced accuracy 0.75
        y_val.astype(float),  # perfect: balanced accuracy 1, no gap
        np.where(group_val == 1, 1.0, y_val),  # as the first, mirrored
    ]
    for epoch, probability in enumerate(epochs, start=1):
        with torch.no_grad():
            layer.bias.fill_(float(epoch))
        selector.record(probability)
    chosen = selector.restore()
    assert chosen["epoch"] == 2
    assert chosen["val_balanced_accuracy"] == 1.0
    assert layer.bias.detach().item() == 2.0
    assert not layer.training
