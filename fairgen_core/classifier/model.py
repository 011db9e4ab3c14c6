"""The paper's classifier C: three dense layers with ReLU and dropout, and its settings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn

from fairgen_core.config import Device
from fairgen_core.errors import FairGenError


@dataclass(frozen=True)
class ClassifierConfig:
    """Hyper-parameters of the classifier C and of its pre-training and fine-tuning.

    Parameters
    ----------
    hidden_dim : int
        Width of the two hidden layers.
    dropout : float
        Dropout after each hidden layer (the paper uses 0.7).
    lr : float
        Adam learning rate.
    batch_size : int
        Rows per step.
    max_epochs : int
        Upper bound on passes over the training rows.
    patience : int
        Epochs without improvement of the validation balanced accuracy before stopping; 0 disables
        early stopping.
    seed : int
        Seed of initialisation, batching, dropout and the synthetic rows.
    device : {"auto", "cpu", "cuda"}
        ``auto`` uses CUDA when available.
    pretrain_rows_per_domain : int
        Synthetic rows drawn per (group, label) domain for pre-training (exactly balanced).
    balance_classes : bool
        Weight the positive class by (negatives / positives) of the training mix, which trains as on
        label-balanced data (the paper's "balanced real data") and makes the 0.5 threshold meaningful
        for balanced accuracy.

    Examples
    --------
    >>> ClassifierConfig(max_epochs=10).to_dict()["max_epochs"]
    10
    """

    hidden_dim: int = 64
    dropout: float = 0.7
    lr: float = 1e-3
    batch_size: int = 256
    max_epochs: int = 100
    patience: int = 5
    seed: int = 0
    device: Device = "auto"
    pretrain_rows_per_domain: int = 5000
    balance_classes: bool = True

    def __post_init__(self) -> None:
        for name in ("hidden_dim", "lr", "batch_size", "max_epochs", "pretrain_rows_per_domain"):
            if getattr(self, name) <= 0:
                raise FairGenError(f"classifier setting '{name}' must be positive, got {getattr(self, name)}.")
        if not 0.0 <= self.dropout < 1.0:
            raise FairGenError(f"dropout must be in [0, 1), got {self.dropout}.")
        if self.patience < 0:
            raise FairGenError(f"patience must be 0 (no early stopping) or more, got {self.patience}.")
        if self.device not in ("auto", "cpu", "cuda"):
            raise FairGenError(f"device must be 'auto', 'cpu' or 'cuda', got '{self.device}'.")

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary (JSON and checkpoint friendly)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ClassifierConfig:
        """Rebuild from :meth:`to_dict`, ignoring unknown keys from other versions."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


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
