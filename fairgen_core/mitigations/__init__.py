"""The fairness mitigations the paper compares against, behind one interface.

:func:`run_method` runs any method of :data:`METHODS` on encoded train/validation/test rows
(:class:`MethodData`, built by :func:`method_data` from a fitted generator) and returns the
:class:`MethodResult` the selection rule chooses among the method's candidates
(:mod:`fairgen_core.classifier.selection`); :func:`compare_methods` runs several with repeated seeds and
returns the tidy table of the ratio sweep. Methods that need something the data lacks (e.g. aif360's need
for exactly two groups) return a ``skipped_reason`` instead of raising.
"""

from fairgen_core.errors import MethodUnavailableError
from fairgen_core.mitigations.adversarial import AdversarialDebiasing
from fairgen_core.mitigations.base import Method, MethodResult
from fairgen_core.mitigations.baseline import Baseline
from fairgen_core.mitigations.calibrated_eq_odds import CalibratedEqOdds, CeoFit, calibrated_equalized_odds
from fairgen_core.mitigations.compare import compare_methods, method_metrics, results_table
from fairgen_core.mitigations.data import MethodData, method_data
from fairgen_core.mitigations.disparate_impact import DisparateImpactRemoverMethod
from fairgen_core.mitigations.group_thresholds import GroupThresholds
from fairgen_core.mitigations.laftr import Laftr
from fairgen_core.mitigations.meta_fair import MetaFair
from fairgen_core.mitigations.registry import METHODS, evaluate_method, evaluate_methods, get_method, run_method
from fairgen_core.mitigations.repair import QuantileRepair
from fairgen_core.mitigations.reweighing import ReweighingMethod, reweighing_weights

__all__ = [
    "METHODS",
    "AdversarialDebiasing",
    "Baseline",
    "CalibratedEqOdds",
    "CeoFit",
    "DisparateImpactRemoverMethod",
    "GroupThresholds",
    "Laftr",
    "MetaFair",
    "Method",
    "MethodData",
    "MethodResult",
    "MethodUnavailableError",
    "QuantileRepair",
    "ReweighingMethod",
    "calibrated_equalized_odds",
    "compare_methods",
    "evaluate_method",
    "evaluate_methods",
    "get_method",
    "method_data",
    "method_metrics",
    "results_table",
    "reweighing_weights",
    "run_method",
]
