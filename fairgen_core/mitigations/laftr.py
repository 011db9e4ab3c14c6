"""LAFTR (Madras et al. 2018): adversarially fair representations, a classifier on top, in PyTorch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as fn

from fairgen_core.classifier.selection import Candidate, EpochRecorder
from fairgen_core.classifier.training import TrainResult, positive_weight
from fairgen_core.config import ClassifierConfig
from fairgen_core.devices import resolve_device
from fairgen_core.mitigations.data import MethodData
from fairgen_core.mitigations.torch_utils import cell_error, probabilities, row_batches


def _mlp(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out))


@dataclass(frozen=True)
class Laftr:
    """Encoder f(x) = z, classifier g(z), decoder k(z, a) and adversary h(z, y) trained by alternating steps.

    Each batch takes one Adam step of the adversary, which minimises its group-normalised ℓ1 error
    (:func:`~fairgen_core.mitigations.torch_utils.cell_error`, over (group, label) cells for equalised
    odds), then one step of encoder, classifier and decoder on
    ``alpha * L_class + beta * L_dec - gamma * error`` — the paper's ``α L_C + β L_Dec + γ L_Adv`` with
    ``L_Adv`` = (number of cells / 2) − error. L_class is the (class-balanced) binary cross-entropy and
    L_dec the mean squared reconstruction error of the encoded features. Every network has one hidden layer
    of ``config.hidden_dim`` units; any number of groups works (the adversary is a softmax). Training stops as every
    network of the comparison does (:meth:`~fairgen_core.classifier.training.TrainResult.update`:
    ``config.patience`` epochs without a better validation balanced accuracy, at most ``config.max_epochs``);
    every epoch is a candidate of the selection rule.

    Parameters
    ----------
    gamma : float
        Fairness coefficient γ (the paper sweeps 0.1 to 4).
    alpha : float
        Weight of the classification loss.
    beta : float
        Weight of the reconstruction loss.
    latent_dim : int
        Size of the representation z.
    equalised_odds : bool
        Adversary input (z, y) and cells per (group, label) — the paper's equalised-odds variant — or z alone
        and cells per group (demographic parity).
    """

    name: ClassVar[str] = "laftr"
    gamma: float = 1.0
    alpha: float = 1.0
    beta: float = 1.0
    latent_dim: int = 8
    equalised_odds: bool = True

    def candidates(self, data: MethodData, config: ClassifierConfig) -> list[Candidate]:
        """Train on the training rows; every epoch scored on validation and test rows."""
        device = resolve_device(config.device)
        torch.manual_seed(config.seed)
        hidden, n_groups = config.hidden_dim, data.n_groups
        encoder = _mlp(data.n_features, hidden, self.latent_dim).to(device)
        classifier = _mlp(self.latent_dim, hidden, 1).to(device)
        decoder = _mlp(self.latent_dim + n_groups, hidden, data.n_features).to(device)
        adversary = _mlp(self.latent_dim + int(self.equalised_odds), hidden, n_groups).to(device)
        model = (encoder, classifier, decoder)
        optimise_model = torch.optim.Adam([p for m in model for p in m.parameters()], lr=config.lr)
        optimise_adversary = torch.optim.Adam(adversary.parameters(), lr=config.lr)
        x, y, group = (torch.as_tensor(a, device=device) for a in (data.x_train, data.y_train, data.group_train))
        y = y.float()
        cells = 2 * group + y.long() if self.equalised_odds else group
        weight = positive_weight(y, y, 1.0) if config.balance_classes else None
        pos_weight = None if weight is None else torch.tensor(weight, device=device)
        rng = np.random.default_rng(config.seed)

        def logit_of(features: torch.Tensor) -> torch.Tensor:
            return classifier(encoder(features)).squeeze(1)

        recorder, progress = EpochRecorder(data.validation, []), TrainResult()
        for epoch in range(1, config.max_epochs + 1):
            for module in (*model, adversary):
                module.train()
            for rows in row_batches(len(x), config.batch_size, rng, device):
                z = encoder(x[rows])
                adversary_error = cell_error(adversary(self._adversary_input(z.detach(), y[rows])), group[rows],
                                             cells[rows])
                optimise_adversary.zero_grad(set_to_none=True)
                adversary_error.backward()
                optimise_adversary.step()
                classification = fn.binary_cross_entropy_with_logits(classifier(z).squeeze(1), y[rows],
                                                                      pos_weight=pos_weight)
                decoded = decoder(torch.cat([z, fn.one_hot(group[rows], n_groups).float()], dim=1))
                error = cell_error(adversary(self._adversary_input(z, y[rows])), group[rows], cells[rows])
                loss = (self.alpha * classification + self.beta * fn.mse_loss(decoded, x[rows])
                        - self.gamma * error)
                optimise_model.zero_grad(set_to_none=True)
                loss.backward()
                optimise_model.step()
            recorder.record(probabilities([encoder, classifier], logit_of, data.x_val, device),
                            probabilities([encoder, classifier], logit_of, data.x_test, device), epoch=epoch,
                            gamma=self.gamma)
            progress.update(epoch, recorder.candidates[-1].val_balanced_accuracy, config.patience)
            if progress.stopped == "early":
                break
        return recorder.candidates

    def _adversary_input(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.cat([z, y[:, None]], dim=1) if self.equalised_odds else z
