"""The audit of one run folder, and of the user's own model, as self-contained HTML.

:func:`build_report` writes one HTML page that opens offline (plotly.js is inlined once): the data and its
specification, the group × label domain table, the data audit of :func:`~fairgen_core.audit.audit_data` (the
data's statistical parity difference and disparate impact against the four-fifths rule, proxies of the sensitive
attribute, a logistic-regression baseline's per-group metrics and confusion matrices on the run's split), the
generator's configuration and training, the quality of its synthetic rows (the standard measures of
:mod:`~fairgen_core.metrics.fidelity` with their good / fair / poor verdicts, per domain; the paper's FID against the
real+noise baseline, per domain, marginals, correlations, privacy), the ratio sweep and comparison methods (or what
to run to get them), and the run manifest, with the verdicts of :mod:`~fairgen_core.results.verdicts`.
:func:`model_audit_html` writes the audit of the user's own model(s). Every string that comes from the user's data or
files is HTML-escaped; :mod:`~fairgen_core.results.metrics_export` exports the same numbers.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from fairgen_core.audit import BASELINE_RATE_COLUMNS, DataAudit, confusion_matrices
from fairgen_core.data.spec import DatasetSpec, DomainAssignment, assign_domains
from fairgen_core.generator.evaluation import GeneratorQuality
from fairgen_core.metrics.fidelity import (
    ACCURACY_CONFIDENCE,
    FAIRNESS_GAPS,
    MEASURE_JUDGED_AS,
    MEASURE_LABELS,
    VERDICT_THRESHOLDS,
)
from fairgen_core.metrics.paired import describe, paired_differences
from fairgen_core.metrics.validity import ValidityReport
from fairgen_core.model_audit import (
    DIFFERENCE_METRICS,
    DISPARITY,
    INSUFFICIENT,
    RUN_MODELS_FILE,
    WITHIN,
    EqualisingThresholds,
    ModelAudit,
    ModelAuditConfig,
    ModelInput,
    equalising_thresholds,
)
from fairgen_core.results import charts
from fairgen_core.results.evidence import RunEvidence, gather_evidence, training_summary
from fairgen_core.results.table import BASELINE, METRIC_TITLES, TRANSFER, mean_std_column, summarise
from fairgen_core.results.text import (
    comparison_rows,
    equalising_text,
    estimate_text,
    group_text,
    interval_text,
    number_text,
    tolerance_text,
    value_text,
)
from fairgen_core.results.verdicts import FOUR_FIFTHS, model_audit_verdict, run_verdicts, training_verdict
from fairgen_core.runs.store import RunDir, RunManifest, frame_hash

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
    verdicts = run_verdicts(evidence)
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


def _table(header: Sequence[str], rows: Iterable[Sequence[object]], *, numeric: Sequence[bool] | None = None,
           row_classes: Sequence[str] | None = None) -> str:
    """An HTML table; every header and cell is escaped (numbers formatted by :func:`value_text`).

    ``row_classes`` (one CSS class per row, from a fixed set such as :data:`VERDICT_CLASSES`) tints rows.
    """
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for number, row in enumerate(rows):
        cells = []
        for index, cell in enumerate(row):
            right = numeric[index] if numeric is not None else isinstance(cell, (int, float, np.number))
            cells.append(f'<td class="n">{_e(value_text(cell))}</td>' if right else f"<td>{_e(value_text(cell))}</td>")
        opening = f'<tr class="{_e(row_classes[number])}">' if row_classes is not None else "<tr>"
        body.append(opening + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _facts(rows: Iterable[tuple[str, object]]) -> str:
    """A two-column key/value table (keys as row headers), escaped."""
    body = "".join(f"<tr><th>{_e(key)}</th><td>{_e(value_text(value))}</td></tr>" for key, value in rows)
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
    body += _table(["measure", "judged as", "judged value", "verdict", "good at least", "fair at least"],
                   [(MEASURE_LABELS[m], MEASURE_JUDGED_AS[m], values[m], judged[m] or "n/a", *VERDICT_THRESHOLDS[m])
                    for m in values],
                   numeric=[False, False, True, False, True, True], row_classes=[judged[m] or "" for m in values])
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
    confidence = f"{ACCURACY_CONFIDENCE:.0%}"
    body += "<h4>Per domain</h4>" + _table(
        ["domain", "real test rows", "synthetic rows", "shape", "trend", f"detection [{confidence} interval]",
         f"TSTR accuracy [{confidence} interval]", f"TRTR accuracy [{confidence} interval]",
         "DCR synthetic (median)", "DCR real test (median)"],
        [(f"{d.domain} (weakest domain)" if str(d.domain) == weakest else d.domain, d.n_real, d.n_synthetic,
          d.shape, d.trend, estimate_text(d.detection, d.detection_low, d.detection_high),
          estimate_text(d.tstr_accuracy, d.tstr_accuracy_low, d.tstr_accuracy_high),
          estimate_text(d.trtr_accuracy, d.trtr_accuracy_low, d.trtr_accuracy_high), d.dcr_synthetic_median,
          d.dcr_holdout_median)
         for d in fidelity.per_domain.itertuples(index=False)],
        numeric=[False, *[True] * 9])
    body += _p(f"Each domain is scored on its own rows only; a score on n rows moves by about ±1/√n between draws. "
               f"Accuracy intervals are {confidence} Wilson intervals over the domain's test rows; detection's come "
               "from the standard error of the classifier's AUC on the domain's rows (Hanley & McNeil).")
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


def _run_model_audit_html(evidence: RunEvidence, frame: pd.DataFrame) -> str:
    """The run report's section on the user's model(s) recorded with the run: as in :func:`model_audit_html`."""
    result, manifest = evidence.model_audit, evidence.manifest
    if result.error:
        return _p(model_audit_verdict(result))
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
