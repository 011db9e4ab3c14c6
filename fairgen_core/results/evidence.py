"""What the audit of a run reads (:class:`RunEvidence`): the run folder, the data audit, the generator's quality,
validity and translation fidelity, and the user's models recorded with the run.

The HTML report (:mod:`~fairgen_core.results.report`), the verdicts (:mod:`~fairgen_core.results.verdicts`) and the
metrics export (:mod:`~fairgen_core.results.metrics_export`) all start from :func:`gather_evidence`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairgen_core.audit import AuditConfig, DataAudit, audit_data
from fairgen_core.data.spec import DatasetSpec, assign_domains, domain_table
from fairgen_core.data.structure import detect_structure
from fairgen_core.errors import FairGenError
from fairgen_core.generator.evaluation import (
    GeneratorQuality,
    QualitySamples,
    assess_quality,
    assess_translation,
    default_sigma,
    quality_samples,
)
from fairgen_core.generator.model import FairGenerator
from fairgen_core.metrics.translation import TranslationFidelity
from fairgen_core.metrics.validity import ValidityReport, validity
from fairgen_core.model_audit import ModelAudit, ModelInput, RecordedModels, audit_recorded, recorded_models
from fairgen_core.runs.layout import METHODS, SWEEP
from fairgen_core.runs.store import RunDir, RunManifest


@dataclass(frozen=True)
class RunEvidence:
    """Everything the report and the metrics export read about one run."""

    manifest: RunManifest
    progress: list[dict[str, Any]]
    quality: GeneratorQuality
    domains: pd.DataFrame
    domain_rows: pd.Series
    label_names: tuple[str, str]
    sweep: pd.DataFrame | None
    methods: pd.DataFrame | None
    translation: TranslationFidelity
    audit: DataAudit
    model_audit: RunModelAudit | None = None
    validity: ValidityReport | None = None


@dataclass(frozen=True)
class RunModelAudit:
    """The user's model(s) recorded with a run (:mod:`~fairgen_core.model_audit.run_models`), audited on its data.

    Attributes
    ----------
    recorded : RecordedModels or None
        The recorded columns; None when the record could not be read.
    audits : tuple of ModelAudit
        One per column (empty after an error).
    models : tuple of ModelInput
        The columns' values (for the TPR-equalising thresholds of scores).
    error : str
        Why the columns could not be audited (a missing column, a damaged record), or empty.
    """

    recorded: RecordedModels | None
    audits: tuple[ModelAudit, ...] = ()
    models: tuple[ModelInput, ...] = ()
    error: str = ""


def run_model_audit(run: RunDir, frame: pd.DataFrame, spec: DatasetSpec) -> RunModelAudit | None:
    """Audit the prediction columns recorded in ``run`` (:func:`~fairgen_core.model_audit.recorded_models`) on the
    run's data with its specification; None when the run records none. A column that cannot be audited (or a
    damaged record) gives a result whose ``error`` says why, for the report to show instead of failing."""
    try:
        recorded = recorded_models(run.path)
    except FairGenError as error:
        return RunModelAudit(None, error=str(error))
    if recorded is None:
        return None
    try:
        audits, models = audit_recorded(frame, spec, recorded)
    except FairGenError as error:
        return RunModelAudit(recorded, error=str(error))
    return RunModelAudit(recorded, tuple(audits), tuple(models))


def run_validity(model: FairGenerator, frame: pd.DataFrame, manifest: RunManifest, *,
                 samples: QualitySamples | None = None, seed: int = 0, ignored: Iterable[str] = ()) -> ValidityReport:
    """How many synthetic rows keep the data's structural rules, against the real test rows.

    The synthetic rows are those the quality numbers compare (:func:`~fairgen_core.generator.evaluation.
    quality_samples`: the test split's domain counts, seed ``seed``), whole and repaired as exported rows are. The
    rules are those the manifest records; a run made before they were recorded has them found again in ``frame``.

    Parameters
    ----------
    model : FairGenerator
        The run's generator.
    frame : pandas.DataFrame
        The run's data.
    manifest : RunManifest
        The run's manifest (split, spec, structure).
    samples : QualitySamples, optional
        Precomputed :func:`~fairgen_core.generator.evaluation.quality_samples` (drawn when omitted).
    seed : int
        Seed of the draw, and of the label and sensitive values drawn for each domain.
    ignored : iterable of str
        Keys of rules the user set aside (:attr:`~fairgen_core.data.rules.Rule.key`).

    Returns
    -------
    ValidityReport
        Per rule and per domain, with the real test rows' shares as the yardstick.
    """
    spec = manifest.spec
    structure = manifest.structure or detect_structure(frame, label=spec.label, sensitive=spec.sensitive_columns)
    samples = samples if samples is not None else quality_samples(model, frame, manifest.split, seed=seed)
    test = frame.iloc[manifest.split.test]
    real = test[assign_domains(test, spec).valid]
    return validity(samples.synthetic_rows, structure.without(ignored), domains=samples.domains,
                    domain_names=model.domain_names, reference=real)


def gather_evidence(run: RunDir, frame: pd.DataFrame, *, quality: GeneratorQuality | None = None,
                    sigma: float | None = None, seed: int = 0) -> RunEvidence:
    """Read the run folder, audit its data and, unless given, assess the generator's quality.

    The data audit (:func:`~fairgen_core.audit.audit_data`, as on the Data audit page, with the run's column kinds)
    fits its logistic-regression baseline on the run's own split (its seed), which takes under a second on Adult.
    When the run records the user's prediction columns, they are audited too (:func:`run_model_audit`).

    Parameters
    ----------
    run : RunDir
        The run folder.
    frame : pandas.DataFrame
        The run's data (:meth:`RunDir.open_data <fairgen_core.runs.store.RunDir.open_data>`).
    quality : GeneratorQuality, optional
        A precomputed :func:`~fairgen_core.generator.evaluation.assess_quality` result; computed from the
        run's model (``sigma``, ``seed``) when omitted.
    sigma : float, optional
        Noise of the FID baseline; defaults to :func:`default_sigma` of the dataset.
    seed : int
        Seed of the quality assessment.

    Returns
    -------
    RunEvidence
    """
    manifest = run.read_manifest()
    model = FairGenerator.load(run.model_path)
    if quality is None:
        quality = assess_quality(model, frame, manifest.split,
                                 sigma=default_sigma(manifest.data) if sigma is None else sigma, seed=seed)
    return RunEvidence(manifest, run.read_progress(), quality, domain_table(frame, manifest.spec),
                       domain_rows(frame, manifest.spec), assign_domains(frame, manifest.spec).label_names,
                       run.read_table(SWEEP), run.read_table(METHODS),
                       assess_translation(model, frame, manifest.split, seed=seed),
                       audit_data(frame, manifest.spec, schema=model.encoder.schema,
                                  config=AuditConfig(seed=manifest.split.seed)),
                       run_model_audit(run, frame, manifest.spec), run_validity(model, frame, manifest, seed=seed))


def domain_rows(frame: pd.DataFrame, spec: DatasetSpec) -> pd.Series:
    """Rows of ``frame`` in every (group, label) domain, indexed by domain name in domain order.

    Examples
    --------
    >>> from fairgen_core.data.spec import SensitiveAttribute
    >>> df = pd.DataFrame({"y": [1, 0, 0, 1, 1], "s": ["a", "a", "b", "b", "b"]})
    >>> domain_rows(df, DatasetSpec("y", (1,), (SensitiveAttribute("s", ("b",)),))).tolist()
    [1, 1, 1, 2]
    """
    assignment = assign_domains(frame, spec)
    counts = np.bincount(assignment.domain[assignment.valid], minlength=spec.n_domains)
    return pd.Series(counts, index=[assignment.domain_name(d) for d in range(len(counts))], name="rows")


def training_summary(progress: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Epochs run, the configured bound, best validation FID (and its epoch), stop reason and time.

    Examples
    --------
    >>> training_summary([{"epoch": 1, "epochs": 5, "val_fid": 3.0, "elapsed_s": 1.0, "stopped": None},
    ...                   {"epoch": 2, "epochs": 5, "val_fid": 4.0, "elapsed_s": 2.0, "stopped": "cancelled"}])
    {'epochs': 2, 'max_epochs': 5, 'best_val_fid': 3.0, 'best_epoch': 1, 'stopped': 'cancelled', 'elapsed_s': 2.0}
    """
    if not progress:
        return {"epochs": 0, "max_epochs": None, "best_val_fid": None, "best_epoch": None, "stopped": None,
                "elapsed_s": None}
    last = progress[-1]
    scored = [p for p in progress if p.get("val_fid") is not None]
    best = min(scored, key=lambda p: p["val_fid"]) if scored else None
    return {"epochs": last.get("epoch"), "max_epochs": last.get("epochs"),
            "best_val_fid": best["val_fid"] if best else None, "best_epoch": best["epoch"] if best else None,
            "stopped": last.get("stopped"), "elapsed_s": last.get("elapsed_s")}
