"""Every number of a run's audit as one tidy table (:func:`metrics_table`) and as JSON (:func:`metrics_json`), and a
model audit's tables and JSON (:func:`model_audit_tables`, :func:`model_audit_json`): the HTML report's numbers for
spreadsheets and programs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from fairgen_core.audit import BASELINE_RATE_COLUMNS, DataAudit
from fairgen_core.data.spec import DatasetSpec
from fairgen_core.generator.evaluation import GeneratorQuality
from fairgen_core.metrics.fidelity import FAIRNESS_GAPS, FidelityReport
from fairgen_core.metrics.validity import ValidityReport
from fairgen_core.model_audit import (
    CALIBRATION_COLUMNS,
    DIFFERENCE_COLUMNS,
    PER_GROUP_COLUMNS,
    ModelAudit,
    ModelAuditConfig,
    comparison_text,
)
from fairgen_core.results.evidence import RunEvidence, gather_evidence, training_summary
from fairgen_core.results.table import summarise
from fairgen_core.results.verdicts import run_verdicts
from fairgen_core.runs.store import RunDir, RunManifest, frame_hash

#: Columns of :func:`metrics_table`.
METRIC_COLUMNS = ("section", "item", "metric", "value")


def metrics_table(run: RunDir, frame: pd.DataFrame, *, quality: GeneratorQuality | None = None,
                  sigma: float | None = None, seed: int = 0) -> pd.DataFrame:
    """Every number of the report as one tidy table.

    Parameters
    ----------
    run, frame, quality, sigma, seed
        As for :func:`gather_evidence`.

    Returns
    -------
    pandas.DataFrame
        Columns ``section`` (``domains``, ``training``, ``fidelity``, ``fidelity_by_domain``, ``column_shapes``,
        ``quality``, ``quality_by_domain``, ``marginals``,
        ``privacy``, ``sweep``, ``methods``; ``model_audit`` and ``model_audit_by_group`` when the run records
        prediction columns), ``item`` (e.g. a domain, a column, ``transfer @ 0.5``, ``score: 'sex=F' vs 'sex=M'``
        or ``score: sex=F``), ``metric`` and ``value`` (float; NaN where undefined or infinite). Sweep and method
        metrics appear as ``<metric> mean`` and ``<metric> std`` over repetitions; a model-audit difference as
        ``<metric>``, ``<metric> ci_low`` and ``<metric> ci_high``.
    """
    return _metrics(gather_evidence(run, frame, quality=quality, sigma=sigma, seed=seed))


def metrics_json(run: RunDir, frame: pd.DataFrame, *, quality: GeneratorQuality | None = None,
                 sigma: float | None = None, seed: int = 0) -> dict[str, Any]:
    """The :func:`metrics_table` numbers nested as ``metrics[section][item][metric]``, with the run's identity.

    Returns
    -------
    dict
        ``run`` (dataset, data hash, spec, created, versions, seeds), ``verdicts`` (plain-language text) and
        ``metrics``; NaN values become None so the result is strict JSON. When the run records prediction
        columns, also ``model_audit``: :func:`model_audit_json` of their audits (verdicts and notes included), or
        ``{"error": ...}`` when they could not be audited.
    """
    evidence = gather_evidence(run, frame, quality=quality, sigma=sigma, seed=seed)
    nested: dict[str, dict[str, dict[str, float | None]]] = {}
    for row in _metrics(evidence).itertuples(index=False):
        value = None if math.isnan(row.value) else float(row.value)
        nested.setdefault(row.section, {}).setdefault(row.item, {})[row.metric] = value
    document = {"run": _identity(evidence.manifest), "verdicts": run_verdicts(evidence), "metrics": nested}
    result = evidence.model_audit
    if result is not None:
        document["model_audit"] = {"error": result.error} if result.error else model_audit_json(
            result.audits, frame=frame, spec=evidence.manifest.spec, data=evidence.manifest.data,
            config=result.recorded.config())
    return document


def _identity(manifest: RunManifest) -> dict[str, Any]:
    spec = manifest.spec
    return {
        "dataset": manifest.data, "data_file": Path(manifest.data_file).name if manifest.data_file else None,
        "data_sha256": manifest.data_sha256,
        "label": spec.label, "favourable": [str(v) for v in spec.favourable],
        "sensitive": [a.describe() for a in spec.sensitive], "created": manifest.created,
        "versions": dict(manifest.versions), "generator_seed": manifest.config.seed,
        "split_seed": manifest.split.seed, "split_repetition": manifest.split.repetition,
        "split_rows": {"train": len(manifest.split.train), "val": len(manifest.split.val),
                       "test": len(manifest.split.test)},
    }


def _metrics(evidence: RunEvidence) -> pd.DataFrame:
    quality, privacy = evidence.quality.quality, evidence.quality.privacy
    rows: list[tuple[str, str, str, Any]] = [("domains", str(name), "rows", n)
                                             for name, n in evidence.domain_rows.items()]
    rows += _audit_metrics(evidence.audit)
    training = training_summary(evidence.progress)
    rows += [("training", "generator", key, training[key])
             for key in ("epochs", "max_epochs", "best_val_fid", "best_epoch", "elapsed_s")]
    rows += _fidelity_metrics(evidence.quality.fidelity)
    rows += [("quality", "overall", key, value) for key, value in (
        ("fid", quality.fid), ("noise_baseline", quality.noise_baseline), ("sigma", quality.sigma),
        ("correlation_difference", evidence.quality.correlation_difference))]
    for domain in quality.per_domain.itertuples(index=False):
        rows += [("quality_by_domain", str(domain.domain), key, getattr(domain, key))
                 for key in ("n_real", "n_synthetic", "fid", "noise_baseline")]
    translation = evidence.translation
    rows += [("translation", "overall", key, getattr(translation, key)) for key in (
        "target_rate", "source_rate", "real_rate", "ratio", "label_kept", "label_real", "change_l1",
        "reconstruction_l1")]
    rows += [("marginals", str(m.column), str(m.statistic), m.value)
             for m in evidence.quality.marginals.itertuples(index=False)]
    rows += _validity_metrics(evidence.validity)
    rows += [("privacy", "closest_record", key, getattr(privacy, key))
             for key in ("synthetic_median", "synthetic_p05", "holdout_median", "holdout_p05", "exact_copy_share",
                         "holdout_exact_copy_share")]
    for section, table in (("sweep", evidence.sweep), ("methods", evidence.methods)):
        if table is not None:
            for row in summarise(table).itertuples(index=False):
                item = str(row.method) if pd.isna(row.ratio) else f"{row.method} @ {row.ratio:g}"
                rows += [(section, item, f"{row.metric} mean", row.mean), (section, item, f"{row.metric} std", row.std)]
    if evidence.model_audit is not None:
        rows += _model_audit_metrics(evidence.model_audit.audits)
    table = pd.DataFrame(rows, columns=list(METRIC_COLUMNS))
    return table.assign(value=pd.to_numeric(table["value"], errors="coerce").astype("float64"))


def _fidelity_metrics(fidelity: FidelityReport) -> list[tuple[str, str, str, Any]]:
    """The standard measures' rows of :func:`metrics_table`: overall, per domain, per column."""
    efficacy = fidelity.efficacy
    rows: list[tuple[str, str, str, Any]] = [("fidelity", "overall", key, value) for key, value in (
        ("shapes", fidelity.shapes), ("trends", fidelity.trends), ("detection", fidelity.detection),
        ("tstr_balanced_accuracy", efficacy.tstr), ("trtr_balanced_accuracy", efficacy.trtr))]
    rows += [("fidelity", "overall", f"{side}_{gap}", values[gap]) for side, values in (
        ("tstr", efficacy.tstr_fairness), ("trtr", efficacy.trtr_fairness)) for gap in FAIRNESS_GAPS]
    scores = fidelity.per_domain.drop(columns=["n_real", "n_synthetic"])  # the counts are in quality_by_domain
    rows += [("fidelity_by_domain", str(domain), key, value)
             for domain, values in scores.set_index("domain").iterrows() for key, value in values.items()]
    rows += [("column_shapes", str(c.column), "score", c.score) for c in fidelity.columns.itertuples(index=False)]
    return rows


def _validity_metrics(report: ValidityReport | None) -> list[tuple[str, str, str, Any]]:
    """The validity rows of :func:`metrics_table`: overall, per rule, per domain."""
    if report is None:
        return []
    rows: list[tuple[str, str, str, Any]] = [("validity", "overall", "share", report.share),
                                             ("validity", "overall", "real_share", report.reference)]
    rows += [("validity", str(r.rule), key, getattr(r, key))
             for r in report.per_rule.itertuples(index=False) for key in ("share", "real_share", "violations")]
    rows += [("validity_by_domain", str(d.domain), "share", d.share) for d in report.per_domain.itertuples(index=False)]
    return rows


def _model_audit_metrics(audits: Sequence[ModelAudit]) -> list[tuple[str, str, str, Any]]:
    """The model-audit rows of :func:`metrics_table`: every difference with its interval, every group's rates."""
    def finite(value: object) -> float:
        number = float(value)
        return number if math.isfinite(number) else math.nan

    rows: list[tuple[str, str, str, Any]] = []
    for audit in audits:
        for r in audit.differences.itertuples(index=False):
            item = f"{audit.model}: {comparison_text(r.comparison, r.group, r.reference)}"
            rows += [("model_audit", item, f"{r.metric}{suffix}", finite(value))
                     for suffix, value in (("", r.value), (" ci_low", r.ci_low), (" ci_high", r.ci_high))]
        for record in audit.per_group.to_dict(orient="records"):
            item = f"{audit.model}: {record.pop('group')}"
            rows += [("model_audit_by_group", item, key, finite(value)) for key, value in record.items()]
    return rows


def _audit_metrics(audit: DataAudit) -> list[tuple[str, str, str, Any]]:
    imbalance, baseline = audit.imbalance, audit.baseline
    rows: list[tuple[str, str, str, Any]] = [
        ("data_fairness", "data", "statistical_parity_difference", imbalance.statistical_parity_difference),
        ("data_fairness", "data", "disparate_impact", imbalance.disparate_impact)]
    rows += [("proxies", str(proxy.column), key, getattr(proxy, key))
             for proxy in audit.proxies.itertuples(index=False) for key in ("mutual_information", "normalised")]
    rows += [("baseline", "overall", key, value) for key, value in {**baseline.overall, **baseline.absolute}.items()]
    rows += [("baseline", str(group), key, values[key])
             for group, values in baseline.by_group.iterrows() for key in BASELINE_RATE_COLUMNS]
    return rows


def model_audit_tables(audits: Sequence[ModelAudit]) -> dict[str, pd.DataFrame]:
    """The audits' tables stacked over models, each with a leading ``model`` column (for CSV downloads).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``differences`` (:data:`~fairgen_core.model_audit.DIFFERENCE_COLUMNS`), ``per_group`` (with ``brier``
        where a model gave scores) and ``calibration`` (score models only; empty otherwise).
    """
    def stacked(tables: list[tuple[str, pd.DataFrame]], columns: Sequence[str]) -> pd.DataFrame:
        if not tables:
            return pd.DataFrame(columns=["model", *columns])
        return pd.concat([table.assign(model=name)[["model", *table.columns]] for name, table in tables],
                         ignore_index=True)

    return {
        "differences": stacked([(a.model, a.differences) for a in audits], DIFFERENCE_COLUMNS),
        "per_group": stacked([(a.model, a.per_group) for a in audits], PER_GROUP_COLUMNS),
        "calibration": stacked([(a.model, a.calibration) for a in audits if a.calibration is not None],
                               CALIBRATION_COLUMNS),
    }


def model_audit_json(audits: Sequence[ModelAudit], *, frame: pd.DataFrame, spec: DatasetSpec, data: str,
                     config: ModelAuditConfig) -> dict[str, Any]:
    """The inputs of :func:`model_audit_html` and every audit's :meth:`~fairgen_core.model_audit.ModelAudit.to_dict`.

    Returns
    -------
    dict
        ``inputs`` (dataset, data hash, rows, label, favourable, sensitive, bootstrap, confidence, seed,
        tolerances) and ``models`` (one dict per audit); strict JSON (non-finite numbers are None).
    """
    tolerances = config.tolerances
    return {
        "inputs": {
            "dataset": data, "data_sha256": frame_hash(frame), "rows": len(frame), "label": spec.label,
            "favourable": [str(v) for v in spec.favourable], "sensitive": [a.describe() for a in spec.sensitive],
            "bootstrap": config.bootstrap, "confidence": config.confidence, "seed": config.seed,
            "tolerances": {name: getattr(tolerances, name) for name in tolerances.__dataclass_fields__},
        },
        "models": [audit.to_dict() for audit in audits],
    }
