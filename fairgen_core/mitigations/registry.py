"""The comparison methods by name and the one entry point that runs any of them."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from fairgen_core.config import ClassifierConfig
from fairgen_core.errors import FairGenError
from fairgen_core.mitigations.adversarial import AdversarialDebiasing
from fairgen_core.mitigations.base import Method, MethodResult, MethodUnavailableError
from fairgen_core.mitigations.baseline import Baseline
from fairgen_core.mitigations.calibrated_eq_odds import CalibratedEqOdds
from fairgen_core.mitigations.data import MethodData
from fairgen_core.mitigations.disparate_impact import DisparateImpactRemoverMethod
from fairgen_core.mitigations.laftr import Laftr
from fairgen_core.mitigations.meta_fair import MetaFair
from fairgen_core.mitigations.reweighing import ReweighingMethod

logger = logging.getLogger(__name__)

#: Every comparison method with its default settings, by name (the paper's comparison set plus the baseline).
METHODS: Mapping[str, Method] = MappingProxyType({
    method.name: method for method in (
        Baseline(), ReweighingMethod(), DisparateImpactRemoverMethod(), CalibratedEqOdds(), MetaFair(),
        AdversarialDebiasing(), Laftr(),
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


def run_method(method: str | Method, data: MethodData, config: ClassifierConfig | None = None, *,
               seed: int | None = None) -> MethodResult:
    """Run one comparison method; a method that cannot run returns a result with ``skipped_reason``.

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

    Returns
    -------
    MethodResult
        Test predictions and scores, the chosen hyper-parameters and the wall time; or, when the method
        cannot run on this data (:class:`MethodUnavailableError`) or fails, no predictions and the reason,
        so that one method never ends a whole comparison. Failures other than
        :class:`MethodUnavailableError` are also logged with their traceback.

    Raises
    ------
    FairGenError
        For an unknown method name (a mistake of the caller, not of the method).
    """
    method = get_method(method)
    config = config or ClassifierConfig()
    if seed is not None:
        config = replace(config, seed=seed)
    start = time.perf_counter()
    try:
        result = method.run(data, config)
    except MethodUnavailableError as error:
        result = MethodResult(method.name, skipped_reason=str(error))
    except Exception as error:  # one failing method must not end a comparison of several
        logger.exception("comparison method %s failed", method.name)
        result = MethodResult(method.name, skipped_reason=f"failed: {type(error).__name__}: {error}")
    return replace(result, seconds=time.perf_counter() - start)
