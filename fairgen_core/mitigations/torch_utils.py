"""Small PyTorch helpers shared by the adversarial methods."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn


def row_batches(n: int, batch_size: int, rng: np.random.Generator, device: torch.device) -> Iterator[torch.Tensor]:
    """Index tensors of one epoch of shuffled batches (the last one may be smaller).

    Examples
    --------
    >>> [len(b) for b in row_batches(10, 4, np.random.default_rng(0), torch.device("cpu"))]
    [4, 4, 2]
    """
    order = torch.as_tensor(rng.permutation(n), device=device)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


@torch.no_grad()
def probabilities(modules: Sequence[nn.Module], logit_of: Callable[[torch.Tensor], torch.Tensor],
                  x: np.ndarray, device: torch.device) -> np.ndarray:
    """``sigmoid(logit_of(x))`` with ``modules`` in eval mode and no gradients (they stay in eval mode)."""
    for module in modules:
        module.eval()
    return torch.sigmoid(logit_of(torch.as_tensor(x, dtype=torch.float32, device=device))).cpu().numpy()


def cell_error(group_logits: torch.Tensor, group: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
    """LAFTR's group-normalised ℓ1 error of an adversary, summed over the cells present in the batch.

    For each row the error is ``1 - p(true group)`` (with two groups, ``|h - a|`` of the paper); it is
    averaged within each cell (group, or group × label) and the cell averages are summed, so every cell
    weighs the same however small it is.

    Examples
    --------
    >>> logits = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])  # a clueless adversary: p = 0.5
    >>> float(cell_error(logits, torch.tensor([0, 1, 1]), torch.tensor([0, 1, 1])))
    1.0
    """
    error = 1.0 - torch.softmax(group_logits, dim=1).gather(1, group[:, None]).squeeze(1)
    n_cells = int(cells.max()) + 1
    sums = torch.zeros(n_cells, device=error.device).index_add(0, cells, error)
    counts = torch.bincount(cells, minlength=n_cells)
    present = counts > 0
    return (sums[present] / counts[present]).sum()
