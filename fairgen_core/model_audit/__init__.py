"""Audit the user's own model: per-group rates, differences with bootstrap intervals, verdicts.

An auditor arrives with a model that already exists: its 0/1 decisions, or its scores in [0, 1] and a
threshold, one per data row. The package's modules, each with one job:

* :mod:`~fairgen_core.model_audit.inputs`: the columns that could be predictions (:func:`candidate_columns`);
  check prediction columns (:func:`model_inputs`) or align a second file of predictions with the data
  (:func:`join_predictions`); a refusal names the setting that fixes it (:data:`REMEDIES`), for each front end to
  point to its own control;
* :mod:`~fairgen_core.model_audit.config`: the threshold(s), bootstrap and :class:`Tolerances`
  (:class:`ModelAuditConfig`);
* :mod:`~fairgen_core.model_audit.audit`: :func:`audit_model` / :func:`audit_models` and their result,
  :class:`ModelAudit` (per-group table, differences, calibration, a summary in words);
* :mod:`~fairgen_core.model_audit.differences`: every group's differences against the privileged (reference) group,
  and with more than two groups the largest gap between any two (:data:`DIFFERENCE_METRICS`), with a counts-based,
  group-stratified bootstrap;
* :mod:`~fairgen_core.model_audit.verdicts`: each difference's verdict (:data:`VERDICTS`) and its note;
* :mod:`~fairgen_core.model_audit.calibration`: Brier score and reliability curve per group;
* :mod:`~fairgen_core.model_audit.thresholds`: per-group rates at any threshold (:func:`group_rates`) and the
  thresholds that equalise the TPR (:func:`equalising_thresholds`);
* :mod:`~fairgen_core.model_audit.run_models`: prediction columns recorded with a FairGen run
  (:func:`record_models`), audited by the run's report (:func:`audit_recorded`);
* :mod:`~fairgen_core.model_audit.compare`: the model on a FairGen run's test rows (:func:`metrics_on_rows`) next
  to the run's fair classifier and comparison methods (:func:`comparison_table`).
"""

from fairgen_core.model_audit.audit import PER_GROUP_COLUMNS, ModelAudit, audit_model, audit_models
from fairgen_core.model_audit.calibration import CALIBRATION_COLUMNS
from fairgen_core.model_audit.compare import (
    COMPARED_METRICS,
    COMPARISON_COLUMNS,
    FAIRGEN_RUN,
    YOUR_MODEL,
    comparison_table,
    fairgen_results,
    metrics_on_rows,
)
from fairgen_core.model_audit.config import ModelAuditConfig, Tolerances
from fairgen_core.model_audit.differences import (
    DIFFERENCE_COLUMNS,
    DIFFERENCE_METRICS,
    LARGEST_GAP,
    VS_REFERENCE,
    comparison_text,
)
from fairgen_core.model_audit.inputs import (
    MARK_AS_SCORES,
    MATCH_BY_KEY,
    REMEDIES,
    RESCALE_SCORES,
    ModelInput,
    candidate_columns,
    join_predictions,
    model_inputs,
)
from fairgen_core.model_audit.run_models import (
    RUN_MODELS_FILE,
    RecordedModels,
    audit_recorded,
    record_models,
    recorded_models,
)
from fairgen_core.model_audit.thresholds import EqualisingThresholds, equalising_thresholds, group_rates
from fairgen_core.model_audit.verdicts import DISPARITY, INSUFFICIENT, VERDICTS, WITHIN

__all__ = [
    "CALIBRATION_COLUMNS",
    "COMPARED_METRICS",
    "COMPARISON_COLUMNS",
    "DIFFERENCE_COLUMNS",
    "DIFFERENCE_METRICS",
    "DISPARITY",
    "FAIRGEN_RUN",
    "INSUFFICIENT",
    "LARGEST_GAP",
    "MARK_AS_SCORES",
    "MATCH_BY_KEY",
    "PER_GROUP_COLUMNS",
    "REMEDIES",
    "RESCALE_SCORES",
    "RUN_MODELS_FILE",
    "VERDICTS",
    "VS_REFERENCE",
    "WITHIN",
    "YOUR_MODEL",
    "EqualisingThresholds",
    "ModelAudit",
    "ModelAuditConfig",
    "ModelInput",
    "RecordedModels",
    "Tolerances",
    "audit_model",
    "audit_models",
    "audit_recorded",
    "candidate_columns",
    "comparison_table",
    "comparison_text",
    "equalising_thresholds",
    "fairgen_results",
    "group_rates",
    "join_predictions",
    "metrics_on_rows",
    "model_inputs",
    "record_models",
    "recorded_models",
]
