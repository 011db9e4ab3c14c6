"""Quality page: how close the generator's synthetic rows are to held-out real rows, and whether it copies them.

The field's standard measures lead (shapes, trends, detection, train-on-synthetic efficacy and its fairness, each
good / fair / poor), then the paper's FID against its noise baseline, validity, translation, per domain, marginals,
correlations and privacy."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import run_cache, state
from fairgen_core.data.schema import ColumnKind
from fairgen_core.generator.evaluation import GeneratorQuality, QualitySamples, correlation_gaps, default_sigma
from fairgen_core.generator.model import FairGenerator
from fairgen_core.metrics.fidelity import (
    ACCURACY_CONFIDENCE,
    FAIRNESS_GAPS,
    MEASURE_JUDGED_AS,
    MEASURE_LABELS,
    VERDICT_THRESHOLDS,
    FidelityReport,
)
from fairgen_core.metrics.quality import PAPER_NOISE_SIGMA
from fairgen_core.metrics.translation import TranslationFidelity
from fairgen_core.metrics.validity import ValidityReport
from fairgen_core.results.charts import (
    correlation_gaps_figure,
    distribution_figure,
    domain_fid_figure,
    domain_scores_figure,
)
from fairgen_core.results.evidence import domain_rows, run_validity
from fairgen_core.results.text import estimate_text
from fairgen_core.runs.store import RunDir

#: Translations are called counterfactual when they reach their target at this share of the real rows' rate.
TRANSLATION_GOAL = 0.9


def show_measures(quality: GeneratorQuality, validity: ValidityReport, n_test: int) -> None:
    """The standard measures with their verdicts, then one verdict: green only when
    :meth:`GeneratorQuality.shortcomings` is empty (no measure poor, rows keep the structure, FID below baseline)."""
    st.subheader("Standard measures")
    fidelity = quality.fidelity
    verdicts, efficacy = fidelity.verdicts(), fidelity.efficacy
    columns = st.columns(5)
    for column, measure in zip(columns, ("shapes", "trends", "detection")):
        column.metric(MEASURE_LABELS[measure], f"{getattr(fidelity, measure):.3f}", delta=verdicts[measure],
                      delta_color="off", delta_arrow="off", help=_MEASURE_HELP[measure])
    columns[3].metric("TSTR balanced accuracy", f"{efficacy.tstr:.3f}", delta=f"{efficacy.gap:+.3f} vs real rows",
                      help=_MEASURE_HELP["tstr"])
    tstr_gap, trtr_gap = (values[FAIRNESS_GAPS[0]] for values in (efficacy.tstr_fairness, efficacy.trtr_fairness))
    columns[4].metric("TSTR |EqOpp|", f"{tstr_gap:.3f}", delta=f"{tstr_gap - trtr_gap:+.3f} vs real rows",
                      delta_color="inverse", help=_MEASURE_HELP["tstr_fairness"])
    st.dataframe(measures_table(fidelity), hide_index=True, key="quality.measures")
    reasons = quality.shortcomings(validity)
    (st.warning if reasons else st.success)(fidelity.summary())
    for reason in reasons:
        st.warning(f"Not a good result: {reason}")
    st.caption("Verdicts: good / fair at or above the first / second bound of the table; poor below. Detection "
               "0.8 is a real-vs-synthetic ROC AUC of 0.6, 0.5 an AUC of 0.75. TSTR: a model trained on the "
               "synthetic rows, TRTR: the same model trained on the real training rows, both tested on the real test "
               f"rows. Every value comes from one synthetic draw against {n_test:,} test rows, without an interval: "
               "on a small test split, differences of a few hundredths can be noise.")


def measures_table(fidelity: FidelityReport) -> pd.DataFrame:
    """One row per measure: its value, verdict and the bounds it was judged by."""
    values, verdicts = fidelity.values(), fidelity.verdicts()
    return pd.DataFrame({"measure": [MEASURE_LABELS[m] for m in values],
                         "judged as": [MEASURE_JUDGED_AS[m] for m in values], "judged value": list(values.values()),
                         "verdict": [verdicts[m] or "n/a" for m in values],
                         "good at least": [VERDICT_THRESHOLDS[m][0] for m in values],
                         "fair at least": [VERDICT_THRESHOLDS[m][1] for m in values]})


_MEASURE_HELP = {
    "shapes": "Mean over columns of 1 − KS statistic (numeric) or 1 − total variation distance (categorical).",
    "trends": "Mean over column pairs of 1 − |Δ Pearson correlation| / 2 (numeric pairs) or 1 − total variation "
              "distance of the contingency table (other pairs, numeric columns binned at deciles).",
    "detection": "1 − 2·max(AUC − 0.5, 0) of a gradient-boosted classifier telling real test rows from synthetic "
                 "rows (cross-validated): 1 = indistinguishable.",
    "tstr": "Balanced accuracy on the real test rows of a gradient-boosted classifier trained on the synthetic rows; "
            "the delta is against the same classifier trained on the real training rows.",
    "tstr_fairness": "|equal opportunity difference| of the model trained on synthetic rows; the delta is against the "
                     "model trained on real rows (negative: fairer).",
}


def show_overall(quality: GeneratorQuality) -> None:
    """The paper's figure: FID against the noise baseline, with its verdict (the green verdict is the measures')."""
    report = quality.quality
    st.subheader("The paper's figure: FID")
    left, right = st.columns(2)
    left.metric("FID: synthetic vs test rows", f"{report.fid:.3f}",
                  delta=f"{report.fid - report.noise_baseline:+.3f} vs noise baseline", delta_color="inverse",
                  help="Fréchet distance between Gaussian fits of the encoded rows (lower is closer).")
    right.metric(f"Noise baseline (σ = {report.sigma:g})", f"{report.noise_baseline:.3f}",
                    help="FID between the test rows and the same rows plus N(0, σ²) noise on every encoded column.")
    st.info(report.verdict())


def show_validity(validity: ValidityReport) -> None:
    """The share of synthetic rows keeping every structural rule, per rule (least kept first) and per domain."""
    st.subheader("Validity")
    (st.success if validity.good else st.warning)(validity.verdict())
    if validity.per_rule.empty:
        return
    def share(label: str) -> st.column_config.ProgressColumn:
        return st.column_config.ProgressColumn(label, format="percent", min_value=0.0, max_value=1.0)

    rules = validity.per_rule.sort_values("share", kind="stable")
    st.dataframe(rules[["description", "share", "real_share", "violations", "kind"]], hide_index=True,
                 key="quality.validity", column_config={
                     "description": "rule", "share": share("kept by synthetic rows"),
                     "real_share": st.column_config.NumberColumn("kept by real test rows", format="percent"),
                     "violations": "synthetic rows breaking it"})
    if not validity.per_domain.empty:
        st.dataframe(validity.per_domain, hide_index=True, key="quality.validity_domains",
                     column_config={"rows": "synthetic rows", "share": share("keeping every rule")})
    st.caption("The rules were found in the data when the run was made (the Data page lists them; a rule unticked "
               "there is not checked). Real test rows keep every exact rule.")


def show_translation(fidelity: TranslationFidelity) -> None:
    """Whether translated rows reach their target domain, judged by a probe that never saw synthetic rows."""
    st.subheader("Translation fidelity")
    left, middle, right = st.columns(3)
    left.metric("Translations recognised in their target domain", f"{fidelity.target_rate:.0%}",
                help="Share of test rows translated to the other group (same label) that a logistic-regression probe, "
                     "trained on the real training rows only, assigns to the target domain.")
    middle.metric("Real rows recognised in their own domain", f"{fidelity.real_rate:.0%}",
                  help="The same probe on the real test rows: the rate a perfect translator can be expected to reach.")
    right.metric("Labels kept", f"{fidelity.label_kept:.0%}", delta=f"{fidelity.label_kept - fidelity.label_real:+.0%} "
                 "vs real rows", delta_color="off",
                 help="Share of translations whose label a label probe still predicts as the source row's label.")
    good = fidelity.ratio >= TRANSLATION_GOAL
    (st.success if good else st.warning)(
        f"{fidelity.summary()} " + ("The pairs are counterfactuals the fair classifier can learn from." if good else
                                    f"Below {TRANSLATION_GOAL:.0%} of the real rate: pairs are only partly "
                                    "counterfactual, so fine-tuning on them can do little for fairness."))
    st.dataframe(fidelity.per_domain, hide_index=True, key="quality.translation", column_config={
        "domain": "target domain", "rows": "translated rows",
        **{name: st.column_config.NumberColumn(label, format="%.3f") for name, label in (
            ("target_rate", "at target"), ("source_rate", "still at source"), ("real_rate", "real rows at own"),
            ("ratio", "target / real"), ("dcls_target_rate", "D_cls: at target"),
            ("dcls_real_rate", "D_cls: real at own"), ("label_kept", "label kept"))}})
    rows = int(fidelity.per_domain["rows"].sum())
    st.caption(f"Judged on {rows:,} test rows; the ratio's 95% bootstrap interval over those rows is "
               f"{fidelity.ratio_low:.2f}–{fidelity.ratio_high:.2f} (a share of n rows is uncertain by about ±1/√n, so "
               f"per-domain rates vary more). Mean change of a translated row |x_g − x|: "
               f"{fidelity.change_l1:.3f}; of its reconstruction in its own domain |x̂ − x|: "
               f"{fidelity.reconstruction_l1:.3f} (encoded columns).")


def show_domain_measures(fidelity: FidelityReport) -> None:
    """Per-domain standard measures with each domain's row counts and intervals, the weakest domain named and
    flagged."""
    st.subheader("Per domain: standard measures")
    weakest, per_domain = fidelity.weakest_domain(), fidelity.per_domain
    score = st.column_config.NumberColumn(format="%.3f")
    confidence = f"{ACCURACY_CONFIDENCE:.0%}"
    estimates = {column: [estimate_text(*values) for values in per_domain[
        [column, f"{column}_low", f"{column}_high"]].itertuples(index=False)]
        for column in ("detection", "tstr_accuracy", "trtr_accuracy")}
    table = per_domain[["domain", "n_real", "n_synthetic", "shape", "trend"]].assign(
        **estimates, dcr_synthetic_median=per_domain["dcr_synthetic_median"],
        dcr_holdout_median=per_domain["dcr_holdout_median"], weakest=per_domain["domain"] == weakest)
    st.dataframe(table, hide_index=True, key="quality.domain_measures", column_config={
        "n_real": st.column_config.NumberColumn("real test rows", format="%d"),
        "n_synthetic": st.column_config.NumberColumn("synthetic rows", format="%d"),
        "shape": score, "trend": score,
        "detection": st.column_config.TextColumn(f"detection [{confidence} interval]"),
        "tstr_accuracy": st.column_config.TextColumn(f"TSTR accuracy [{confidence} interval]"),
        "trtr_accuracy": st.column_config.TextColumn(f"TRTR accuracy [{confidence} interval]"),
        "dcr_synthetic_median": st.column_config.NumberColumn("DCR synthetic (median)", format="%.3f"),
        "dcr_holdout_median": st.column_config.NumberColumn("DCR real test (median)", format="%.3f"),
        "weakest": st.column_config.CheckboxColumn("weakest domain")})
    st.plotly_chart(domain_scores_figure(per_domain, flagged=weakest), key="quality.domain_scores")
    if weakest is not None:
        smallest = per_domain.loc[per_domain["n_real"].idxmin()]
        st.caption(f"'{weakest}' is the weakest domain (lowest mean of its shape, trend and detection scores). "
                   "Each domain is scored on its own rows only: the smallest, "
                   f"'{smallest['domain']}', has {smallest['n_real']:,} real test rows, and a score on n rows moves "
                   "by about ±1/√n between draws. Accuracy within a domain is the true-positive rate of its "
                   "favourable label and the true-negative rate of the other, with its "
                   f"{confidence} Wilson interval over the domain's test rows; detection's interval comes from the "
                   "standard error of the classifier's AUC on the domain's rows (Hanley & McNeil). DCR is the "
                   "median distance to the closest training row of the domain's synthetic and real test rows "
                   "(synthetic clearly closer hints at copying).")


def show_domains(quality: GeneratorQuality, rows: pd.Series) -> None:
    """Per-domain FID against each domain's own baseline, the smallest domain flagged."""
    st.subheader("Per domain: FID")
    per_domain = quality.quality.per_domain
    smallest = str(per_domain["domain"].iloc[int(rows.to_numpy().argmin())])
    table = per_domain.drop(columns="note").assign(rows_in_data=rows.to_numpy(),
                                                   smallest=lambda t: t["domain"] == smallest)
    st.dataframe(table, hide_index=True, key="quality.domains",
                 column_config={"n_real": "test rows", "n_synthetic": "synthetic rows",
                                "fid": st.column_config.NumberColumn("FID", format="%.3f"),
                                "noise_baseline": st.column_config.NumberColumn("noise baseline", format="%.3f"),
                                "beats_baseline": st.column_config.CheckboxColumn("beats baseline"),
                                "rows_in_data": st.column_config.NumberColumn("rows in the data"),
                                "smallest": st.column_config.CheckboxColumn("smallest domain")})
    st.plotly_chart(domain_fid_figure(per_domain, flagged=smallest), key="quality.domain_chart")
    st.caption(f"'{smallest}' is the smallest domain ({int(rows.min()):,} rows in the data): the generator has the "
               "least to learn from there, and balanced sampling leans on it most.")
    for note in quality.quality.notes:
        st.caption(note)


def show_marginals(quality: GeneratorQuality, samples: QualitySamples, model: FairGenerator) -> None:
    """Per-column KS / TV distances and, for a chosen column, the two distributions."""
    st.subheader("Marginals")
    marginals = quality.marginals.sort_values("value", ascending=False, ignore_index=True)
    st.dataframe(marginals, hide_index=True, key="quality.marginals",
                 column_config={"value": st.column_config.ProgressColumn("distance", format="%.3f",
                                                                         min_value=0.0, max_value=1.0)})
    st.caption("KS (numeric) and total variation (categorical) distances run from 0 (same distribution) to 1.")
    column = st.selectbox("Column to compare", marginals["column"].tolist(), key="quality.column")
    numeric = model.encoder.schema.kind(column) is ColumnKind.NUMERIC
    st.plotly_chart(distribution_figure(samples.real[column], samples.synthetic[column], numeric=numeric),
                    key="quality.distribution")


def show_correlations(quality: GeneratorQuality, samples: QualitySamples, model: FairGenerator) -> None:
    """Heat map of the largest correlation difference per pair of columns."""
    st.subheader("Correlations")
    gaps = correlation_gaps(samples.encoder, samples.real_encoded, samples.synthetic_encoded)
    st.plotly_chart(correlation_gaps_figure(gaps), key="quality.correlations")
    st.caption(f"Mean |correlation difference| over all encoded feature pairs: {quality.correlation_difference:.3f}. "
               "A cell shows the largest difference between any encoded features of the two columns.")


def show_privacy(quality: GeneratorQuality) -> None:
    """Distance to the closest training record of synthetic and of unseen real rows, with the verdict."""
    st.subheader("Privacy: distance to the closest training record")
    privacy = quality.privacy
    st.dataframe(pd.DataFrame({
        "rows": ["synthetic", "unseen real (test)"],
        "median distance": [privacy.synthetic_median, privacy.holdout_median],
        "5th percentile": [privacy.synthetic_p05, privacy.holdout_p05],
        "exact copies of training rows": [privacy.exact_copy_share, privacy.holdout_exact_copy_share],
        "rows compared": [privacy.n_synthetic, privacy.n_holdout],
    }), hide_index=True, key="quality.privacy", column_config={
        "exact copies of training rows": st.column_config.NumberColumn(format="percent"),
        "median distance": st.column_config.NumberColumn(format="%.3f"),
        "5th percentile": st.column_config.NumberColumn(format="%.3f")})
    (st.warning if privacy.memorisation_suspected else st.success)(privacy.verdict())


def main() -> None:
    """Render the page for the current run."""
    st.title("Quality")
    run: RunDir | None = run_cache.require_run()
    if run is None:
        return
    source = run_cache.run_data(run)
    if source is None:
        return
    manifest = run.read_manifest()
    drawn = ("calibrated to each domain's training marginals" if manifest.config.calibrated_sampling
             else "as the decoder outputs them (the paper's sampling)")
    st.caption(f"Run '{run.path.name}' on {manifest.data}, created {manifest.created}: synthetic rows are drawn "
               f"{drawn}, with the test split's domain counts, and compared with the test rows the generator never "
               "saw.")
    paper = PAPER_NOISE_SIGMA.get(manifest.data)
    sigma = st.number_input(
        "Noise level σ of the baseline", min_value=0.01, max_value=2.0, value=default_sigma(manifest.data), step=0.01,
        key=f"quality.{manifest.data}.sigma",
        help=(f"The paper uses σ = {paper:g} for this dataset." if paper is not None else
              "The paper uses 0.25 for Adult and 0.12 for COMPAS; 0.25 is the default elsewhere."),
    )
    quality = run_cache.run_quality(run, sigma=sigma)
    samples = run_cache.run_samples(run)
    model = run_cache.run_model(run)
    validity = run_validity(model, source.frame, manifest, samples=samples, ignored=state.ignored_rules(manifest.data))
    show_measures(quality, validity, len(samples.real))
    show_domain_measures(quality.fidelity)
    show_overall(quality)
    show_validity(validity)
    show_translation(run_cache.run_translation(run))
    show_domains(quality, domain_rows(source.frame, manifest.spec))
    show_marginals(quality, samples, model)
    show_correlations(quality, samples, model)
    show_privacy(quality)


main()
