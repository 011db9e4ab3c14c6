"""Model audit page: the user's own model(s), decisions or scores in the data or in a second CSV, audited for group
fairness (per-group rates, differences with bootstrap intervals, verdicts), with a threshold explorer, calibration
and downloads, on the dataset chosen on the Data page."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import charts, run_cache, state
from dashboard.loading import load_predictions
from fairgen_core.audit import confusion_matrices
from fairgen_core.classifier.selection import RULE_DESCRIPTIONS
from fairgen_core.data.sources import DataSource
from fairgen_core.data.spec import DatasetSpec, assign_domains
from fairgen_core.errors import FairGenError, PredictionError
from fairgen_core.export import csv_bytes, safe_file_name
from fairgen_core.model_audit import (
    DIFFERENCE_METRICS,
    DISPARITY,
    INSUFFICIENT,
    MARK_AS_SCORES,
    MATCH_BY_KEY,
    RESCALE_SCORES,
    VERDICTS,
    WITHIN,
    EqualisingThresholds,
    ModelAudit,
    ModelAuditConfig,
    ModelInput,
    RecordedModels,
    Tolerances,
    audit_model,
    candidate_columns,
    comparison_table,
    equalising_thresholds,
    fairgen_results,
    group_rates,
    join_predictions,
    metrics_on_rows,
    model_inputs,
    record_models,
    recorded_models,
)
from fairgen_core.results.charts import (
    VERDICT_COLOURS,
    difference_intervals_figure,
    model_comparison_figure,
    reliability_figure,
)
from fairgen_core.results.metrics_export import model_audit_json, model_audit_tables
from fairgen_core.results.report import model_audit_html
from fairgen_core.results.table import TRANSFER_CHOSEN_RATIO
from fairgen_core.results.text import (
    comparison_rows,
    equalising_text,
    group_text,
    interval_text,
    number_text,
    tolerance_text,
)
from fairgen_core.runs.jobs import list_runs
from fairgen_core.runs.layout import METHODS, SWEEP
from fairgen_core.runs.store import RunDir, RunManifest, frame_hash

DataKey = tuple[str, str, str]
ROW_ORDER = "row order (same number of rows)"
#: Each verdict with its Material icon, in Streamlit's coloured markdown.
VERDICT_MARKS = {WITHIN: ":green[:material/check_circle: within tolerance]",
                 DISPARITY: ":red[:material/error: disparity]",
                 INSUFFICIENT: ":orange[:material/help: insufficient evidence]"}
#: The tolerances the expander edits: (field of Tolerances, label, help).
TOLERANCE_FIELDS = (
    ("statistical_parity", "Statistical parity: largest |selection-rate difference|", "default 0.1"),
    ("disparate_impact", "Disparate impact: lowest selection-rate ratio", "the four-fifths rule: 0.8 (and above "
                                                                          "1/0.8 = 1.25)"),
    ("equal_opportunity", "Equal opportunity: largest |TPR difference|", "default 0.1"),
    ("average_odds", "Average odds: largest mean of |TPR| and |FPR| differences", "default 0.1"),
    ("predictive_parity", "Predictive parity: largest |precision difference|", "default 0.1"),
)
RATE_FORMAT = st.column_config.NumberColumn(format="%.3f")
#: Where on this page is the setting that fixes a refused input (the error's ``remedy``).
REMEDY_HINTS = {
    MARK_AS_SCORES: "Scores or probabilities: turn on **These are scores** above and choose the threshold.",
    RESCALE_SCORES: "Scores on another scale: turn on **Rescale scores outside [0, 1]** above.",
    MATCH_BY_KEY: "Or match the rows by a column present in both files: choose it under **Match its rows to the "
                  "data by** above.",
}


@dataclass(frozen=True, eq=False)
class AuditRows:
    """The rows an audit compares: those with a label and every sensitive value.

    Attributes
    ----------
    valid : numpy.ndarray
        Which data rows they are.
    y, group : numpy.ndarray
        Their binarised label (1 = favourable) and group index.
    group_names : tuple of str
        Names of the groups, by index.
    label_names : tuple of str
        Names of the (unfavourable, favourable) labels.
    """

    valid: np.ndarray
    y: np.ndarray
    group: np.ndarray
    group_names: tuple[str, ...]
    label_names: tuple[str, str]


def data_key(source: DataSource, spec: DatasetSpec) -> DataKey:
    """What cached results depend on: the dataset's name, its content hash and the specification."""
    return source.name, frame_hash(source.frame), repr(spec)


@st.cache_resource(max_entries=8, show_spinner=False)
def cached_rows(key: DataKey, _frame: pd.DataFrame, _spec: DatasetSpec) -> AuditRows:
    """The :class:`AuditRows` of the data, cached by ``key`` (the frame and spec are not hashed).

    A shared resource, never mutated: the threshold explorer reads its arrays on every slider move without copies.
    """
    assignment = assign_domains(_frame, _spec)
    valid = assignment.valid
    return AuditRows(valid, assignment.label[valid], assignment.group[valid], assignment.group_names,
                     assignment.label_names)


@st.cache_data(max_entries=32, show_spinner="Auditing the model (bootstrap)…")
def cached_audit(key: DataKey, name: str, values: np.ndarray, is_score: bool, config: ModelAuditConfig,
                 _frame: pd.DataFrame, _spec: DatasetSpec) -> ModelAudit:
    """:func:`~fairgen_core.model_audit.audit_model` of one model, cached by data, model values and config."""
    return audit_model(_frame, _spec, ModelInput(name, values, is_score=is_score), config)


@st.cache_data(max_entries=32, show_spinner=False)
def cached_equalising(key: DataKey, name: str, values: np.ndarray, threshold: float, _rows: AuditRows
                      ) -> EqualisingThresholds:
    """:func:`~fairgen_core.model_audit.equalising_thresholds` of one score model at ``threshold``, cached."""
    return equalising_thresholds(_rows.y, values[_rows.valid], _rows.group, threshold=threshold)


@st.cache_data(max_entries=8, show_spinner="Matching the predictions to the data rows…")
def cached_join(key: DataKey, digest: str, join_key: str | None, _frame: pd.DataFrame, _predictions: pd.DataFrame
                ) -> pd.DataFrame:
    """:func:`~fairgen_core.model_audit.join_predictions`, cached by data, file content and key column."""
    return join_predictions(_frame, _predictions, key=join_key)


@st.cache_data(max_entries=32, show_spinner="Scoring the model on the run's test rows…")
def cached_on_test_rows(key: DataKey, run: str, created: str, name: str, values: np.ndarray, is_score: bool,
                        config: ModelAuditConfig, _frame: pd.DataFrame, _manifest: RunManifest) -> pd.DataFrame:
    """:func:`~fairgen_core.model_audit.metrics_on_rows` of one model on a run's test rows with the run's groups,
    cached by data, run (folder and creation time), model values and config."""
    return metrics_on_rows(_frame, _manifest.spec, ModelInput(name, values, is_score=is_score), _manifest.split.test,
                           config)


def predictions_file(source: DataSource, key: DataKey) -> pd.DataFrame | None:
    """The predictions of a second CSV, aligned with the data's rows; None without one (or after saying why not).

    The file is kept for this browser session; a join error is shown and the user's other choices stay.
    """
    with st.expander("Predictions in a second CSV", expanded=state.predictions_upload(source.name) is not None):
        upload = st.file_uploader("CSV of predictions (one column per model, and optionally a key column)",
                                  type=["csv", "tsv", "txt"], key=f"model_audit.{source.name}.upload")
        if upload is not None:
            state.set_predictions_upload(source.name, (upload.name, upload.getvalue()))
        kept = state.predictions_upload(source.name)
        if kept is None:
            st.caption("Join by a key column present in both files, or by row order when the file holds exactly "
                       "the data's rows in the same order.")
            return None
        name, content = kept
        try:
            table = load_predictions(content, name)
        except FairGenError as error:
            st.error(str(error))
            return None
        shared = [str(c) for c in table.columns if c in source.frame.columns]
        options = [ROW_ORDER, *shared]
        remembered = state.remembered(source.name, "model_audit.key", ROW_ORDER)
        join_key = st.selectbox("Match its rows to the data by", options, key=f"model_audit.{source.name}.key",
                                index=options.index(remembered) if remembered in options else 0)
        state.remember(source.name, "model_audit.key", join_key)
        left, right = st.columns([3, 1])
        left.caption(f"Using **{name}** ({len(table):,} rows × {table.shape[1]:,} columns).")
        if right.button("Remove this file", key=f"model_audit.{source.name}.forget", icon=":material/delete:"):
            state.set_predictions_upload(source.name, None)
            st.rerun()
        try:
            joined = cached_join(key, hashlib.sha256(content).hexdigest(), None if join_key == ROW_ORDER else join_key,
                                 source.frame, table)
        except FairGenError as error:
            st.error(str(error))
            show_hints([error])
            return None
    clashing = {c: f"{c} (predictions file)" for c in joined.columns if c in source.frame.columns}
    return joined.rename(columns=clashing)


def choose_columns(source: DataSource, spec: DatasetSpec, extra: pd.DataFrame | None) -> list[str]:
    """The prediction columns to audit; a chosen column of a file that is gone is set aside, not forgotten.

    Columns marked on the Data page are preselected: each newly marked one is added to the choice once.
    """
    options = candidate_columns(source.frame, spec) + ([str(c) for c in extra.columns] if extra is not None else [])
    marked = state.prediction_columns(source.name) or []
    seen = state.remembered(source.name, "model_audit.marked", [])
    kept = state.remembered(source.name, "model_audit.columns", [])
    kept = kept + [c for c in marked if c not in seen and c not in kept]
    state.remember(source.name, "model_audit.marked", marked)
    chosen = st.multiselect("Prediction column(s): one model each", options, default=[c for c in kept if c in options],
                            key=f"model_audit.{source.name}.columns",
                            help="Numeric columns of the data other than the label and the sensitive attributes "
                                 "(those marked on the Data page come chosen), and the columns of the predictions "
                                 "file.")
    state.remember(source.name, "model_audit.columns", chosen + [c for c in kept if c not in options])
    return chosen


def choose_config(source: DataSource, scores: bool) -> ModelAuditConfig | None:
    """Threshold (for scores) and tolerances; None after showing the reason when they do not make a config."""
    threshold = ModelAuditConfig().threshold
    if scores:
        threshold = st.number_input("Threshold: decision 1 when score ≥ threshold", 0.0, 1.0, step=0.01,
                                    value=float(state.remembered(source.name, "model_audit.threshold", threshold)),
                                    key=f"model_audit.{source.name}.threshold")
        state.remember(source.name, "model_audit.threshold", threshold)
    defaults = Tolerances()
    values = {}
    with st.expander("Tolerances (when a difference is a disparity)"):
        columns = st.columns(3)
        for index, (field, label, help_text) in enumerate(TOLERANCE_FIELDS):
            start = state.remembered(source.name, f"model_audit.{field}", getattr(defaults, field))
            values[field] = columns[index % 3].number_input(label, 0.01, 0.99, value=float(start), step=0.01,
                                                            help=help_text, key=f"model_audit.{source.name}.{field}")
            state.remember(source.name, f"model_audit.{field}", values[field])
        start = state.remembered(source.name, "model_audit.min_positives", defaults.min_positives)
        values["min_positives"] = int(columns[2].number_input(
            "Fewest cases per group and denominator", 1, 100_000, value=int(start), step=1,
            key=f"model_audit.{source.name}.min_positives",
            help=f"default {defaults.min_positives}: fewer rows (or positives, negatives, selected rows, as the "
                 "metric needs) in a compared group gives 'insufficient evidence'"))
        state.remember(source.name, "model_audit.min_positives", values["min_positives"])
        st.caption("Every difference gets a 95% percentile bootstrap interval from 1,000 resamples (stratified by "
                   "group, seed 0). Within tolerance: the whole interval inside the tolerance; disparity: wholly "
                   "outside; otherwise insufficient evidence.")
    try:
        return ModelAuditConfig(threshold=float(threshold), tolerances=Tolerances(**values))
    except FairGenError as error:
        st.error(str(error))
        return None


def checked_models(source: DataSource, extra: pd.DataFrame | None, columns: list[str], scores: bool, rescale: bool
                   ) -> list[ModelInput]:
    """The chosen columns as models; each column that cannot be audited gets its own message, the others go on."""
    models, refused = [], []
    for column in columns:
        frame = extra if extra is not None and column in extra.columns else source.frame
        try:
            models += model_inputs(frame, [column], scores=scores, rescale=rescale)
        except FairGenError as error:
            st.error(f"Not audited: {error}", icon=":material/block:")
            refused.append(error)
    show_hints(refused)
    return models


def show_hints(errors: list[FairGenError]) -> None:
    """Where on this page the settings are that fix ``errors`` (each hint once)."""
    remedies = [error.remedy for error in errors if isinstance(error, PredictionError)]
    for remedy in dict.fromkeys(r for r in remedies if r in REMEDY_HINTS):
        st.caption(REMEDY_HINTS[remedy])


def verdict_counts(audit: ModelAudit) -> str:
    """The verdicts of a model's differences, counted, with their icons."""
    counts = audit.differences["verdict"].value_counts()
    return " · ".join(f"{VERDICT_MARKS[v]} ×{counts[v]}" for v in VERDICTS if v in counts)


def colour_verdicts(table: pd.DataFrame, column: str = "verdict") -> pd.io.formats.style.Styler:
    """``table`` with each verdict written in its colour."""
    def colour(value: object) -> str:
        mark = next((c for v, c in VERDICT_COLOURS.items() if isinstance(value, str) and v in value), None)
        return f"color: {mark}; font-weight: 600" if mark else ""

    return table.style.map(colour, subset=[c for c in table.columns if c == column or c in DIFFERENCE_METRICS])


def side_by_side(audits: list[ModelAudit]) -> None:
    """Every model's differences in one table: value, interval and verdict per metric (per comparison with more
    than two groups)."""
    several = any(audit.several_groups for audit in audits)
    rows = [{"model": audit.model, **({"compared": compared} if several else {}),
             **{metric: f"{number_text(row.value)} {interval_text(row.ci_low, row.ci_high)} {row.verdict}"
                for metric, row in table.set_index("metric").iterrows()}}
            for audit in audits for compared, table in comparison_rows(audit)]
    table = pd.DataFrame(rows)
    st.subheader("Models side by side")
    st.dataframe(colour_verdicts(table), hide_index=True, key="model_audit.side_by_side",
                 column_config={m: st.column_config.TextColumn(DIFFERENCE_METRICS[m].split(" (")[0])
                                for m in DIFFERENCE_METRICS})


def show_differences(audit: ModelAudit) -> None:
    """The verdict table: each difference's value, interval, tolerance, verdict and note; and its chart."""
    if audit.several_groups:
        compared = (f"Each of the {len(audit.per_group)} groups compared with **{audit.privileged}** (privileged, the "
                    "reference), and the largest gap between any two groups")
    else:
        compared = f"**{audit.unprivileged}** (unprivileged) compared with **{audit.privileged}** (privileged)"
    st.markdown(f"{compared}, {audit.n_rows:,} rows, {audit.decision_rule}: {verdict_counts(audit)}")
    differences = audit.differences
    table = pd.DataFrame({
        "metric": [DIFFERENCE_METRICS[m] for m in differences["metric"]],
        **({"group": list(map(group_text, differences["comparison"], differences["group"])),
            "reference": differences["reference"]} if audit.several_groups else {}),
        "value": [number_text(v) for v in differences["value"]],
        f"{audit.confidence:.0%} interval": [interval_text(lo, hi) for lo, hi in
                                              zip(differences["ci_low"], differences["ci_high"])],
        "tolerance": [tolerance_text(m, t) for m, t in zip(differences["metric"], differences["tolerance"])],
        "verdict": differences["verdict"],
        "note": differences["note"],
    })
    st.dataframe(colour_verdicts(table), hide_index=True, key=f"model_audit.verdicts.{audit.model}",
                 column_config={"note": st.column_config.TextColumn(width="large")})
    with st.expander("The summary in words"):
        st.write(audit.summary())
    if audit.several_groups:
        st.caption(f"The chart shows **{audit.unprivileged}** (unprivileged on every attribute) vs "
                   f"**{audit.privileged}**; the table has every group and the largest gaps.")
    st.plotly_chart(difference_intervals_figure(audit.headline, confidence=audit.confidence), theme="streamlit",
                    key=f"model_audit.intervals.{audit.model}")


def show_groups(audit: ModelAudit, rows: AuditRows) -> None:
    """Per-group rates and one confusion matrix per group."""
    st.subheader("Per group")
    st.dataframe(audit.per_group, hide_index=True, key=f"model_audit.groups.{audit.model}",
                 column_config={c: RATE_FORMAT for c in audit.per_group.columns[8:]})
    matrices = list(confusion_matrices(audit.per_group.set_index("group"), rows.label_names).items())
    for start in range(0, len(matrices), 2):
        for column, (group, matrix) in zip(st.columns(2), matrices[start:start + 2]):
            column.plotly_chart(charts.confusion_heatmap(matrix, group), theme="streamlit",
                                key=f"model_audit.confusion.{audit.model}.{group}")


@st.fragment
def threshold_explorer(rows: AuditRows, values: np.ndarray, name: str, threshold: float,
                       equalising: EqualisingThresholds) -> None:
    """Sliders (one threshold, or one per group starting at the TPR-equalising ones) redrawing per-group rates.

    A fragment: moving a slider reruns only this part, which counts the rows' decisions once.
    """
    per_group = st.toggle("One threshold per group (starts at the thresholds that equalise the TPR)",
                          key=f"model_audit.{name}.per_group")
    prefix = f"model_audit.{name}.{threshold:g}"
    if per_group:
        columns = st.columns(min(len(rows.group_names), 4))
        chosen: float | list[float] = [
            columns[i % len(columns)].slider(f"Threshold for {group}", 0.0, 1.0, value=float(start), step=0.01,
                                             key=f"{prefix}.group{i}")
            for i, (group, start) in enumerate(zip(rows.group_names, equalising.thresholds))]
    else:
        chosen = st.slider("Threshold", 0.0, 1.0, value=float(threshold), step=0.01, key=f"{prefix}.single")
    rates = group_rates(rows.y, values[rows.valid], rows.group, chosen, rows.group_names)
    st.plotly_chart(charts.threshold_rates_figure(rates), theme=None, key=f"model_audit.rates.{name}",
                    config={"displayModeBar": False})
    st.dataframe(rates, key=f"model_audit.rates_table.{name}",
                 column_config={c: RATE_FORMAT for c in ("threshold", "selection_rate", "tpr", "fpr")})


def show_scores(audit: ModelAudit, model: ModelInput, rows: AuditRows, key: DataKey, threshold: float) -> None:
    """For scores: the threshold explorer, the TPR-equalising thresholds and their cost, the reliability curves."""
    st.subheader("Thresholds")
    equalising = cached_equalising(key, model.name, model.values, threshold, rows)
    st.markdown(equalising_text(equalising) + " " + ", ".join(
        f"{group}: {t:g}" for group, t in zip(rows.group_names, equalising.thresholds)) + ".")
    st.caption("Move a threshold to see each group's rates at once; the verdicts above stay at the threshold chosen "
               "at the top of the page.")
    threshold_explorer(rows, model.values, model.name, threshold, equalising)
    if audit.calibration is not None and len(audit.calibration):
        st.subheader("Calibration")
        st.plotly_chart(reliability_figure(audit.calibration), theme="streamlit",
                        key=f"model_audit.calibration.{audit.model}")
        st.caption("Brier score per group (mean squared difference between score and label): " + ", ".join(
            f"{g} {b:.3f}" for g, b in zip(audit.per_group["group"], audit.per_group["brier"])) + ".")


def comparison_run(data_hash: str) -> RunDir | None:
    """The current run when it was trained on this data, else this workspace's newest run that was; None without."""
    paths = [state.current_run(), *(summary.job.path for summary in list_runs(state.runs_root()))]
    for path in dict.fromkeys(p for p in paths if p is not None):
        manifest = run_cache.run_manifest(RunDir(path))
        if manifest is not None and manifest.data_sha256 == data_hash:
            return RunDir(path)
    return None


def show_comparison(models: list[ModelInput], source: DataSource, config: ModelAuditConfig, key: DataKey) -> None:
    """Every audited model next to the run's fair classifier and comparison methods, on the run's test rows."""
    st.header("Next to FairGen's classifiers", divider="gray")
    run = comparison_run(key[1])
    methods = run_cache.run_table(run, METHODS) if run is not None else None
    if run is None or methods is None:
        where = "" if run is None else f"Run **{run.path.name}** was trained on this data but has no comparison yet. "
        st.info(f"{where}To see your model next to FairGen's fair classifier and the comparison methods on the same "
                "test rows, train a generator on this data on the **Train generator** page, then run the methods on "
                "the **Compare methods** page (and the trade-off on the **Fair classifier** page to add FairGen's "
                "fair classifier).")
        return
    manifest = run_cache.run_manifest(run)
    results = fairgen_results(methods, run_cache.run_table(run, SWEEP))
    rules = list(pd.unique(results["selection"].dropna())) if "selection" in results.columns else []
    rule = rules[0] if rules else None
    if len(rules) > 1:
        rule = st.radio("Selection rule of FairGen's methods", rules, horizontal=True, format_func=str.capitalize,
                        key="model_audit.comparison.rule")
    try:
        yours = pd.concat([cached_on_test_rows(key, str(run.path), manifest.created, m.name, m.values, m.is_score,
                                               config, source.frame, manifest) for m in models], ignore_index=True)
        table = comparison_table(yours, results, selection=rule, confidence=config.confidence)
    except FairGenError as error:
        st.error(str(error))
        return
    st.plotly_chart(model_comparison_figure(table, confidence=config.confidence), theme="streamlit",
                    key="model_audit.comparison")
    repetitions = int(methods["repetition"].nunique())
    ours = (f" **{TRANSFER_CHOSEN_RATIO}** is FairGen's fair classifier (real:synthetic ratio chosen on validation)."
            if (table["method"] == TRANSFER_CHOSEN_RATIO).any() else
            " Compute the trade-off on the **Fair classifier** page to add FairGen's fair classifier.")
    st.caption(
        f"Run **{run.path.name}**: each method was trained {repetitions} time(s), with another seed each time, on "
        f"the run's split, and measured on its {len(manifest.split.test):,} test rows; your model is scored on the "
        f"same test rows, with the run's groups ({', '.join(a.describe() for a in manifest.spec.sensitive)}). "
        f"Bars: {config.confidence:.0%} intervals — for your model a bootstrap over those rows, for a method its "
        "mean over the repetitions (none with one repetition)."
        + (f" Methods chose by the rule **{rule}** ({RULE_DESCRIPTIONS.get(rule, rule)})." if rule else "") + ours)


def record_in_run(models: list[ModelInput], source: DataSource, config: ModelAuditConfig, rescale: bool,
                  key: DataKey) -> None:
    """Offer to record the audited columns of the data in the run trained on it, so that the run's report audits
    them too (:func:`~fairgen_core.model_audit.record_models`); columns of a predictions file stay out."""
    run = comparison_run(key[1])
    columns = tuple(m.name for m in models if m.name in source.frame.columns)
    if run is None or not columns:
        return
    wanted = RecordedModels(columns, scores=models[0].is_score, threshold=config.threshold, rescale=rescale)
    try:
        recorded = recorded_models(run.path)
    except FairGenError:
        recorded = None  # a damaged record is replaced by the button below
    if recorded == wanted:
        st.caption(f":material/check: The report of run **{run.path.name}** (Export page, or `python -m fairgen_core "
                   f"report`) audits {', '.join(columns)} too, with the run's label and groups.")
        return
    if st.button(f"Add {', '.join(columns)} to the report of run {run.path.name}", key="model_audit.record",
                 icon=":material/note_add:",
                 help="The run's report (Export page, or `python -m fairgen_core report RUN_DIR`) then audits these "
                      "columns of its data with the run's label and groups, at this threshold."):
        record_models(run.path, wanted)
        st.rerun()


def downloads(audits: list[ModelAudit], models: list[ModelInput], source: DataSource, spec: DatasetSpec,
              config: ModelAuditConfig) -> None:
    """The HTML report, the differences and per-group tables as CSV, and everything as JSON (built on click)."""
    st.subheader("Report and metrics")
    stem = f"fairgen_model_audit_{source.name.rsplit('.', 1)[0]}"
    tables = partial(model_audit_tables, audits)
    items = [
        ("HTML report", lambda: model_audit_html(audits, frame=source.frame, spec=spec, data=source.name,
                                                 config=config, models=models).encode("utf-8"),
         "report", "html", "text/html"),
        ("differences (CSV)", lambda: csv_bytes(tables()["differences"]), "differences", "csv", "text/csv"),
        ("per group (CSV)", lambda: csv_bytes(tables()["per_group"]), "per_group", "csv", "text/csv"),
        ("metrics (JSON)", lambda: json.dumps(model_audit_json(audits, frame=source.frame, spec=spec,
                                                               data=source.name, config=config),
                                              indent=1, ensure_ascii=False).encode("utf-8"),
         "metrics", "json", "application/json"),
    ]
    for column, (label, build, name, extension, mime) in zip(st.columns(len(items)), items):
        column.download_button(label, data=build, file_name=safe_file_name(f"{stem}_{name}", extension), mime=mime,
                               on_click="ignore", key=f"model_audit.download.{name}.{extension}",
                               icon=":material/download:")
    st.caption("The report opens offline in any browser and holds every model audited here; text cells that a "
               "spreadsheet would run as formulas are prefixed with ' in the CSVs.")


st.title("Model audit")
source, spec = state.require_dataset("audits your model's decisions or scores on that data.")
st.caption(state.dataset_caption(source, spec) + " Audit the decisions (0/1, 1 = favourable) or scores (in [0, 1]) "
           "of a model you already have, one column per model.")
key = data_key(source, spec)
extra = predictions_file(source, key)
columns = choose_columns(source, spec, extra)
if not columns:
    st.info("Choose the column(s) holding your model's decisions or scores, or add them in a second CSV above.")
    st.stop()
left, right = st.columns(2)
scores = left.toggle("These are scores (probabilities in [0, 1]), not 0/1 decisions",
                     value=bool(state.remembered(source.name, "model_audit.scores", False)),
                     key=f"model_audit.{source.name}.scores")
state.remember(source.name, "model_audit.scores", scores)
rescale = False
if scores:
    rescale = right.toggle("Rescale scores outside [0, 1] to [0, 1] (min–max, order kept)",
                           value=bool(state.remembered(source.name, "model_audit.rescale", False)),
                           key=f"model_audit.{source.name}.rescale")
    state.remember(source.name, "model_audit.rescale", rescale)
config = choose_config(source, scores)
models = checked_models(source, extra, columns, scores, rescale)
if config is None or not models:
    st.stop()
try:
    rows = cached_rows(key, source.frame, spec)
    audits = [cached_audit(key, m.name, m.values, m.is_score, config, source.frame, spec) for m in models]
except FairGenError as error:
    st.error(str(error))
    st.stop()
if len(audits) > 1:
    side_by_side(audits)
names = [audit.model for audit in audits]
chosen = names[0]
if len(names) > 1:
    kept_model = state.remembered(source.name, "model_audit.model", chosen)
    chosen = st.radio("Model", names, horizontal=True, key=f"model_audit.{source.name}.model",
                      index=names.index(kept_model) if kept_model in names else 0)
    state.remember(source.name, "model_audit.model", chosen)
audit, model = audits[names.index(chosen)], models[names.index(chosen)]
st.header(f"Model '{audit.model}'", divider="gray")
show_differences(audit)
show_groups(audit, rows)
if model.is_score:
    show_scores(audit, model, rows, key, config.threshold)
show_comparison(models, source, config, key)
record_in_run(models, source, config, rescale, key)
downloads(audits, models, source, spec, config)
