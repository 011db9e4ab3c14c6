"""Adversarial debiasing (Zhang, Lemoine & Mitchell 2018) with the network C as the predictor, in PyTorch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as fn

from fairgen_core.classifier.model import MLPClassifier
from fairgen_core.classifier.selection import Candidate, EpochRecorder
from fairgen_core.classifier.training import TrainResult, positive_weight
from fairgen_core.config import ClassifierConfig
from fairgen_core.devices import resolve_device
from fairgen_core.mitigations.data import MethodData
from fairgen_core.mitigations.torch_utils import probabilities, row_batches


@dataclass(frozen=True)
class AdversarialDebiasing:
    """C trained against an adversary that predicts the group from C's logit (and the true label).

    Each batch takes one Adam step of the adversary (cross-entropy on the group) and then one step of C
    on its classification loss minus ``alpha`` times the adversary's loss. With ``equalised_odds`` the
    adversary also sees the true label, so C is pushed towards equal error rates rather than equal
    selection rates. Zhang et al.'s projection of C's gradient is left out: alternating updates with a
    fixed ``alpha`` are enough on tabular data. Any number of groups works (the adversary is a softmax).
    Training stops as every network of the comparison does (:meth:`~fairgen_core.classifier.training.TrainResult.
    update`: ``config.patience`` epochs without a better validation balanced accuracy, at most
    ``config.max_epochs``); every epoch is a candidate of the selection rule.

    Parameters
    ----------
    alpha : float
        Weight of the adversary's loss in C's objective.
    equalised_odds : bool
        Give the adversary the true label (equalised odds) or not (demographic parity).
    adversary_hidden : int
        Width of the adversary's hidden layer.
    """

    name: ClassVar[str] = "adversarial_debiasing"
    alpha: float = 1.0
    equalised_odds: bool = True
    adversary_hidden: int = 16

    def candidates(self, data: MethodData, config: ClassifierConfig) -> list[Candidate]:
        """Train C and the adversary on the training rows; every epoch scored on validation and test rows."""
        device = resolve_device(config.device)
        predictor = MLPClassifier.from_config(data.n_features, config).to(device)
        adversary = nn.Sequential(nn.Linear(1 + int(self.equalised_odds), self.adversary_hidden), nn.ReLU(),
                                  nn.Linear(self.adversary_hidden, data.n_groups)).to(device)
        optimise_predictor = torch.optim.Adam(predictor.parameters(), lr=config.lr)
        optimise_adversary = torch.optim.Adam(adversary.parameters(), lr=config.lr)
        x, y, group = (torch.as_tensor(a, device=device) for a in (data.x_train, data.y_train, data.group_train))
        y = y.float()
        weight = positive_weight(y, y, 1.0) if config.balance_classes else None
        pos_weight = None if weight is None else torch.tensor(weight, device=device)
        rng = np.random.default_rng(config.seed)
        recorder, progress = EpochRecorder(data.validation, []), TrainResult()
        for epoch in range(1, config.max_epochs + 1):
            predictor.train()
            adversary.train()
            for rows in row_batches(len(x), config.batch_size, rng, device):
                logit = predictor(x[rows])
                adversary_loss = fn.cross_entropy(adversary(self._adversary_input(logit.detach(), y[rows])),
                                                  group[rows])
                optimise_adversary.zero_grad(set_to_none=True)
                adversary_loss.backward()
                optimise_adversary.step()
                fooled = fn.cross_entropy(adversary(self._adversary_input(logit, y[rows])), group[rows])
                loss = fn.binary_cross_entropy_with_logits(logit, y[rows], pos_weight=pos_weight) - self.alpha * fooled
                optimise_predictor.zero_grad(set_to_none=True)
                loss.backward()
                optimise_predictor.step()
            recorder.record(probabilities([predictor], predictor, data.x_val, device),
                            probabilities([predictor], predictor, data.x_test, device), epoch=epoch, alpha=self.alpha)
            progress.update(epoch, recorder.candidates[-1].val_balanced_accuracy, config.patience)
            if progress.stopped == "early":
                break
        return recorder.candidates

    def _adversary_input(self, logit: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.stack([logit, y], dim=1) if self.equalised_odds else logit[:, None]
