"""What every comparison method shares: its result, its protocol and model selection on validation rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar, Protocol

import numpy as np

from fairgen_core.config import ClassifierConfig
from fairgen_core.errors import FairGenError
from fairgen_core.mitigations.data import MethodData


class MethodUnavailableError(FairGenError):
    """A method cannot run on this data (e.g. it needs exactly two groups); the message says why."""


@dataclass(frozen=True, eq=False)
class MethodResult:
    """Test-split output of one comparison method, or why it was skipped.

    Attributes
    ----------
    method : str
        Registry name of the method.
    predictions : numpy.ndarray or None
        0/1 predictions on the test rows (1 = favourable); None when skipped.
    scores : numpy.ndarray or None
        The scores the predictions threshold (a probability of the favourable label for every method
        but ``meta_fair``, whose scores are aif360's ``(t + 1) / 2``); None when skipped.
    chosen : mapping of str to float
        Hyper-parameters chosen on the validation rows or fitted (e.g. ``repair_level``, ``epoch``).
    skipped_reason : str or None
        Why the method did not run; None when it ran.
    seconds : float
        Wall time of the run (NaN until :func:`~fairgen_core.mitigations.run_method` sets it).
    """

    method: str
    predictions: np.ndarray | None = None
    scores: np.ndarray | None = None
    chosen: Mapping[str, float] = field(default_factory=dict)
    skipped_reason: str | None = None
    seconds: float = float("nan")

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

    ``run`` trains on the training rows, chooses anything it chooses on the validation rows only, and
    predicts the test rows; the seed is ``config.seed``. It raises :class:`MethodUnavailableError` when it
    cannot run on the data.
    """

    name: ClassVar[str]

    def run(self, data: MethodData, config: ClassifierConfig) -> MethodResult:
        """Fit on ``data``'s training rows and predict its test rows."""
        ...


def result_from_scores(method: str, scores: np.ndarray, chosen: Mapping[str, float] | None = None) -> MethodResult:
    """A :class:`MethodResult` whose predictions are ``scores >= 0.5`` (scores: probabilities of the favourable
    label)."""
    scores = np.asarray(scores, dtype=np.float64).ravel()
    return MethodResult(method, (scores >= 0.5).astype(np.int64), scores, dict(chosen or {}))
