"""What every comparison method shares: its result, its protocol and model selection on validation rows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar, Protocol

import numpy as np

from fairgen_core.classifier.selection import DEFAULT_SELECTION, Candidate, EpochRecorder
from fairgen_core.classifier.training import EpochHook, recording
from fairgen_core.config import ClassifierConfig
from fairgen_core.errors import FairGenError
from fairgen_core.mitigations.data import MethodData


class MethodUnavailableError(FairGenError):
    """A method cannot run on this data (e.g. it needs exactly two groups); the message says why."""


@dataclass(frozen=True, eq=False)
class MethodResult:
    """Test-split output of one comparison method under one selection rule, or why it was skipped.

    Attributes
    ----------
    method : str
        Registry name of the method.
    predictions : numpy.ndarray or None
        0/1 predictions on the test rows (1 = favourable); None when skipped.
    scores : numpy.ndarray or None
        The scores the predictions threshold (a probability of the favourable label for most methods;
        ``meta_fair``'s are aif360's ``(t + 1) / 2``, ``group_thresholds``' the 0/1 decisions); None when skipped.
    chosen : mapping of str to float
        What the selection rule chose on the validation rows (``epoch``, ``repair_level``, ...) and the
        chosen candidate's validation balanced accuracy and |equal opportunity difference|.
    skipped_reason : str or None
        Why the method did not run; None when it ran.
    seconds : float
        Wall time of the run (NaN until :func:`~fairgen_core.mitigations.run_method` sets it).
    selection : str
        The selection rule (:data:`~fairgen_core.classifier.selection.SELECTION_RULES`).
    """

    method: str
    predictions: np.ndarray | None = None
    scores: np.ndarray | None = None
    chosen: Mapping[str, float] = field(default_factory=dict)
    skipped_reason: str | None = None
    seconds: float = float("nan")
    selection: str = DEFAULT_SELECTION

    def __post_init__(self) -> None:
        object.__setattr__(self, "chosen", MappingProxyType({k: float(v) for k, v in self.chosen.items()}))

    @property
    def skipped(self) -> bool:
        """True when the method did not run."""
        return self.skipped_reason is not None

    @property
    def note(self) -> str:
        """The skipped reason, or the chosen hyper-parameters as ``name=value`` pairs.

        Examples
        --------
        >>> MethodResult("dir", chosen={"repair_level": 0.8}).note
        'repair_level=0.8'
        """
        if self.skipped_reason is not None:
            return self.skipped_reason
        return ", ".join(f"{name}={value:g}" for name, value in self.chosen.items())


class Method(Protocol):
    """A comparison method: a frozen dataclass of its own settings with a class-level name.

    ``candidates`` trains on the training rows and returns every choice it could make (epochs, levels,
    post-processing variants), each scored on the validation rows and with its test predictions; it never
    chooses: :func:`~fairgen_core.mitigations.run_method` applies the one selection rule. The seed is
    ``config.seed``. It raises :class:`MethodUnavailableError` when it cannot run on the data.
    """

    name: ClassVar[str]

    def candidates(self, data: MethodData, config: ClassifierConfig) -> list[Candidate]:
        """Fit on ``data``'s training rows; every candidate with its validation scores and test predictions."""
        ...


def epoch_candidates(data: MethodData, train: Callable[[EpochHook], object], **chosen: float) -> list[Candidate]:
    """Every epoch of a network C as a candidate: ``train(on_epoch)`` trains it and calls ``on_epoch`` per epoch."""
    recorder = EpochRecorder(data.validation, [])
    train(recording(recorder, data.x_val, data.x_test, **chosen))
    return recorder.candidates
