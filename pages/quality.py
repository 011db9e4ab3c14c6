"""Quality page: how close the generator's synthetic rows are to held-out real rows, and whether it copies them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import run_cache, state
from fairgen_core.data.schema import ColumnKind
from fairgen_core.generator.evaluation import GeneratorQuality, QualitySamples, correlation_gaps, default_sigma
from fairgen_core.generator.model import FairGenerator
from fairgen_core.metrics.quality import PAPER_NOISE_SIGMA
from fairgen_core.metrics.translation import TranslationFidelity
from fairgen_core.metrics.validity import ValidityReport
from fairgen_core.report import domain_rows, run_validity
from fairgen_core.results.charts import correlation_gaps_figure, distribution_figure, domain_fid_figure
from fairgen_core.runs.store import RunDir

#: Translations are called counterfactual when they reach their target at this share of the real rows' rate.
TRANSLATION_GOAL = 0.9


def show_overall(quality: GeneratorQuality, validity: ValidityReport) -> None:
    """FID against the noise baseline as metrics, with the plain-language verdict: green only when the synthetic
    rows also keep the data's structure (:attr:`ValidityReport.good`)."""
    report = quality.quality
    left, right = st.columns(2)
    left.metric("FID: synthetic vs test rows", f"{report.fid:.3f}",
                  delta=f"{report.fid - report.noise_baseline:+.3f} vs noise baseline", delta_color="inverse",
                  help="Fréchet distance between Gaussian fits of the encoded rows (lower is closer).")
    right.metric(f"Noise baseline (σ = {report.sigma:g})", f"{report.noise_baseline:.3f}",
                    help="FID between the test rows and the same rows plus N(0, σ²) noise on every encoded column.")
    (st.success if report.beats_baseline and validity.good else st.warning)(report.verdict())
    if not validity.good:
        st.warning(f"Not a good result while the synthetic rows break the data's structure: only {validity.share:.1%} "
                   "keep every rule (see **Validity** below).")


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


def show_domains(quality: GeneratorQuality, rows: pd.Series) -> None:
    """Per-domain FID against each domain's own baseline, the smallest domain flagged."""
    st.subheader("Per domain")
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
    gaps = correlation_gaps(model.encoder, samples.real_encoded, samples.synthetic_encoded)
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
    st.caption(f"Run '{run.path.name}' on {manifest.data}, created {manifest.created}: synthetic rows are drawn "
               "with the test split's domain counts and compared with the test rows the generator never saw.")
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
    show_overall(quality, validity)
    show_validity(validity)
    show_translation(run_cache.run_translation(run))
    show_domains(quality, domain_rows(source.frame, manifest.spec))
    show_marginals(quality, samples, model)
    show_correlations(quality, samples, model)
    show_privacy(quality)


main()
