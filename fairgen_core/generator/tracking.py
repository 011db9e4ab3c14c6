"""The bookkeeping of a generator training, one job per piece: the kept checkpoint, early stopping, divergence,
the time left and the resumable checkpoint file. ``training.fit_generator`` composes them after every epoch."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fairgen_core.config import GeneratorConfig
from fairgen_core.errors import FairGenError, TrainingDivergedError
from fairgen_core.generator.loss_terms import LossTerms


@dataclass
class BestCheckpoint:
    """The best validation score so far, its Fréchet distance and weights, and the evaluations since it.

    Examples
    --------
    >>> best = BestCheckpoint()
    >>> [best.consider(s, 0.1, {}) for s in (0.5, 0.7, 0.6)], best.score, best.stale, best.exhausted(patience=1)
    ([True, True, False], 0.7, 1, True)
    """

    score: float | None = None
    fid: float | None = None
    state: dict[str, torch.Tensor] | None = None
    stale: int = 0

    def consider(self, score: float, fid: float, weights: dict[str, torch.Tensor]) -> bool:
        """Keep ``weights`` (copied) when ``score`` beats the best; True when it did."""
        if self.score is None or score > self.score:
            self.score, self.fid, self.stale = score, fid, 0
            self.state = copy.deepcopy(weights)
            return True
        self.stale += 1
        return False

    def exhausted(self, patience: int) -> bool:
        """Whether ``patience`` evaluations in a row did not improve (0: never)."""
        return bool(patience) and self.stale >= patience


def epochs_left(config: GeneratorConfig, epoch: int, stale: int) -> int:
    """Epochs that may still run: the epoch budget, or sooner the early-stopping patience (in evaluations).

    Examples
    --------
    >>> epochs_left(GeneratorConfig(epochs=100, patience=5, eval_every=2), epoch=10, stale=3)
    4
    """
    left = config.epochs - epoch
    if config.patience:
        left = min(left, (config.patience - stale) * config.eval_every)
    return max(left, 0)


def check_finite(step_losses: LossTerms[list[float]], *, epoch: int, lr: float,
                 checkpoint_path: str | Path | None) -> None:
    """Raise :class:`TrainingDivergedError` at the first NaN or infinite loss of an epoch.

    Parameters
    ----------
    step_losses : LossTerms of list of float
        Every loss term's value at every step of the epoch.
    epoch : int
        Epochs finished before this one.
    lr : float
        The learning rate, named in the advice.
    checkpoint_path : str or pathlib.Path, optional
        Where the last good epoch's checkpoint lies.

    Notes
    -----
    Of the terms that break at the same step, the first one a step computes is named (the order of the fields of
    :class:`~fairgen_core.generator.loss_terms.LossTerms`): the cause rather than the totals it spoils.
    """
    named = step_losses.as_dict()
    first = {name: next((step for step, value in enumerate(values) if not np.isfinite(value)), None)
             for name, values in named.items()}
    diverged = sorted((step, position, name) for position, (name, step) in enumerate(first.items())
                      if step is not None)
    if diverged:
        bad, _, name = diverged[0]
        kept = (f"The checkpoint of epoch {epoch}, the last good one, is kept in {checkpoint_path}. "
                if epoch and checkpoint_path is not None else "No checkpoint had been written yet. ")
        raise TrainingDivergedError(
            f"training diverged: the loss term '{name}' became {named[name][bad]} at epoch {epoch + 1}, "
            f"step {bad + 1}. {kept}Lower the learning rate (now {lr:g}) or the adversarial weight, check numeric "
            "columns for extreme values, and train again."
        )


def write_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write a checkpoint atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, temporary)
    temporary.replace(path)


def resumable(state: dict[str, Any], dimensions: list[int]) -> dict[str, Any]:
    """The training state of a checkpoint, checked to fit a translator of ``dimensions``.

    Raises
    ------
    FairGenError
        If the checkpoint has no training state or was trained on other data or settings.
    """
    training = state.get("training")
    if training is None:
        raise FairGenError("the checkpoint has no training state to resume from: start a new run instead.")
    if state["dimensions"] != dimensions:
        raise FairGenError("the checkpoint was trained on different data or settings: it cannot be resumed "
                           "with these; start a new run.")
    return training
