"""The audit of one run folder: a self-contained HTML report and the same numbers as a flat table and JSON.

:func:`build_report` writes one HTML page that opens offline (plotly.js is inlined once): the data and its
specification, the group × label domain table, the data audit of :func:`~fairgen_core.audit.audit_data` (the
data's statistical parity difference and disparate impact against the four-fifths rule, proxies of the sensitive
attribute, a logistic-regression baseline's per-group metrics and confusion matrices on the run's split), the
generator's configuration and training, the quality of its synthetic rows (the standard measures of
:mod:`~fairgen_core.metrics.fidelity` with their good / fair / poor verdicts, per domain; the paper's FID against the
real+noise baseline, per domain, marginals, correlations, privacy), the ratio sweep and comparison methods (or what
to run to get them), and the run manifest. Verdicts name a ratio or method better or worse only when the 95% interval
of its paired difference (:mod:`fairgen_core.metrics.paired`) excludes zero. Every string that comes from the user's
data or files is HTML-escaped. :func:`metrics_table` and :func:`metrics_json` export the numbers.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from fairgen_core.audit import (
    BASELINE_RATE_COLUMNS,
    AuditConfig,
    BaselineResult,
    DataAudit,
    Imbalance,
    audit_data,
    confusion_matrices,
)
from fairgen_core.data.spec import DatasetSpec, DomainAssignment, assign_domains, domain_table
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
from fairgen_core.metrics.fidelity import FAIRNESS_GAPS, MEASURE_LABELS, VERDICT_THRESHOLDS, FidelityReport
from fairgen_core.metrics.paired import FAIRER, LESS_FAIR, NO_DIFFERENCE, TOO_FEW, describe, paired_differences
from fairgen_core.metrics.translation import TranslationFidelity
from fairgen_core.metrics.validity import ValidityReport, validity
from fairgen_core.model_audit import (
    CALIBRATION_COLUMNS,
    DIFFERENCE_COLUMNS,
    DIFFERENCE_METRICS,
    DISPARITY,
    INSUFFICIENT,
    PER_GROUP_COLUMNS,
    RUN_MODELS_FILE,
    VS_REFERENCE,
    WITHIN,
    EqualisingThresholds,
    ModelAudit,
    ModelAuditConfig,
    ModelInput,
    RecordedModels,
    audit_recorded,
    comparison_text,
    equalising_thresholds,
    recorded_models,
)
from fairgen_core.results import charts
from fairgen_core.results.table import (
    BASELINE,
    FAIRNESS_METRICS,
    METRIC_LABELS,
    METRIC_TITLES,
    NO_TL,
    TRANSFER,
    has_direction,
    mean_std_column,
    summarise,
)
from fairgen_core.runs.layout import METHODS, SWEEP
from fairgen_core.runs.store import RunDir, RunManifest, frame_hash

#: Columns of :func:`metrics_table`.
METRIC_COLUMNS = ("section", "item", "metric", "value")
#: The fairness gap the sweep verdict judges ratios by, in order of preference.
SWEEP_VERDICT_METRICS = ("average_abs_odds_difference", "abs_equal_opportunity_difference")
#: The four-fifths rule: a disparate impact below this (or above its inverse) is taken as evidence of adverse impact.
FOUR_FIFTHS = 0.8
#: What the report says when the run folder has no ratio sweep.
SWEEP_MISSING = ("The trade-off has not been computed for this run: press 'Compute the trade-off' on the Fair "
                 "classifier page, or run `python -m fairgen_core sweep RUN_DIR --reps 10` (RUN_DIR: this run's "
                 "folder), then make the report again.")
#: What the report says when the run folder has no comparison methods.
METHODS_MISSING = ("The comparison methods have not been run for this run: press 'Run the comparison methods' on the "
                   "Compare methods page, or run `python -m fairgen_core compare RUN_DIR --reps 10` (RUN_DIR: this "
                   "run's folder), then make the report again.")
#: What ± means in the results tables.
PM_DEFINITION = ("± is one standard deviation over repetitions: the sample standard deviation of the test-split "
                 "values of the repetitions counted in the last column (classifier seeds on this run's split). A "
                 "cell of one repetition shows its value alone: it has no spread.")
#: What the paired intervals are and when a verdict names a winner.
PAIRED_DEFINITION = ("A paired difference is the mean over repetitions of (method − reference), each repetition on "
                     "the same split and seed, with its 95% percentile bootstrap interval (10,000 resamples of the "
                     "repetitions). A method or ratio is called fairer, less fair, more or less accurate only when "
                     "that interval excludes zero; otherwise there is no detectable difference. With one repetition "
                     "no interval can be computed.")


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


# -- verdicts --------------------------------------------------------------------------------------
def domain_verdict(rows: pd.Series) -> str:
    """Plain-language summary of the domain counts (the smallest cell is where synthetic rows matter most).

    Examples
    --------
    >>> domain_verdict(pd.Series([10, 90, 30, 70], index=["a · no", "a · yes", "b · no", "b · yes"]))
    "The smallest domain is 'a · no' with 10 rows (5.0% of the data), the largest 'a · yes' with 90; the
    generator writes the same number of rows for every domain."
    """
    total = max(int(rows.sum()), 1)
    small, large = rows.idxmin(), rows.idxmax()
    return (f"The smallest domain is '{small}' with {int(rows[small]):,} rows "
            f"({rows[small] / total:.1%} of the data), the largest '{large}' with "
            f"{int(rows[large]):,}; the generator writes the same number of rows for every domain.")


def disparate_impact_verdict(domains: pd.DataFrame, imbalance: Imbalance) -> str:
    """The data's statistical parity difference and disparate impact, judged by the four-fifths rule.

    Parameters
    ----------
    domains : pandas.DataFrame
        :func:`~fairgen_core.data.spec.domain_table` of the data.
    imbalance : Imbalance
        :func:`~fairgen_core.audit.label_imbalance` of the data: it compares the first and the last group of
        ``domains``, unprivileged and privileged on every sensitive attribute.

    Returns
    -------
    str

    Examples
    --------
    >>> from fairgen_core.audit import label_imbalance
    >>> from fairgen_core.data.spec import SensitiveAttribute
    >>> df = pd.DataFrame({"y": [1, 0, 0, 0, 1, 1, 1, 0], "s": ["a"] * 4 + ["b"] * 4})
    >>> spec = DatasetSpec("y", (1,), (SensitiveAttribute("s", ("b",)),), min_domain_rows=1)
    >>> print(disparate_impact_verdict(domain_table(df, spec), label_imbalance(df, spec)))
    The favourable label goes to 25.0% of s=a and to 75.0% of s=b: a statistical parity difference of -0.500
    (unprivileged minus privileged rate; 0 is parity) and a disparate impact of 0.33 (their ratio; 1 is parity). This
    fails the four-fifths rule: the rate of s=a is below 80% of that of s=b, the usual threshold for adverse impact.
    """
    unprivileged, privileged = (str(domains.index[i]) for i in (0, -1))
    low, high = (float(domains["base_rate"].iloc[i]) for i in (0, -1))
    text = (f"The favourable label goes to {low:.1%} of {unprivileged} and to {high:.1%} of {privileged}: a "
            f"statistical parity difference of {imbalance.statistical_parity_difference:+.3f} (unprivileged minus "
            "privileged rate; 0 is parity)")
    ratio = imbalance.disparate_impact
    if math.isnan(ratio):
        return text + f". The four-fifths rule cannot be applied: no row of {privileged} has the favourable label."
    text += f" and a disparate impact of {ratio:.2f} (their ratio; 1 is parity). "
    if ratio < FOUR_FIFTHS:
        return text + (f"This fails the four-fifths rule: the rate of {unprivileged} is below 80% of that of "
                       f"{privileged}, the usual threshold for adverse impact.")
    if ratio > 1 / FOUR_FIFTHS:
        return text + (f"This fails the four-fifths rule the other way round: the rate of {privileged} is below 80% "
                       f"of that of {unprivileged}.")
    return text + f"This passes the four-fifths rule (a ratio between {FOUR_FIFTHS:g} and {1 / FOUR_FIFTHS:g})."


def proxies_verdict(proxies: pd.DataFrame) -> str:
    """The strong proxies of :func:`~fairgen_core.audit.proxy_scores` in words.

    Examples
    --------
    >>> print(proxies_verdict(pd.DataFrame({"column": ["relationship", "age"], "strong": [True, False]})))
    Strong proxies of the group: relationship. Each explains at least 10% of the uncertainty about a row's group on its
    own, so leaving the sensitive attribute out of a model does not hide the group from it.
    """
    threshold = AuditConfig().proxy_threshold
    strong = proxies.loc[proxies["strong"].astype(bool), "column"].astype(str).tolist()
    if not strong:
        return (f"No column is a strong proxy of the group: none explains {threshold:.0%} or more of the uncertainty "
                "about a row's group on its own.")
    return (f"Strong proxies of the group: {', '.join(strong)}. Each explains at least {threshold:.0%} of the "
            "uncertainty about a row's group on its own, so leaving the sensitive attribute out of a model does not "
            "hide the group from it.")


def baseline_verdict(baseline: BaselineResult) -> str:
    """What the audit's logistic-regression baseline reaches, and its largest gaps between groups."""
    gaps = ", ".join(f"{_title(metric)} {baseline.absolute[metric]:.3f}" for metric in FAIRNESS_METRICS
                     if metric in baseline.absolute)
    return (f"A logistic regression on {len(baseline.features)} columns (not the label or the sensitive attributes), "
            f"fitted on this run's {baseline.n_train:,} training rows and scored on its {baseline.n_test:,} test "
            f"rows, reaches a balanced accuracy of {baseline.balanced_accuracy:.3f}; its gaps between groups: {gaps}. "
            "This is what a plain model learns from the data as it is, before any mitigation.")


def training_verdict(summary: Mapping[str, Any]) -> str:
    """Plain-language summary of :func:`training_summary`."""
    if not summary["epochs"]:
        return "No training epoch was logged for this run."
    text = f"Trained {summary['epochs']} of at most {summary['max_epochs']} epochs"
    if summary["elapsed_s"] is not None:
        text += f" in {summary['elapsed_s']:.0f} s"
    if summary["best_val_fid"] is not None:
        text += f"; the best validation FID was {summary['best_val_fid']:.3f} (epoch {summary['best_epoch']})"
    reasons = {"early-stopping": "early stopping (no improvement for `patience` evaluations)",
               "completed": "the epoch limit", "cancelled": "a cancellation"}
    stopped = summary["stopped"]
    return text + (f"; training ended by {reasons.get(stopped, stopped)}." if stopped else
                   "; training had not finished when this report was made.")


def sweep_verdict(table: pd.DataFrame, *, reference: str = NO_TL) -> str:
    """Which real:synthetic ratios are fairer than ``reference``, by the paired differences on the same repetitions.

    A ratio is called fairer (or less fair) only when the 95% bootstrap interval of its mean paired difference to
    ``reference`` (:func:`~fairgen_core.metrics.paired.paired_differences`) excludes zero; every other ratio has
    "no detectable difference". With fewer than two repetitions in common no ratio is named.

    Parameters
    ----------
    table : pandas.DataFrame
        A ratio sweep, optionally with the reference's rows appended (e.g. the comparison's "baseline").
    reference : str
        The method the ratios are compared with.

    Returns
    -------
    str
        One or two plain sentences.
    """
    values = table.dropna(subset=["value"])
    transfer = values[values["method"] == TRANSFER]
    gap = next((m for m in SWEEP_VERDICT_METRICS if m in set(transfer["metric"])), None)
    if gap is None:
        return "The sweep has none of the fairness gaps this report judges by."
    if reference not in set(values["method"]):
        return f"The sweep has no '{reference}' rows to compare the ratios with."
    paired = paired_differences(values[values["metric"].isin([gap, "balanced_accuracy"])], reference=reference)
    paired = paired[paired["method"] == TRANSFER]
    gaps = paired[paired["metric"] == gap]
    repetitions = int(gaps["n"].max())
    if repetitions < 2:
        return (f"With {repetitions} repetition in common with {reference}, no interval can be computed, so no "
                f"ratio is named fairer or less fair by {_title(gap)}: compute the trade-off with 2 or more "
                "repetitions (10 for conclusions).")
    parts = []
    for judged in (FAIRER, LESS_FAIR, NO_DIFFERENCE, TOO_FEW):
        rows = gaps[gaps["verdict"] == judged]
        if len(rows):
            parts.append(f"{judged} at {'every ratio' if len(rows) == len(gaps) else _ratios(rows)}")
    text = (f"By {_title(gap)} against {reference} on the same {repetitions} repetitions: " + "; ".join(parts)
            + ".")
    fairer = gaps[gaps["verdict"] == FAIRER]
    if fairer.empty:
        return text
    best = fairer.loc[fairer["difference"].idxmin()]
    text += f" The largest improvement is at ratio {best['ratio']:g}: {_describe(best)}"
    accuracy = paired[(paired["metric"] == "balanced_accuracy") & (paired["ratio"] == best["ratio"])]
    return text + (f", balanced accuracy {_describe(accuracy.iloc[0])}." if len(accuracy) else ".")


def methods_verdict(table: pd.DataFrame) -> str:
    """For every ranked metric, which methods differ detectably from the Baseline on the same repetitions.

    A method is called fairer, less fair, more or less accurate only when the 95% bootstrap interval of its mean
    paired difference to the Baseline excludes zero (:func:`~fairgen_core.metrics.paired.paired_differences`).
    """
    values = table.dropna(subset=["value"])
    ranked = [m for m in dict.fromkeys(values["metric"]) if has_direction(str(m))]
    if not ranked:
        return "The methods table has no metric this report can rank."
    if BASELINE not in set(values["method"]):
        return "The methods table has no Baseline to compare the methods with."
    paired = paired_differences(values[values["metric"].isin(ranked)])
    repetitions = int(paired["n"].max()) if len(paired) else 0
    if repetitions < 2:
        return (f"With {repetitions} repetition per method, no interval can be computed, so no method is named "
                "better or worse than the Baseline: run the comparison with 2 or more repetitions (10 for "
                "conclusions).")
    parts = []
    for metric in ranked:
        rows = paired[paired["metric"] == metric]
        judged = [f"{judgement} for {_methods(rows[rows['verdict'] == judgement])}"
                  for judgement in sorted(dict.fromkeys(rows["verdict"]), key=_undecided)]
        parts.append(f"{_title(metric)}: " + "; ".join(judged))
    return f"Against the Baseline on the same {repetitions} repetitions — " + ". ".join(parts) + "."


def _title(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)


def _describe(row: pd.Series, *, judged: bool = True) -> str:
    """A paired-difference row in words (without its verdict when ``judged`` is False)."""
    return describe(row["difference"], row["ci_low"], row["ci_high"], row["verdict"] if judged else "")


def _ratios(rows: pd.DataFrame) -> str:
    ratios = ", ".join(f"{ratio:g}" for ratio in rows["ratio"])
    return f"ratio {ratios}" if len(rows) == 1 else f"ratios {ratios}"


def _undecided(judgement: str) -> bool:
    """Whether a paired verdict left the question open (sorts the decided verdicts first)."""
    return judgement in (NO_DIFFERENCE, TOO_FEW)


def _methods(rows: pd.DataFrame) -> str:
    """Method names, each with its interval when the interval decided (fairer, less fair, …)."""
    decided = not rows["verdict"].map(_undecided).any()
    return ", ".join(f"{row['method']} ({_describe(row, judged=False)})" if decided else str(row["method"])
                     for _, row in rows.iterrows())


# -- metrics export --------------------------------------------------------------------------------
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
    document = {"run": _identity(evidence.manifest), "verdicts": _verdicts(evidence), "metrics": nested}
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


def _verdicts(evidence: RunEvidence) -> dict[str, str]:
    return {"domains": domain_verdict(evidence.domain_rows),
            "data_fairness": disparate_impact_verdict(evidence.audit.domains, evidence.audit.imbalance),
            "proxies": proxies_verdict(evidence.audit.proxies),
            "baseline": baseline_verdict(evidence.audit.baseline),
            "training": training_verdict(training_summary(evidence.progress)),
            "measures": measures_verdict(evidence.quality, evidence.validity),
            "quality": evidence.quality.quality.verdict(), "privacy": evidence.quality.privacy.verdict(),
            **({"validity": evidence.validity.verdict()} if evidence.validity is not None else {}),
            "sweep": SWEEP_MISSING if evidence.sweep is None else sweep_verdict(evidence.sweep),
            "methods": METHODS_MISSING if evidence.methods is None else methods_verdict(evidence.methods),
            **({"model_audit": _run_model_audit_verdict(evidence.model_audit)}
               if evidence.model_audit is not None else {})}


def measures_verdict(quality: GeneratorQuality, validity: ValidityReport | None) -> str:
    """The standard measures in words, then every reason the result is not good (or that every measure passes).

    The report's quality section leads with it, in green only when
    :meth:`~fairgen_core.generator.evaluation.GeneratorQuality.shortcomings` is empty.
    """
    reasons = quality.shortcomings(validity)
    return quality.fidelity.summary() + (" Not a good result: " + " ".join(reasons) if reasons else
                                         " Every measure is fair or good.")


def _fidelity_metrics(fidelity: FidelityReport) -> list[tuple[str, str, str, Any]]:
    """The standard measures' rows of :func:`metrics_table`: overall, per domain, per column."""
    efficacy = fidelity.efficacy
    rows: list[tuple[str, str, str, Any]] = [("fidelity", "overall", key, value) for key, value in (
        ("shapes", fidelity.shapes), ("trends", fidelity.trends), ("detection", fidelity.detection),
        ("tstr_balanced_accuracy", efficacy.tstr), ("trtr_balanced_accuracy", efficacy.trtr))]
    rows += [("fidelity", "overall", f"{side}_{gap}", values[gap]) for side, values in (
        ("tstr", efficacy.tstr_fairness), ("trtr", efficacy.trtr_fairness)) for gap in FAIRNESS_GAPS]
    rows += [("fidelity_by_domain", str(domain), key, value)
             for domain, values in fidelity.per_domain.set_index("domain").iterrows() for key, value in values.items()]
    rows += [("column_shapes", str(c.column), "score", c.score) for c in fidelity.columns.itertuples(index=False)]
    return rows


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


# -- HTML ------------------------------------------------------------------------------------------
def build_report(run: RunDir, frame: pd.DataFrame, *, quality: GeneratorQuality | None = None,
                 sigma: float | None = None, seed: int = 0) -> str:
    """The run's audit as one self-contained HTML page (opens offline; plotly.js inlined once).

    Parameters
    ----------
    run, frame, quality, sigma, seed
        As for :func:`gather_evidence`.

    Returns
    -------
    str
        The HTML document. Every user-provided string (dataset, columns, values, method names) is escaped.
    """
    evidence = gather_evidence(run, frame, quality=quality, sigma=sigma, seed=seed)
    manifest = evidence.manifest
    verdicts = _verdicts(evidence)
    sections = [
        _section("data", "Data and specification", _data_html(evidence) + _p(verdicts["domains"])),
        _section("data-fairness", "Fairness of the data", _data_fairness_html(evidence.audit, verdicts)),
        _section("proxies", "Proxies of the sensitive attribute", _proxies_html(evidence.audit, verdicts)),
        _section("baseline", "Baseline classifier", _baseline_html(evidence.audit, verdicts)),
        _section("generator", "Generator and training", _generator_html(evidence)),
        _section("quality", "Quality of the synthetic data", _quality_html(evidence, verdicts)),
        _section("sweep", "Real:synthetic ratio sweep", _sweep_html(evidence, verdicts)),
        _section("methods", "Comparison methods", _methods_html(evidence, verdicts)),
        *([_section("model-audit", "Your model(s)", _run_model_audit_html(evidence, frame))]
          if evidence.model_audit is not None else []),
        _section("manifest", "Run manifest", _manifest_html(manifest)),
    ]
    return _document(f"FairGen audit — {_e(manifest.data)}", f"from the run created {_e(manifest.created)}", sections)


def _document(title: str, origin: str, sections: Sequence[tuple[str, str, str]]) -> str:
    """A self-contained HTML page: ``title`` and ``origin`` (both escaped HTML), a table of contents, the sections."""
    contents = "".join(f'<li><a href="#{anchor}">{heading}</a></li>' for anchor, heading, _ in sections)
    made = datetime.now(UTC).isoformat(timespec="seconds")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style>'
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body><main>'
        f"<h1>{title}</h1><p class=\"meta\">Report made {made} {origin}.</p>"
        f"<nav><ol>{contents}</ol></nav>" + "".join(body for _, _, body in sections) + "</main></body></html>\n"
    )


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;background:#fff}
main{max-width:1100px;margin:0 auto;padding:1.5rem}h1{margin-bottom:.2rem}h2{border-bottom:1px solid #d0d7de;
padding-bottom:.3rem;margin-top:2.2rem}.meta{color:#59636e}.verdict{background:#f6f8fa;border-left:4px solid #0969da;
padding:.6rem .9rem}table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}th,td{border:1px solid #d0d7de;
padding:.25rem .55rem;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f6f8fa}
.flag{color:#bc4c00;font-weight:600}tr.within td{background:#dafbe1}tr.disparity td{background:#ffebe9}
tr.insufficient td{background:#fff8c5}tr.good td{background:#dafbe1}tr.fair td{background:#fff8c5}
tr.poor td{background:#ffebe9}.verdict.good{border-left-color:#2da44e}.verdict.poor{border-left-color:#bc4c00}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _p(text: str, judgement: str = "") -> str:
    """A verdict paragraph; ``judgement`` ``"good"`` (green) or ``"poor"`` (orange) colours its border."""
    return f'<p class="verdict {judgement}">{_e(text)}</p>' if judgement else f'<p class="verdict">{_e(text)}</p>'


def _section(anchor: str, title: str, body: str) -> tuple[str, str, str]:
    return anchor, title, f'<section id="{anchor}"><h2>{title}</h2>{body}</section>'


def _fmt(value: object, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.{digits}f}"
    return str(value)


def _table(header: Sequence[str], rows: Iterable[Sequence[object]], *, numeric: Sequence[bool] | None = None,
           row_classes: Sequence[str] | None = None) -> str:
    """An HTML table; every header and cell is escaped (numbers formatted by :func:`_fmt`).

    ``row_classes`` (one CSS class per row, from a fixed set such as :data:`VERDICT_CLASSES`) tints rows.
    """
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for number, row in enumerate(rows):
        cells = []
        for index, cell in enumerate(row):
            right = numeric[index] if numeric is not None else isinstance(cell, (int, float, np.number))
            cells.append(f'<td class="n">{_e(_fmt(cell))}</td>' if right else f"<td>{_e(_fmt(cell))}</td>")
        opening = f'<tr class="{_e(row_classes[number])}">' if row_classes is not None else "<tr>"
        body.append(opening + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _facts(rows: Iterable[tuple[str, object]]) -> str:
    """A two-column key/value table (keys as row headers), escaped."""
    body = "".join(f"<tr><th>{_e(key)}</th><td>{_e(_fmt(value))}</td></tr>" for key, value in rows)
    return f"<table><tbody>{body}</tbody></table>"


def _chart(figure: go.Figure, name: str) -> str:
    return figure.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{name}",
                          config={"displaylogo": False, "responsive": True})


def _data_html(evidence: RunEvidence) -> str:
    manifest, spec = evidence.manifest, evidence.manifest.spec
    facts = _facts([
        ("Dataset", manifest.data), ("Data file", Path(manifest.data_file).name if manifest.data_file else "—"),
        ("Data SHA-256", manifest.data_sha256), ("Rows with a domain", int(evidence.domain_rows.sum())),
        ("Label", spec.label), ("Favourable values", ", ".join(map(str, spec.favourable))),
        ("Sensitive attributes (privileged)", "; ".join(a.describe() for a in spec.sensitive)),
    ])
    unfavourable, favourable = evidence.label_names
    domains = _table(
        ["group", f"n({unfavourable})", f"n({favourable})", "n", f"P({favourable} | group)"],
        [(group, int(r.n_unfavourable), int(r.n_favourable), int(r.n), float(r.base_rate))
         for group, r in evidence.domains.iterrows()],
    )
    return facts + "<h3>Domains (group × label)</h3>" + domains


def _data_fairness_html(audit: DataAudit, verdicts: Mapping[str, str]) -> str:
    imbalance = audit.imbalance
    body = _p(verdicts["data_fairness"]) + _facts([
        ("Statistical parity difference (unprivileged − privileged favourable rate)",
         imbalance.statistical_parity_difference),
        ("Disparate impact (unprivileged / privileged favourable rate)", imbalance.disparate_impact),
        ("Four-fifths rule", f"passes when the disparate impact lies between {FOUR_FIFTHS:g} and "
                             f"{1 / FOUR_FIFTHS:g}")])
    body += "".join(f"<p>{_e(sentence)}</p>" for sentence in imbalance.describe())
    return body + _table(["attribute", "group", "rows", "share of rows", "favourable rows", "favourable rate"],
                         [(g.attribute, g.group, int(g.n), g.share, int(g.n_favourable), g.base_rate)
                          for g in audit.groups.itertuples(index=False)],
                         numeric=[False, False, True, True, True, True])


def _proxies_html(audit: DataAudit, verdicts: Mapping[str, str]) -> str:
    explanation = ("Mutual information between each column and the group, in nats, estimated on the whole data with "
                   "numeric columns in quantile bins (as on the Data audit page); normalised is the share of the "
                   "group's entropy the column explains, from 0 (nothing) to 1 (the column gives the group away).")
    return _p(verdicts["proxies"]) + f"<p>{_e(explanation)}</p>" + _table(
        ["column", "kind", "levels", "mutual information (nats)", "normalised", "strong proxy"],
        [(p.column, p.kind, int(p.levels), p.mutual_information, p.normalised, bool(p.strong))
         for p in audit.proxies.itertuples(index=False)],
        numeric=[False, False, True, True, True, False])


def _baseline_html(audit: DataAudit, verdicts: Mapping[str, str]) -> str:
    baseline = audit.baseline
    warnings = "".join(_p(f"Warning: {warning[0].upper()}{warning[1:]}", "poor") for warning in baseline.warnings)
    body = warnings + _p(verdicts["baseline"]) + "<h3>Per group (test rows)</h3>" + _table(
        ["group", *BASELINE_RATE_COLUMNS],
        [(group, int(row["n"]), *row[list(BASELINE_RATE_COLUMNS[1:])]) for group, row in baseline.by_group.iterrows()],
        numeric=[False, *[True] * len(BASELINE_RATE_COLUMNS)])
    body += "<h3>Confusion matrices (test rows; rows: true label, columns: predicted label)</h3>"
    return body + _confusion_html(baseline.confusion_matrices())


def _confusion_html(matrices: Mapping[str, pd.DataFrame]) -> str:
    """One small table per group: rows the true label, columns the predicted label (from ``confusion_matrices``)."""
    return "".join(_table([group, *matrix.columns], [(f"true {label}", *map(int, counts))
                                                     for label, counts in zip(matrix.index, matrix.to_numpy())],
                          numeric=[False, True, True])
                   for group, matrix in matrices.items())


def _generator_html(evidence: RunEvidence) -> str:
    config = evidence.manifest.config.to_dict()
    summary = training_summary(evidence.progress)
    body = _table(["epochs run", "epoch limit", "best validation FID", "best epoch", "stopped", "seconds"],
                   [(summary["epochs"], summary["max_epochs"], summary["best_val_fid"], summary["best_epoch"],
                     summary["stopped"] or "not finished", summary["elapsed_s"])])
    body += _p(training_verdict(summary))
    if any(p.get("val_fid") is not None for p in evidence.progress):
        body += _chart(charts.fid_curve_figure(evidence.progress), "training")
    return body + "<h3>Configuration</h3>" + _facts((key, str(value)) for key, value in config.items())


def _quality_html(evidence: RunEvidence, verdicts: Mapping[str, str]) -> str:
    result = evidence.quality
    quality = result.quality
    smallest = str(quality.per_domain["domain"].iloc[int(evidence.domain_rows.to_numpy().argmin())])
    body = _measures_html(result, evidence.validity, verdicts)
    body += "<h3>The paper's figure: FID against a real+noise baseline</h3>" + _p(verdicts["quality"])
    body += _table(["FID (synthetic vs test rows)", "noise baseline", "σ", "beats baseline",
                    "mean |correlation difference|"],
                   [(quality.fid, quality.noise_baseline, quality.sigma, quality.beats_baseline,
                     result.correlation_difference)])
    if evidence.validity is not None:
        body += _validity_html(evidence.validity, verdicts)
    translation = evidence.translation
    body += "<h3>Translation fidelity (counterfactual pairs: other group, same label)</h3>" + _p(
        f"{translation.summary()} The probe is a logistic regression trained on the real training rows only; the "
        f"fair classifier's pairs are these translations. Labels kept: {translation.label_kept:.0%} (the label "
        f"probe is right on {translation.label_real:.0%} of real rows). Mean change |x_g − x| "
        f"{translation.change_l1:.3f} against the reconstruction error |x̂ − x| {translation.reconstruction_l1:.3f}.")
    body += _table(["target domain", "translated rows", "at target", "still at source", "real rows at own",
                    "target / real", "label kept"],
                   [(d.domain, int(d.rows), d.target_rate, d.source_rate, d.real_rate, d.ratio, d.label_kept)
                    for d in translation.per_domain.itertuples(index=False)],
                   numeric=[False, True, True, True, True, True, True])
    body += "<h3>Per domain: FID</h3>"
    body += _table(["domain", "test rows", "synthetic rows", "FID", "noise baseline", "beats baseline", "note"],
                   [(_flag(d.domain, smallest), int(d.n_real), int(d.n_synthetic), d.fid, d.noise_baseline,
                     None if pd.isna(d.beats_baseline) else bool(d.beats_baseline), d.note or "")
                    for d in quality.per_domain.itertuples(index=False)],
                   numeric=[False, True, True, True, True, False, False])
    body += _chart(charts.domain_fid_figure(quality.per_domain, flagged=smallest), "domains")
    body += "<h3>Marginals</h3>" + _p(_marginals_sentence(result.marginals))
    body += _chart(charts.marginals_figure(result.marginals), "marginals")
    body += _table(["column", "kind", "statistic", "distance"],
                   [(m.column, m.kind, m.statistic, m.value)
                    for m in result.marginals.sort_values("value", ascending=False).itertuples(index=False)],
                   numeric=[False, False, False, True])
    privacy = result.privacy
    body += "<h3>Privacy (distance to the closest training record)</h3>" + _p(verdicts["privacy"])
    body += _table(["rows", "median distance", "5th percentile", "exact copies", "compared"],
                   [("synthetic", privacy.synthetic_median, privacy.synthetic_p05,
                     f"{privacy.exact_copy_share:.1%}", privacy.n_synthetic),
                    ("unseen real (test)", privacy.holdout_median, privacy.holdout_p05,
                     f"{privacy.holdout_exact_copy_share:.1%}", privacy.n_holdout)],
                   numeric=[False, True, True, True, True])
    return body


def _measures_html(quality: GeneratorQuality, validity: ValidityReport | None, verdicts: Mapping[str, str]) -> str:
    """The standard measures first: the verdict (green only without shortcomings), the measures with their bounds,
    per domain (the weakest named), the columns modelled worst."""
    fidelity = quality.fidelity
    body = "<h3>Standard measures</h3>" + _p(verdicts["measures"], "poor" if quality.shortcomings(validity) else "good")
    values, judged = fidelity.values(), fidelity.verdicts()
    body += _table(["measure", "judged value", "verdict", "good at least", "fair at least"],
                   [(MEASURE_LABELS[m], values[m], judged[m] or "n/a", *VERDICT_THRESHOLDS[m]) for m in values],
                   numeric=[False, True, False, True, True], row_classes=[judged[m] or "" for m in values])
    efficacy = fidelity.efficacy
    body += _table(["model (tested on the real test rows)", "balanced accuracy", *FAIRNESS_GAPS],
                   [(name, accuracy, *(gaps[g] for g in FAIRNESS_GAPS)) for name, accuracy, gaps in (
                       ("trained on synthetic rows (TSTR)", efficacy.tstr, efficacy.tstr_fairness),
                       ("trained on real rows (TRTR)", efficacy.trtr, efficacy.trtr_fairness))],
                   numeric=[False, True, True, True])
    body += _p("Shapes: mean of 1 − KS (numeric) or 1 − total variation distance (categorical) per column. Trends: "
               "mean of 1 − |Δ Pearson correlation|/2 (numeric pairs) or 1 − total variation distance of the "
               "contingency table (other pairs, numerics binned at deciles). Detection: 1 − 2·max(AUC − 0.5, 0) of a "
               "cross-validated gradient-boosted classifier telling real test rows from synthetic rows. TSTR / TRTR: "
               "the same classifier trained on synthetic / real training rows. Each is good or fair at or above the "
               "bounds shown, else poor; TSTR is judged by its balanced accuracy minus TRTR's, its fairness by the "
               "smaller of TRTR's gap minus its gap.")
    weakest = fidelity.weakest_domain()
    body += "<h4>Per domain</h4>" + _table(
        ["domain", "shape", "trend", "detection", "TSTR accuracy", "TRTR accuracy", "DCR synthetic (median)",
         "DCR real test (median)"],
        [(f"{d.domain} (weakest domain)" if str(d.domain) == weakest else d.domain, d.shape, d.trend, d.detection,
          d.tstr_accuracy, d.trtr_accuracy, d.dcr_synthetic_median, d.dcr_holdout_median)
         for d in fidelity.per_domain.itertuples(index=False)],
        numeric=[False, *[True] * 7])
    body += _chart(charts.domain_scores_figure(fidelity.per_domain, flagged=weakest), "domain-scores")
    body += "<h4>Column shapes (worst first)</h4>" + _table(
        ["column", "kind", "score"],
        [(c.column, c.kind, c.score)
         for c in fidelity.columns.sort_values("score", kind="stable").itertuples(index=False)],
        numeric=[False, False, True])
    return body


def _validity_html(report: ValidityReport, verdicts: Mapping[str, str]) -> str:
    """The synthetic rows' validity: the verdict, then the rules kept least first."""
    body = "<h3>Validity (rules every real row keeps)</h3>" + _p(verdicts["validity"])
    if report.per_rule.empty:
        return body
    rules = report.per_rule.sort_values("share", kind="stable")
    body += _table(["rule", "kept by synthetic rows", "kept by real test rows", "synthetic rows breaking it"],
                   [(r.description, f"{r.share:.1%}", f"{r.real_share:.1%}", int(r.violations))
                    for r in rules.itertuples(index=False)], numeric=[False, True, True, True])
    if not report.per_domain.empty:
        body += _table(["domain", "synthetic rows", "keeping every rule"],
                       [(d.domain, int(d.rows), f"{d.share:.1%}") for d in report.per_domain.itertuples(index=False)],
                       numeric=[False, True, True])
    return body


def _flag(domain: object, smallest: str) -> str:
    return f"{domain} (smallest domain)" if str(domain) == smallest else str(domain)


def _marginals_sentence(marginals: pd.DataFrame) -> str:
    worst = marginals.dropna(subset=["value"]).sort_values("value", ascending=False).head(3)
    if worst.empty:
        return "No column could be compared."
    listed = ", ".join(f"{m.column} ({m.statistic.upper()} {m.value:.2f})" for m in worst.itertuples(index=False))
    return (f"The columns whose real and synthetic distributions differ most are {listed}; "
            "KS and TV distances run from 0 (same distribution) to 1 (no overlap).")


def _results_html(table: pd.DataFrame, name: str) -> str:
    summary = summarise(table)
    metrics = list(dict.fromkeys(summary["metric"]))
    rows = []
    for (method, ratio), group in summary.groupby(["method", "ratio"], dropna=False, sort=False):
        cells = dict(zip(group["metric"], mean_std_column(group)))
        rows.append((method, "—" if pd.isna(ratio) else f"{ratio:g}", *[cells.get(m, "—") for m in metrics],
                     int(group["n"].max())))
    header = ["method", "ratio", *[METRIC_TITLES.get(m, m) for m in metrics], "repetitions"]
    body = _table(header, rows, numeric=[False, True, *[True] * len(metrics), True]) + f"<p>{_e(PM_DEFINITION)}</p>"
    if "note" in table.columns:
        notes = table.dropna(subset=["note"]).drop_duplicates("method")
        if len(notes):
            body += _table(["method", "note"], [(m, n) for m, n in zip(notes["method"], notes["note"])],
                           numeric=[False, False])
    if summary.empty:  # every method was skipped: the notes say why
        return body
    safe = table.assign(method=table["method"].map(lambda v: html.escape(str(v))),
                        metric=table["metric"].map(lambda v: html.escape(str(v))))
    known = [m for m in metrics if m in METRIC_TITLES] or [html.escape(str(m)) for m in metrics]
    if name == "sweep" and (summary["method"] == TRANSFER).any():
        figure = charts.tradeoff_figure(safe, metrics=known)
    else:
        figure = charts.method_bars_figure(safe, metrics=known)
    return body + _chart(figure, name)


def _sweep_html(evidence: RunEvidence, verdicts: Mapping[str, str]) -> str:
    """The sweep's verdict, the paired interval's definition, its table and chart; or what to run to get them."""
    if evidence.sweep is None:
        return _p(verdicts["sweep"])
    return _p(verdicts["sweep"]) + f"<p>{_e(PAIRED_DEFINITION)}</p>" + _results_html(evidence.sweep, "sweep")


def _methods_html(evidence: RunEvidence, verdicts: Mapping[str, str]) -> str:
    """The methods' verdict, table, chart and paired differences; or what to run to get them."""
    if evidence.methods is None:
        return _p(verdicts["methods"])
    return _p(verdicts["methods"]) + _results_html(evidence.methods, "methods") + _paired_html(evidence)


def _paired_html(evidence: RunEvidence) -> str:
    """Every method's (and ours') paired difference to the Baseline with its interval, or why there is none."""
    tables = [t for t in (evidence.methods, evidence.sweep) if t is not None]
    combined = pd.concat(tables, ignore_index=True)
    combined = combined[combined["metric"].isin(METRIC_TITLES)]
    title = "<h3>Against the Baseline, on the same splits</h3>"
    if combined["repetition"].nunique() < 2 or BASELINE not in set(combined["method"]):
        return title + _p("Paired differences need the Baseline and 2 or more repetitions (10 for conclusions): "
                          "fairness gaps move by about 0.05 either way between runs, so one repetition cannot tell "
                          "methods apart. Run the comparison and the trade-off with more repetitions.")
    paired = paired_differences(combined)
    metrics = [m for m in METRIC_TITLES if m in set(paired["metric"])]
    rows = []
    for (method, ratio), group in paired.groupby(["method", "ratio"], dropna=False, sort=False):
        cells = {r.metric: describe(r.difference, r.ci_low, r.ci_high, r.verdict) for r in group.itertuples() if r.n}
        rows.append((method, "—" if pd.isna(ratio) else f"{ratio:g}", *[cells.get(m, "—") for m in metrics]))
    header = ["method", "ratio", *[METRIC_TITLES[m] for m in metrics]]
    return (title + f"<p>{_e(PAIRED_DEFINITION)} The reference here is the Baseline.</p>"
            + _table(header, rows, numeric=[False, True, *[False] * len(metrics)]))


def _manifest_html(manifest: RunManifest) -> str:
    split = manifest.split
    rows = [("created", manifest.created), ("generator seed", str(manifest.config.seed)),
            ("split seed", str(split.seed)), ("split repetition", str(split.repetition)),
            ("rows: train / validation / test", f"{len(split.train):,} / {len(split.val):,} / {len(split.test):,}"),
            *[(f"version: {k}", v) for k, v in manifest.versions.items()]]
    return _facts(rows)


# -- the audit of the user's own model (fairgen_core.model_audit) ---------------------------------------------
#: CSS class of each verdict: it tints the row of a difference in the report.
VERDICT_CLASSES = {WITHIN: "within", DISPARITY: "disparity", INSUFFICIENT: "insufficient"}
MODEL_AUDIT_METHOD = (
    "Each difference compares a group with the privileged group (privileged on every sensitive attribute, the "
    "reference): with one sensitive attribute the unprivileged group, with several every intersectional group in "
    "turn, and then the largest gap between any two groups (the pair furthest apart, whichever groups they are). "
    "Its interval is a percentile bootstrap stratified by group: each group keeps its size and "
    "its confusion counts are redrawn from its observed shares. Verdict: within tolerance when the whole interval "
    "lies within the tolerance, disparity when it lies wholly beyond, insufficient evidence when it spans a bound "
    "or a compared group has too few rows in a denominator of the metric (the note says how many rows would help)."
)


def tolerance_text(metric: str, tolerance: float) -> str:
    """How the tolerance of a difference reads: the four-fifths band for disparate impact, ± otherwise.

    Examples
    --------
    >>> tolerance_text("disparate_impact", 0.8), tolerance_text("equal_opportunity_difference", 0.1)
    ('0.8 to 1.25', '±0.1')
    """
    return f"{tolerance:g} to {1 / tolerance:g}" if metric == "disparate_impact" else f"±{tolerance:g}"


def number_text(value: float) -> str:
    """A metric value with three decimals, ``—`` when undefined (as the report's tables write it).

    Examples
    --------
    >>> number_text(0.25), number_text(float("nan")), number_text(float("inf"))
    ('0.250', '—', 'inf')
    """
    return _fmt(float(value))


def interval_text(low: float, high: float) -> str:
    """An interval as ``[low, high]`` with three decimals (``—`` for an undefined end).

    Examples
    --------
    >>> interval_text(-0.2, 0.05), interval_text(float("nan"), float("nan"))
    ('[-0.200, 0.050]', '[—, —]')
    """
    return f"[{number_text(low)}, {number_text(high)}]"


def model_audit_html(audits: Sequence[ModelAudit], *, frame: pd.DataFrame, spec: DatasetSpec, data: str,
                     config: ModelAuditConfig,
                     models: Sequence[ModelInput] | None = None) -> str:
    """The audit of the user's own model(s) as one self-contained HTML page (opens offline).

    Sections: the inputs (dataset, its SHA-256, specification, models, bootstrap, tolerances), the models side
    by side (each difference's value, interval and verdict), and per model its summary, the differences with
    their intervals, tolerances, verdicts and notes (table and chart), the per-group rates and confusion
    matrices, and for scores the TPR-equalising group thresholds with their cost and the reliability curves.

    Parameters
    ----------
    audits : sequence of ModelAudit
        From :func:`~fairgen_core.model_audit.audit_models`, on ``frame`` with ``spec`` and ``config``.
    frame : pandas.DataFrame
        The audited data (its hash and label names are reported).
    spec : DatasetSpec
        Label, favourable values and sensitive attributes.
    data : str
        The dataset's name (e.g. the file name).
    config : ModelAuditConfig
        The configuration the audits used (threshold, bootstrap, seed, tolerances).
    models : sequence of ModelInput, optional
        The audited models' values: with them, each score model's section adds the TPR-equalising thresholds
        (:func:`~fairgen_core.model_audit.equalising_thresholds` from ``config.threshold``).

    Returns
    -------
    str
        The HTML document. Every user-provided string (dataset, columns, values, group and model names) is escaped.
    """
    assignment = assign_domains(frame, spec)
    equalising = _equalising(assignment, models or (), config.threshold)
    sections = [_section("inputs", "Inputs", _model_inputs_html(audits, frame, spec, data, config))]
    if len(audits) > 1:
        sections.append(_section("side-by-side", "Models side by side", _models_side_by_side_html(audits)))
    for number, audit in enumerate(audits, start=1):
        sections.append(_section(f"model-{number}", _e(f"Model '{audit.model}' ({audit.decision_rule})"),
                                 _model_audit_section_html(audit, assignment.label_names, equalising.get(audit.model),
                                                           number)))
    return _document(f"FairGen model audit — {_e(data)}", "by python -m fairgen_core audit or the Model audit page",
                     sections)


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


def _equalising(assignment: DomainAssignment, models: Sequence[ModelInput], threshold: float
                ) -> dict[str, EqualisingThresholds]:
    """The TPR-equalising thresholds of each score model, on the rows with a label and every sensitive value."""
    valid = assignment.valid
    return {model.name: equalising_thresholds(assignment.label[valid], np.asarray(model.values)[valid],
                                              assignment.group[valid], threshold=threshold)
            for model in models if model.is_score}


def _model_inputs_html(audits: Sequence[ModelAudit], frame: pd.DataFrame, spec: DatasetSpec, data: str,
                       config: ModelAuditConfig) -> str:
    tolerances = config.tolerances
    first = audits[0] if audits else None
    facts = _facts([
        ("Dataset", data), ("Data SHA-256", frame_hash(frame)), ("Rows", len(frame)),
        ("Rows audited (label and every sensitive value present)", first.n_rows if first else "—"),
        ("Label", spec.label), ("Favourable values", ", ".join(map(str, spec.favourable))),
        ("Sensitive attributes (privileged)", "; ".join(a.describe() for a in spec.sensitive)),
        ("Compared groups", _compared_groups(first) if first else "—"),
        ("Models", "; ".join(f"{a.model} ({a.decision_rule})" for a in audits)),
        ("Bootstrap", f"{config.bootstrap:,} resamples, seed {config.seed}, {config.confidence:.0%} intervals"),
        *[(f"Tolerance: {name.replace('_', ' ')}", tolerance_text(metric, tolerances.for_metric(metric)))
          for metric, name in (("statistical_parity_difference", "statistical_parity"),
                               ("disparate_impact", "disparate_impact"),
                               ("equal_opportunity_difference", "equal_opportunity"),
                               ("average_abs_odds_difference", "average_odds"),
                               ("predictive_parity_difference", "predictive_parity"))],
        ("Fewest cases per compared group and denominator", tolerances.min_positives),
    ])
    return facts + f"<p>{_e(MODEL_AUDIT_METHOD)}</p>"


def _compared_groups(audit: ModelAudit) -> str:
    if audit.several_groups:
        return (f"every group vs {audit.privileged} (privileged, the reference); and the largest gap between any two "
                "groups")
    return f"{audit.unprivileged} (unprivileged) vs {audit.privileged} (privileged)"


def comparison_rows(audit: ModelAudit) -> list[tuple[str, pd.DataFrame]]:
    """A model's differences per comparison, in order: the comparison in words and its rows (one per metric).

    With two groups, one comparison (unprivileged vs privileged); with more, one per group against the privileged
    group and one for the largest gaps (:func:`~fairgen_core.model_audit.comparison_text`; a largest gap's pair
    differs from metric to metric, so that comparison reads "largest gap"). For the side-by-side tables of the
    report and the Model audit page.
    """
    table = audit.differences
    keys = list(zip(table["comparison"], table["group"].where(table["comparison"] == VS_REFERENCE, "")))
    groups: dict[tuple[str, str], list[int]] = {}
    for position, key in enumerate(keys):
        groups.setdefault(key, []).append(position)
    return [(comparison_text(comparison, group, audit.privileged) if comparison == VS_REFERENCE else comparison,
             table.iloc[positions]) for (comparison, group), positions in groups.items()]


def _models_side_by_side_html(audits: Sequence[ModelAudit]) -> str:
    metrics = list(DIFFERENCE_METRICS)
    several = any(audit.several_groups for audit in audits)
    rows = []
    for audit in audits:
        for compared, table in comparison_rows(audit):
            by_metric = table.set_index("metric")
            rows.append((audit.model, *([compared] if several else []),
                         *[f"{number_text(r.value)} {interval_text(r.ci_low, r.ci_high)}: {r.verdict}"
                           for r in (by_metric.loc[m] for m in metrics)]))
    header = ["model", *(["compared"] if several else []), *[DIFFERENCE_METRICS[m].split(" (")[0] for m in metrics]]
    return _table(header, rows, numeric=[False] * len(header))


def _model_audit_section_html(audit: ModelAudit, label_names: tuple[str, str],
                              equalising: EqualisingThresholds | None, number: int) -> str:
    level = f"{audit.confidence:.0%}"
    differences = audit.differences
    several = audit.several_groups
    body = _p(audit.summary())
    body += f"<h3>{_e(f'Differences: {_compared_groups(audit)}')}</h3>"
    body += _table(["metric", *(["group", "reference"] if several else []), "value", f"{level} interval",
                    "tolerance", "verdict", "note"],
                   [(DIFFERENCE_METRICS.get(r.metric, r.metric),
                     *([group_text(r.comparison, r.group), r.reference] if several else []), r.value,
                     interval_text(r.ci_low, r.ci_high), tolerance_text(r.metric, r.tolerance), r.verdict, r.note)
                    for r in differences.itertuples(index=False)],
                   numeric=[False, *([False, False] if several else []), True, True, True, False, False],
                   row_classes=[VERDICT_CLASSES.get(v, "") for v in differences["verdict"]])
    if several:
        body += _p(f"The chart shows {audit.unprivileged} (unprivileged on every attribute) vs {audit.privileged}; "
                   "the table above has every group and the largest gaps.")
    body += _chart(charts.difference_intervals_figure(audit.headline, confidence=audit.confidence),
                   f"m{number}-diff")
    per_group = audit.per_group
    columns = [c for c in per_group.columns if c not in ("tp", "fp", "tn", "fn")]
    body += "<h3>Per group</h3>" + _table(columns, per_group[columns].itertuples(index=False, name=None),
                                          numeric=[False, *[True] * (len(columns) - 1)])
    body += "<h3>Confusion matrices (rows: true label, columns: decision)</h3>"
    body += _confusion_html(confusion_matrices(per_group.set_index("group"), label_names))
    if equalising is not None:
        body += "<h3>Thresholds that equalise the TPR (post-processing anchor)</h3>" + _p(equalising_text(equalising))
        body += _table(["group", "threshold", "TPR"],
                       [(name, threshold, tpr) for name, threshold, tpr in
                        zip(per_group["group"], equalising.thresholds, equalising.tpr)],
                       numeric=[False, True, True])
    if audit.calibration is not None and len(audit.calibration):
        body += "<h3>Calibration (Brier score per group in the table above)</h3>"
        body += _chart(charts.reliability_figure(audit.calibration), f"m{number}-calibration")
    return body


def group_text(comparison: str, group: str) -> str:
    """The ``group`` cell of a difference in a table: the group, or for a largest gap ``largest gap: GROUP``.

    Examples
    --------
    >>> group_text("vs reference", "sex=F"), group_text("largest gap", "race=B"), group_text("largest gap", "")
    ('sex=F', 'largest gap: race=B', 'largest gap: undefined')
    """
    return group if comparison == VS_REFERENCE else f"{comparison}: {group or 'undefined'}"


def _run_model_audit_verdict(result: RunModelAudit) -> str:
    """The recorded models' summaries, or why they could not be audited."""
    if result.error:
        return f"The model(s) recorded with this run could not be audited: {result.error}"
    return " ".join(audit.summary() for audit in result.audits)


def _run_model_audit_html(evidence: RunEvidence, frame: pd.DataFrame) -> str:
    """The run report's section on the user's model(s) recorded with the run: as in :func:`model_audit_html`."""
    result, manifest = evidence.model_audit, evidence.manifest
    if result.error:
        return _p(_run_model_audit_verdict(result))
    config = result.recorded.config()
    body = _p(f"The columns {', '.join(result.recorded.columns)} of the run's data hold your model(s) (recorded in "
              f"{RUN_MODELS_FILE}); they are audited on every row of the data with the run's label and groups.")
    body += _model_inputs_html(result.audits, frame, manifest.spec, manifest.data, config)
    if len(result.audits) > 1:
        body += "<h3>Models side by side</h3>" + _models_side_by_side_html(result.audits)
    equalising = _equalising(assign_domains(frame, manifest.spec), result.models, config.threshold)
    for number, audit in enumerate(result.audits, start=1):
        body += f"<h3>{_e(f'Model {audit.model!r} ({audit.decision_rule})')}</h3>"
        body += _model_audit_section_html(audit, evidence.label_names, equalising.get(audit.model), number)
    return body


def equalising_text(result: EqualisingThresholds) -> str:
    """The TPR-equalising group thresholds' cost in balanced accuracy, in words (report and Model audit page)."""
    change = "costs" if result.cost > 0 else "gains"
    return (f"At the single threshold {result.threshold:g} the overall TPR is {_fmt(result.target_tpr)}. Group "
            f"thresholds bringing every group's TPR close to it {change} {abs(result.cost):.3f} of balanced "
            f"accuracy ({_fmt(result.balanced_accuracy_single)} → {_fmt(result.balanced_accuracy_equalised)}).")
