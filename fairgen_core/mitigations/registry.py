"""The comparison methods by name and the one entry point that runs any of them."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from fairgen_core.classifier.selection import (
    DEFAULT_SELECTION,
    SELECTION_METRIC,
    Candidate,
    EpochRecorder,
    check_selection,
    select,
)
from fairgen_core.classifier.stacked import StackJob, train_stack
from fairgen_core.config import ClassifierConfig
from fairgen_core.devices import resolve_device
from fairgen_core.errors import FairGenError, MethodUnavailableError
from fairgen_core.mitigations.adversarial import AdversarialDebiasing
from fairgen_core.mitigations.base import Method, MethodResult, NetworkMethod, network_job
from fairgen_core.mitigations.baseline import Baseline
from fairgen_core.mitigations.calibrated_eq_odds import CalibratedEqOdds
from fairgen_core.mitigations.data import MethodData
from fairgen_core.mitigations.disparate_impact import DisparateImpactRemoverMethod
from fairgen_core.mitigations.group_thresholds import GroupThresholds
from fairgen_core.mitigations.laftr import Laftr
from fairgen_core.mitigations.meta_fair import MetaFair
from fairgen_core.mitigations.reweighing import ReweighingMethod

logger = logging.getLogger(__name__)

#: Every comparison method with its default settings, by name (the paper's comparison set, the baseline and
#: group-specific thresholds, the strongest known post-processing anchor).
METHODS: Mapping[str, Method] = MappingProxyType({
    method.name: method for method in (
        Baseline(), ReweighingMethod(), DisparateImpactRemoverMethod(), CalibratedEqOdds(), MetaFair(),
        AdversarialDebiasing(), Laftr(), GroupThresholds(),
    )
})


def get_method(method: str | Method) -> Method:
    """The registered method of that name, or ``method`` itself when it is already a method.

    Raises
    ------
    FairGenError
        For an unknown name; the message lists the known ones.

    Examples
    --------
    >>> get_method("laftr").gamma
    1.0
    """
    if not isinstance(method, str):
        return method
    if method not in METHODS:
        raise FairGenError(f"unknown comparison method '{method}': choose one of {', '.join(METHODS)}.")
    return METHODS[method]


def evaluate_method(method: str | Method, data: MethodData, config: ClassifierConfig | None = None, *,
                    seed: int | None = None, selections: Sequence[str] = (DEFAULT_SELECTION,)) -> list[MethodResult]:
    """Run one comparison method once and select its result by every rule of ``selections``.

    Parameters
    ----------
    method : str or Method
        A name in :data:`METHODS`, or a method instance with non-default settings (e.g. ``Laftr(gamma=4)``).
    data : MethodData
        Encoded train/validation/test rows.
    config : ClassifierConfig, optional
        The network and training settings shared by the methods (default ``ClassifierConfig()``).
    seed : int, optional
        Replaces ``config.seed`` (initialisation, batching and any random choice of the method).
    selections : sequence of str
        Selection rules (:data:`~fairgen_core.classifier.selection.SELECTION_RULES`).

    Returns
    -------
    list of MethodResult
        One per rule, in order: the test predictions and scores of the candidate the rule chose
        (:func:`~fairgen_core.classifier.selection.select`, the one rule for every method), what was
        chosen, and the wall time of the whole run. When the method cannot run on this data
        (:class:`MethodUnavailableError`) or fails, no predictions and the reason, so that one method never
        ends a whole comparison; failures other than :class:`MethodUnavailableError` are also logged with
        their traceback.

    Raises
    ------
    FairGenError
        For an unknown method name or selection rule (a mistake of the caller, not of the method).
    """
    return evaluate_methods([method], data, config, seeds=[seed], selections=selections)[0][0]


def evaluate_methods(methods: Sequence[str | Method], data: MethodData, config: ClassifierConfig | None = None, *,
                     seeds: Sequence[int | None] = (None,), selections: Sequence[str] = (DEFAULT_SELECTION,),
                     on_done: Callable[[int, str, list[MethodResult]], object] | None = None,
                     ) -> list[list[list[MethodResult]]]:
    """:func:`evaluate_method` for every method and seed, the networks C of all of them trained together.

    Every network a :class:`~fairgen_core.mitigations.base.NetworkMethod` asks for, for every seed, is trained in
    one stack (:func:`~fairgen_core.classifier.stacked.train_stack`: the same networks as one at a time), and a
    network several methods ask for (the plain network under the baseline, group thresholds and calibrated
    equalised odds) is trained once per seed; such a method is finished as soon as its networks stop, while the
    stack goes on. The other methods run one by one after it. A method's ``seconds`` is its own work plus its
    share of the stack (by the epochs its networks ran).

    Parameters
    ----------
    methods : sequence of str or Method
        Names in :data:`METHODS` or method instances.
    data : MethodData
        Encoded train/validation/test rows.
    config : ClassifierConfig, optional
        Shared network and training settings (default ``ClassifierConfig()``).
    seeds : sequence of int or None
        One repetition per seed (None: ``config.seed``).
    selections : sequence of str
        Selection rules.
    on_done : callable, optional
        ``on_done(seed index, method name, results)`` as each method of each seed is finished, in the order they
        finish: its results, one per rule, as returned, except that a network method's ``seconds`` do not yet
        include its share of the stack (known when the stack ends).

    Returns
    -------
    list of list of list of MethodResult
        ``[seed][method][rule]``.
    """
    methods = [get_method(method) for method in methods]
    selections = [check_selection(rule) for rule in selections]
    config = config or ClassifierConfig()
    configs = [config if seed is None else replace(config, seed=seed) for seed in seeds]
    runs = {(s, m): _Run(method.name) for s in range(len(configs)) for m, method in enumerate(methods)}
    stack = _Stack(data)
    for (s, m), run in runs.items():
        if isinstance(methods[m], NetworkMethod):
            run.attempt(stack.ask, methods[m], configs[s], (s, m))
    finished: set[tuple[int, int]] = set()

    def finish(user: tuple[int, int]) -> None:
        (s, m), run = user, runs[user]
        method, method_config = methods[m], configs[s]
        if not isinstance(method, NetworkMethod):
            run.attempt(method.candidates, data, method_config)
        elif run.error is None:
            run.attempt(method.from_networks, data, method_config, stack.recorders_of(user))
        finished.add(user)
        if on_done is not None:
            on_done(s, method.name, run.results(selections))

    stack.train(on_ready=finish)
    for user in runs:
        if user not in finished:
            finish(user)
    for user in stack.users:
        runs[user].seconds += stack.seconds_of(user)
    return [[runs[(s, m)].results(selections) for m in range(len(methods))] for s in range(len(configs))]


class _Run:
    """One method under one seed: its candidates or why it has none, and its wall time."""

    def __init__(self, name: str) -> None:
        self.name, self.seconds = name, 0.0
        self.candidates: list[Candidate] | None = None
        self.error: str | None = None

    def attempt(self, step: Callable[..., object], *args: object) -> None:
        """Run one step of the method, ``step(*args)``, timed; a list it returns is its candidates; an error ends
        the method."""
        if self.error is not None:
            return
        start = time.perf_counter()
        try:
            out = step(*args)
            if isinstance(out, list):
                self.candidates = out
        except MethodUnavailableError as error:
            self.error = str(error)
        except Exception as error:  # one failing method must not end a comparison of several
            logger.exception("comparison method %s failed", self.name)
            self.error = f"failed: {type(error).__name__}: {error}"
        self.seconds += time.perf_counter() - start

    def results(self, selections: Sequence[str]) -> list[MethodResult]:
        """One result per rule: the chosen candidate, or the reason the method did not run."""
        results = ([MethodResult(self.name, skipped_reason=self.error, selection=rule) for rule in selections]
                   if self.error is not None or self.candidates is None
                   else [_selected(self.name, self.candidates, rule) for rule in selections])
        return [replace(result, seconds=self.seconds) for result in results]


class _Stack:
    """The networks the methods ask for, each (seed, key) once, trained in one stack."""

    def __init__(self, data: MethodData) -> None:
        self.data = data
        self.index: dict[tuple[int, tuple[object, ...]], int] = {}
        self.jobs: list[StackJob] = []
        self.recorders: list[EpochRecorder] = []
        self.users: dict[object, list[int]] = {}
        self.epochs: list[int] = []
        self.sharing: list[int] = []  # per network: how many users asked for it
        self.seconds = 0.0

    def ask(self, method: NetworkMethod, config: ClassifierConfig, user: object) -> None:
        """Ask for ``method``'s networks (trained with ``config``) on behalf of ``user``."""
        wanted = []
        for network in method.networks(self.data, config):
            key = (config.seed, network.key)
            if key not in self.index:
                self.index[key] = len(self.jobs)
                self.recorders.append(EpochRecorder(self.data.validation, []))
                self.jobs.append(network_job(network, self.data, config, self.recorders[-1]))
            wanted.append(self.index[key])
        self.users[user] = wanted

    def train(self, on_ready: Callable[[Any], object]) -> None:
        """Train every network asked for; ``on_ready(user)`` as soon as all of a user's networks have stopped.

        The time ``on_ready`` takes is not the stack's (:meth:`seconds_of`).
        """
        if not self.jobs:
            return
        waiting = {user: set(wanted) for user, wanted in self.users.items() if wanted}
        outside = 0.0

        def stopped(index: int) -> None:
            nonlocal outside
            for user, left in waiting.items():
                if index in left:
                    left.discard(index)
                    if not left:
                        called = time.perf_counter()
                        on_ready(user)
                        outside += time.perf_counter() - called

        start = time.perf_counter()
        outcomes = train_stack(self.jobs, self.data.y_val, device=resolve_device(self.jobs[0].config.device),
                               on_done=lambda index, _result: stopped(index))
        self.seconds = time.perf_counter() - start - outside
        self.epochs = [len(outcome.result.history) for outcome in outcomes]
        self.sharing = [sum(i in wanted for wanted in self.users.values()) for i in range(len(self.jobs))]

    def recorders_of(self, user: object) -> list[EpochRecorder]:
        """The recorded epochs of ``user``'s networks, in the order asked."""
        return [self.recorders[i] for i in self.users[user]]

    def seconds_of(self, user: object) -> float:
        """``user``'s share of the stack's wall time: by epochs run, a shared network split among its users."""
        total = sum(self.epochs) or 1
        return sum(self.seconds * self.epochs[i] / total / self.sharing[i] for i in self.users[user])


def _selected(name: str, candidates: Sequence[Candidate], rule: str) -> MethodResult:
    chosen = candidates[select(candidates, rule)]
    described = {**chosen.chosen, "val_balanced_accuracy": chosen.val_balanced_accuracy,
                 f"val_{SELECTION_METRIC}": chosen.val_unfairness}
    return MethodResult(name, chosen.test_predictions, chosen.test_scores, described, selection=rule)


def run_method(method: str | Method, data: MethodData, config: ClassifierConfig | None = None, *,
               seed: int | None = None, selection: str = DEFAULT_SELECTION) -> MethodResult:
    """:func:`evaluate_method` with one selection rule: the result that rule chooses."""
    return evaluate_method(method, data, config, seed=seed, selections=(selection,))[0]
