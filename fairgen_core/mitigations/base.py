"""What every comparison method shares: its result, its protocol and model selection on validation rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from fairgen_core.classifier.selection import DEFAULT_SELECTION, Candidate, EpochRecorder
from fairgen_core.classifier.stacked import StackJob, real_only_job, stack_recording, train_stack
from fairgen_core.config import ClassifierConfig
from fairgen_core.devices import resolve_device
from fairgen_core.mitigations.data import MethodData


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
    ``config.seed``. It raises :class:`~fairgen_core.errors.MethodUnavailableError` when it cannot run on the data.
    """

    name: ClassVar[str]

    def candidates(self, data: MethodData, config: ClassifierConfig) -> list[Candidate]:
        """Fit on ``data``'s training rows; every candidate with its validation scores and test predictions."""
        ...


@dataclass(frozen=True, eq=False)
class Network:
    """A network C that a method trains on the real training rows, every epoch of it a candidate.

    Attributes
    ----------
    key : tuple
        What the network is: methods that ask for networks with equal keys in one comparison (the baseline,
        group thresholds and calibrated equalised odds all post-process the plain network) share one training.
    x_train, x_val, x_test : numpy.ndarray
        Its inputs (the encoded rows, or a transformation of them, e.g. repaired features).
    sample_weight : numpy.ndarray, optional
        Loss weight of each training row.
    chosen : mapping of str to float
        What the network's candidates record besides their epoch (e.g. ``repair_level``).
    """

    key: tuple[object, ...]
    x_train: np.ndarray
    x_val: np.ndarray
    x_test: np.ndarray
    sample_weight: np.ndarray | None = None
    chosen: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def plain(cls, data: MethodData) -> Network:
        """C on the encoded rows as they are, unweighted: the baseline's network."""
        return cls(("plain",), data.x_train, data.x_val, data.x_test)


@runtime_checkable
class NetworkMethod(Method, Protocol):
    """A method whose candidates come from networks C trained on real rows (:class:`Network`), then post-processed.

    Splitting the training (``networks``) from the rest (``from_networks``) lets a comparison train every
    method's networks of every repetition together (:func:`~fairgen_core.classifier.stacked.train_stack`) and
    train a network several methods share only once.
    """

    def networks(self, data: MethodData, config: ClassifierConfig) -> list[Network]:
        """The networks to train (raises :class:`~fairgen_core.errors.MethodUnavailableError` when it cannot run)."""
        ...

    def from_networks(self, data: MethodData, config: ClassifierConfig,
                      trained: Sequence[EpochRecorder]) -> list[Candidate]:
        """The candidates, from every epoch of each network of :meth:`networks` (in order)."""
        ...


def network_job(network: Network, data: MethodData, config: ClassifierConfig, recorder: EpochRecorder) -> StackJob:
    """The stack job that trains ``network`` (seed ``config.seed``) and records its epochs into ``recorder``."""
    return real_only_job(network.x_train, data.y_train, network.x_val, config, x_test=network.x_test,
                         sample_weight=network.sample_weight, on_epoch=stack_recording(recorder, **network.chosen))


def train_networks(networks: Sequence[Network], data: MethodData, config: ClassifierConfig) -> list[EpochRecorder]:
    """Train ``networks`` in one stack; every epoch of each recorded as a candidate."""
    recorders = [EpochRecorder(data.validation, []) for _ in networks]
    train_stack([network_job(n, data, config, r) for n, r in zip(networks, recorders)], data.y_val,
                device=resolve_device(config.device))
    return recorders


def network_candidates(method: NetworkMethod, data: MethodData, config: ClassifierConfig) -> list[Candidate]:
    """A :class:`NetworkMethod`'s ``candidates``: train its networks, then :meth:`~NetworkMethod.from_networks`."""
    return method.from_networks(data, config, train_networks(method.networks(data, config), data, config))
