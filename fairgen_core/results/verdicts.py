"""A run's audit in plain words: the data (domains, the four-fifths rule, proxies, a baseline), the training, the
synthetic rows' quality, the ratio sweep, the comparison methods and the user's recorded models.

A ratio or method is named fairer, less fair, more or less accurate only when the 95% interval of its paired
difference (:mod:`fairgen_core.metrics.paired`) excludes zero. :func:`run_verdicts` gives every verdict of a run, as
the HTML report shows them and the metrics JSON carries them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from fairgen_core.audit import AuditConfig, BaselineResult, Imbalance
from fairgen_core.generator.evaluation import GeneratorQuality
from fairgen_core.metrics.paired import FAIRER, LESS_FAIR, NO_DIFFERENCE, TOO_FEW, describe, paired_differences
from fairgen_core.metrics.validity import ValidityReport
from fairgen_core.results.evidence import RunEvidence, RunModelAudit, training_summary
from fairgen_core.results.table import BASELINE, FAIRNESS_METRICS, METRIC_LABELS, NO_TL, TRANSFER, has_direction

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


def run_verdicts(evidence: RunEvidence) -> dict[str, str]:
    """Every verdict of a run's audit by section (``domains``, ``data_fairness``, ..., ``model_audit`` when the run
    records the user's models): what the HTML report shows and the metrics JSON carries."""
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
            **({"model_audit": model_audit_verdict(evidence.model_audit)}
               if evidence.model_audit is not None else {})}


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
    >>> from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute, domain_table
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


def measures_verdict(quality: GeneratorQuality, validity: ValidityReport | None) -> str:
    """The standard measures in words, then every reason the result is not good (or that every measure passes).

    The report's quality section leads with it, in green only when
    :meth:`~fairgen_core.generator.evaluation.GeneratorQuality.shortcomings` is empty.
    """
    reasons = quality.shortcomings(validity)
    return quality.fidelity.summary() + (" Not a good result: " + " ".join(reasons) if reasons else
                                         " Every measure is fair or good.")


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


def model_audit_verdict(result: RunModelAudit) -> str:
    """The recorded models' summaries, or why they could not be audited."""
    if result.error:
        return f"The model(s) recorded with this run could not be audited: {result.error}"
    return " ".join(audit.summary() for audit in result.audits)


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
