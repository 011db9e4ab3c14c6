"""The comparison methods by name and the one entry point that runs any of them."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType

from fairgen_core.classifier.selection import DEFAULT_SELECTION, SELECTION_METRIC, Candidate, check_selection, select
from fairgen_core.config import ClassifierConfig
from fairgen_core.errors import FairGenError
from fairgen_core.mitigations.adversarial import AdversarialDebiasing
from fairgen_core.mitigations.base import Method, MethodResult, MethodUnavailableError
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
    method = get_method(method)
    selections = [check_selection(rule) for rule in selections]
    config = config or ClassifierConfig()
    if seed is not None:
        config = replace(config, seed=seed)
    start = time.perf_counter()
    try:
        candidates = method.candidates(data, config)
        results = [_selected(method.name, candidates, rule) for rule in selections]
    except MethodUnavailableError as error:
        results = [MethodResult(method.name, skipped_reason=str(error), selection=rule) for rule in selections]
    except Exception as error:  # one failing method must not end a comparison of several
        logger.exception("comparison method %s failed", method.name)
        results = [MethodResult(method.name, skipped_reason=f"failed: {type(error).__name__}: {error}",
                                selection=rule) for rule in selections]
    seconds = time.perf_counter() - start
    return [replace(result, seconds=seconds) for result in results]


def _selected(name: str, candidates: Sequence[Candidate], rule: str) -> MethodResult:
    chosen = candidates[select(candidates, rule)]
    described = {**chosen.chosen, "val_balanced_accuracy": chosen.val_balanced_accuracy,
                 f"val_{SELECTION_METRIC}": chosen.val_unfairness}
    return MethodResult(name, chosen.test_predictions, chosen.test_scores, described, selection=rule)


def run_method(method: str | Method, data: MethodData, config: ClassifierConfig | None = None, *,
               seed: int | None = None, selection: str = DEFAULT_SELECTION) -> MethodResult:
    """:func:`evaluate_method` with one selection rule: the result that rule chooses."""
    return evaluate_method(method, data, config, seed=seed, selections=(selection,))[0]
