"""The paper's classifier C: three dense layers with ReLU and dropout."""

from __future__ import annotations

import torch
from torch import nn

from fairgen_core.config import ClassifierConfig


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
            nn.Linear(n_features, hidden_dim), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden_dim, hidden_dim), nn.ReLU(), nn.Dropout(dropout),
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
