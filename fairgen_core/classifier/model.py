"""The paper's classifier C: three dense layers with ReLU and dropout."""

from __future__ import annotations

import torch
from torch import nn

from fairgen_core.config import ClassifierConfig


def dropout_mask(uniform: torch.Tensor, p: float) -> torch.Tensor:
    """Inverted-dropout multipliers from uniform draws: ``1 / (1 - p)`` where ``uniform >= p``, else 0.

    Examples
    --------
    >>> dropout_mask(torch.tensor([0.1, 0.9]), 0.5).tolist()
    [0.0, 2.0]
    """
    return (uniform >= p).to(uniform.dtype).div_(1 - p)


class Dropout(nn.Module):
    """Dropout whose mask comes from ``torch.rand`` (:func:`dropout_mask`), not ``nn.Dropout``'s Bernoulli draw.

    The same distribution, ≈ 3× cheaper on CPU (``docs/benchmarks.md``), and the draw a stack of networks
    makes per network (:mod:`fairgen_core.classifier.stacked`), so a network trained alone or in a stack sees
    the same masks.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` times a fresh mask in training mode with ``p > 0``; ``x`` itself otherwise."""
        if not self.training or self.p == 0:
            return x
        return x * dropout_mask(torch.rand(x.shape, device=x.device), self.p).to(x.dtype)


class MLPClassifier(nn.Module):
    """C: in -> hidden -> hidden -> 1 logit, ReLU and dropout after each hidden layer.

    The input is the generator encoder's encoded features, which exclude the label and the sensitive
    attributes: the sensitive attribute is never an input.

    Examples
    --------
    >>> net = MLPClassifier(5, hidden_dim=8)
    >>> tuple(net(torch.zeros(3, 5)).shape)
    (3,)
    """

    def __init__(self, n_features: int, hidden_dim: int = 64, dropout: float = 0.7) -> None:
        super().__init__()
        self.n_features = n_features
        self.net = nn.Sequential(
            nn.Linear(n_features, hidden_dim), nn.ReLU(), Dropout(dropout),
            nn.Linear(hidden_dim, hidden_dim), nn.ReLU(), Dropout(dropout),
            nn.Linear(hidden_dim, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logit of the favourable label, one per row."""
        return self.net(x).squeeze(-1)

    @classmethod
    def from_config(cls, n_features: int, config: ClassifierConfig) -> MLPClassifier:
        """A freshly initialised network, seeded by ``config.seed``."""
        torch.manual_seed(config.seed)
        return cls(n_features, config.hidden_dim, config.dropout)
