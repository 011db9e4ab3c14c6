"""Data page: pick a built-in dataset or upload a CSV, check the schema, choose label and sensitive attributes, and
mark the columns holding the user's own model's predictions or scores."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard import charts, state
from dashboard.loading import UPLOAD_LIMIT_MB, load_builtin, load_upload
from fairgen_core.data.datasets import BUILTIN_DATASETS
from fairgen_core.data.rules import Structure
from fairgen_core.data.schema import ColumnKind, Schema, numeric_values, suggest_label, suggest_predictions
from fairgen_core.data.sources import DataSource
from fairgen_core.data.spec import (
    DatasetSpec,
    SensitiveAttribute,
    assign_domains,
    domain_table,
    require_values,
    suggest_favourable,
    validate_spec,
)
from fairgen_core.data.structure import detect_structure, exclude_leaks
from fairgen_core.errors import FairGenError
from fairgen_core.model_audit import candidate_columns

SHIPPED = [ds for ds in BUILTIN_DATASETS.values() if not ds.needs_file]
KIND_CHOICES = [kind.value for kind in ColumnKind]


def position(options: list, value: object) -> int:
    """Index of ``value`` among ``options``; 0 when a kept choice is no longer offered (another file, version)."""
    return options.index(value) if value in options else 0


def choose_source() -> tuple[DataSource, bytes | None] | None:
    """Built-in dataset (Adult preselected) or an uploaded CSV with its bytes; None until a usable file is there.

    An upload survives page switches: when the uploader is empty again, the file uploaded earlier is used.
    A file that cannot be read is reported and the earlier upload (with its choices) stays in use.
    """
    origins = ["Built-in dataset", "Upload a CSV"]
    origin = st.radio("Data source", origins, horizontal=True, key="data.origin",
                      index=position(origins, state.remembered("", "origin", origins[0])))
    state.remember("", "origin", origin)
    if origin == "Built-in dataset":
        names = [ds.name for ds in SHIPPED]
        name = st.selectbox("Dataset", names, format_func=lambda n: BUILTIN_DATASETS[n].title, key="data.builtin",
                            index=position(names, state.remembered("", "builtin", "adult")))
        state.remember("", "builtin", name)
        return load_builtin(name), None
    upload = st.file_uploader(
        f"CSV file (up to {UPLOAD_LIMIT_MB} MB; comma, semicolon, tab, pipe or space separated; header optional)",
        type=["csv", "tsv", "txt", "data"], key="data.upload",
    )
    if upload is not None:
        try:
            return load_upload(upload.getvalue(), upload.name), upload.getvalue()
        except FairGenError as error:
            st.error(str(error))
    earlier, content = state.current_data(), state.current_upload()
    name = earlier.name if earlier is not None else None
    if earlier is None or content is None:
        name, content = state.kept_upload() or (None, None)  # a reload: the file uploaded in this workspace
    if name is None or content is None:
        if upload is None:
            st.info("Upload a CSV with one row per person and a header row.")
        return None
    what = "Still using" if upload is not None else "Using"
    st.caption(f"{what} **{name}**, uploaded earlier, with your choices; upload another file to replace it.")
    return load_upload(content, name), content


def edit_schema(source: DataSource) -> Schema | None:
    """Show the inferred column kinds and let the user change them."""
    table = pd.DataFrame([
        {"column": c.name, "kind": c.kind.value, "dtype": c.dtype, "distinct": c.n_unique, "missing": c.n_missing}
        for c in source.schema.columns
    ])
    edited = st.data_editor(
        table, hide_index=True, disabled=["column", "dtype", "distinct", "missing"], key=f"{source.name}.schema",
        column_config={"kind": st.column_config.SelectboxColumn("kind", options=KIND_CHOICES, required=True)},
    )
    overrides = {row.column: row.kind for row in edited.itertuples() if row.kind != source.schema.kind(row.column)}
    try:
        return source.schema.with_kinds(overrides)
    except FairGenError as error:
        st.error(str(error))
        return None


def choose_spec(source: DataSource, schema: Schema) -> DatasetSpec | None:
    """Label, favourable values and sensitive attributes, defaulting to the built-in's paper choice.

    A file without a specification starts from the column whose name and values look like a label
    (:func:`~fairgen_core.data.schema.suggest_label`) and asks for the sensitive attributes.
    """
    default = source.default_spec
    columns = list(source.frame.columns)
    suggested = default.label if default else suggest_label(schema)
    kept_label = state.remembered(source.name, "label", suggested)
    left, right = st.columns(2)
    label = left.selectbox("Label column", columns, key=f"{source.name}.label",
                           index=columns.index(kept_label if kept_label in columns else suggested))
    state.remember(source.name, "label", label)
    favourable = choose_favourable(source, label, right)
    sensitive_columns = choose_sensitive(source, label)
    attributes = [privileged_rule(source, schema, column) for column in sensitive_columns]
    if favourable is None or not sensitive_columns or any(a is None for a in attributes):
        return None
    return DatasetSpec(label, tuple(favourable), tuple(attributes))


def choose_favourable(source: DataSource, label: str, slot: DeltaGenerator) -> list | None:
    """The favourable value(s) of ``label``, drawn in ``slot``; None (with the reason shown) when there are none."""
    series, default = source.frame[label], source.default_spec
    try:
        require_values(series, "label column")
    except FairGenError as error:
        st.error(str(error))
        return None
    values = sorted(series.dropna().unique().tolist(), key=str)
    if len(values) > 2:
        st.info(f"'{label}' has {len(values)} distinct values: choose which count as favourable; "
                "every other value is unfavourable.")
    suggested = suggest_favourable(series) or ()  # the rule the CLI applies too: no guess for other labels
    previous = state.remembered(source.name, f"{label}.favourable", None)
    kept = (previous if previous is not None
            else default.favourable if default and default.label == label else list(suggested))
    favourable = slot.multiselect("Favourable label value(s)", values, default=[v for v in kept if v in values],
                                  key=f"{source.name}.{label}.favourable")
    if favourable or previous is not None:
        state.remember(source.name, f"{label}.favourable", favourable)
    if favourable:
        return favourable
    if previous is not None:
        st.error(f"Choose at least one favourable value of '{label}'.")
    else:
        st.info(f"Choose which value(s) of '{label}' count as the favourable outcome (e.g. hired, paid back).")
    return None


def choose_sensitive(source: DataSource, label: str) -> list[str]:
    """The sensitive columns (never the label); while none is chosen, a prompt says what to do.

    A sensitive column that becomes the label is set aside, not forgotten: it is offered again, chosen, when
    the label changes back. The prompt is an error only after the user has emptied the choice.
    """
    candidates = [c for c in source.frame.columns if c != label]
    kept = state.remembered(source.name, "sensitive",
                            list(source.default_spec.sensitive_columns) if source.default_spec else [])
    chosen = st.multiselect("Sensitive attribute(s)", candidates, default=[c for c in kept if c in candidates],
                            key=f"{source.name}.{label}.sensitive",
                            on_change=state.remember, args=(source.name, "sensitive.touched", True))
    set_aside = [label] if label in kept and label not in chosen else []
    state.remember(source.name, "sensitive", chosen + set_aside)
    if chosen:
        return chosen
    if set_aside:
        st.info(f"'{label}' is now the label, so it is not offered as a sensitive attribute: choose the sensitive "
                "attribute(s) among the other columns, or choose another label.")
    elif state.remembered(source.name, "sensitive.touched", False):
        st.error("Choose at least one sensitive attribute: the column(s) whose groups the audit compares.")
    else:
        st.info("Choose the sensitive attribute(s): the column(s) whose groups (e.g. sex, race, age) the audit "
                "compares.")
    return chosen


def privileged_rule(source: DataSource, schema: Schema, column: str) -> SensitiveAttribute | None:
    """A threshold for numeric columns, a privileged value set otherwise."""
    series = source.frame[column]
    preset = next((a for a in (source.default_spec.sensitive if source.default_spec else ())
                   if a.column == column), None)
    if schema.kind(column) is ColumnKind.NUMERIC:
        start = preset.threshold if preset and preset.threshold is not None else float(numeric_values(series).median())
        start = state.remembered(source.name, f"{column}.threshold", start)
        threshold = st.number_input(f"{column}: privileged if ≥", value=float(start), key=f"{source.name}.{column}.t")
        state.remember(source.name, f"{column}.threshold", threshold)
        return SensitiveAttribute(column, threshold=threshold)
    try:
        require_values(series, "sensitive attribute")
    except FairGenError as error:
        st.error(str(error))
        return None
    values = series.value_counts().index.tolist()
    start = state.remembered(source.name, f"{column}.privileged",
                             list(preset.privileged) if preset and preset.privileged else values[:1])
    chosen = st.multiselect(f"{column}: privileged value(s)", values, default=[v for v in start if v in values],
                            key=f"{source.name}.{column}.privileged")
    state.remember(source.name, f"{column}.privileged", chosen)
    if not chosen:
        st.error(f"Choose the privileged value(s) of '{column}'.")
        return None
    return SensitiveAttribute(column, tuple(chosen))


def choose_predictions(source: DataSource, schema: Schema, spec: DatasetSpec) -> list[str]:
    """Columns holding the user's own model's predictions or scores: offered on the Model audit page, not modelled.

    Until the user chooses, an uploaded file starts with the columns named like predictions
    (:func:`~fairgen_core.data.schema.suggest_predictions`) and a built-in dataset with none. A marked column that
    becomes the label or a sensitive attribute is set aside, not forgotten.
    """
    options = candidate_columns(source.frame, spec)
    kept = state.prediction_columns(source.name)
    if kept is None:
        kept = [] if source.default_spec else list(suggest_predictions(schema, (spec.label, *spec.sensitive_columns)))
    chosen = st.multiselect(
        "Prediction or score column(s) of your own model (optional)", options,
        default=[c for c in kept if c in options], key=f"{source.name}.predictions",
        help="Numeric or true/false columns other than the label and the sensitive attributes: 0/1 decisions or "
             "scores of a model you already have. They are audited on the Model audit page.")
    state.set_prediction_columns(source.name, chosen + [c for c in kept if c not in options])
    if chosen:
        st.caption(f"Not modelled: the generator, its classifiers and the data audit leave "
                   f"{', '.join(f'**{c}**' for c in chosen)} out (synthetic rows number them like an ID column). "
                   "Audit them on the **Model audit** page.")
    return chosen


@st.cache_data(max_entries=8, show_spinner="Looking for the rules every row keeps…")
def cached_structure(key: tuple[str, str, str, int], _source: DataSource, _spec: DatasetSpec) -> Structure:
    """:func:`~fairgen_core.data.structure.detect_structure` with the settled column kinds, cached by ``key``
    (dataset name, spec, kinds, the rows' content hash; the frame and spec are not hashed)."""
    return detect_structure(_source.frame, label=_spec.label, sensitive=_spec.sensitive_columns, schema=_source.schema)


def show_structure(source: DataSource, spec: DatasetSpec) -> Schema:
    """Columns that leak the label or a sensitive attribute, each with a tick box to keep it, then the rules every
    row keeps, each with its evidence and a tick box: an unticked rule is not checked on the Quality page.

    Returns the schema with the leaking columns the user does not keep set to kind ``leak`` (left out of the
    generator, its classifiers and the data audit)."""
    content = int(pd.util.hash_pandas_object(source.frame, index=False).sum())
    structure = cached_structure((source.name, repr(spec), repr(source.schema), content), source, spec)
    st.subheader("Structure")
    kept = set(state.kept_leaks(source.name))
    for leak in structure.leaks:
        column = leak.columns[0]
        st.warning(f"{leak.leak_message()} Here it is left out of the generator, its classifiers and the data audit "
                   f"(kind **leak**) unless you tick **Keep '{column}' as an input** below.")
    for column in structure.leak_columns:
        if st.checkbox(f"Keep '{column}' as an input", value=column in kept, key=f"{source.name}.keep.{column}"):
            kept.add(column)
        else:
            kept.discard(column)
    state.set_kept_leaks(source.name, sorted(kept))
    schema = exclude_leaks(source.schema, structure, keep=kept)[0]
    rules = structure.row_rules
    if not rules:
        st.caption("No one-hot group, complement, derived column, numeric bound or identifier was found.")
        return schema
    ignored = state.ignored_rules(source.name)
    table = pd.DataFrame({"check": [r.key not in ignored for r in rules], "rule": [r.describe() for r in rules],
                          "kind": [r.kind.value for r in rules], "evidence": [r.evidence() for r in rules]})
    edited = st.data_editor(
        table, hide_index=True, disabled=["rule", "kind", "evidence"], key=f"{source.name}.structure",
        column_config={"check": st.column_config.CheckboxColumn(
            "check", help="Synthetic rows are checked against the ticked rules on the Quality page.")})
    unticked = [rule.key for rule, keep in zip(rules, edited["check"]) if not keep]
    shown = {rule.key for rule in rules}
    state.set_ignored_rules(source.name, unticked + [key for key in ignored if key not in shown])
    st.caption(f"{len(rules)} rule(s) found in the data, each with the share of rows that keep it. The Quality page "
               "reports how many synthetic rows keep the ticked ones; untick a rule that is a coincidence of this "
               "file." + "".join(f" {note}" for note in structure.notes) + " Generated and translated rows are "
               "repaired to keep the rules found in the training rows.")
    return schema


def show_domains(source: DataSource, spec: DatasetSpec) -> None:
    """The group × label table and the joint-probability heat map the paper's method balances."""
    table = domain_table(source.frame, spec)
    st.subheader("Groups and labels")
    probability = st.column_config.NumberColumn(format="%.3f")
    st.dataframe(table, column_config={"base_rate": probability, "p_unfavourable": probability,
                                       "p_favourable": probability})
    label_names = assign_domains(source.frame, spec).label_names
    st.plotly_chart(charts.joint_probability_heatmap(table, spec.n_domains, label_names), theme="streamlit",
                    key="data.heatmap")


st.title("Data")
st.caption("Choose the data to audit, check how its columns are read, and say which column is the label and "
           "which attributes are sensitive.")
chosen = choose_source()
if chosen is None:
    state.set_current("", None)
    st.stop()
source, upload_bytes = chosen
st.markdown(f"**{source.name}** — {len(source.frame):,} rows × {source.frame.shape[1]:,} columns")
for note in source.notes:
    st.caption(f":material/info: {note}")
with st.expander("Preview (first 100 rows)"):
    st.dataframe(source.frame.head(100))
st.subheader("Columns")
schema = edit_schema(source)
if schema is None:
    st.stop()
st.subheader("Label and sensitive attributes")
spec = choose_spec(source, schema)
if spec is None:
    state.set_current(source.name, None)
    st.stop()
try:
    warnings = validate_spec(source.frame, schema, spec)
except FairGenError as error:
    state.set_current(source.name, None)
    st.error(str(error))
    st.stop()
st.subheader("Your model's predictions")
predictions = choose_predictions(source, schema, spec)
state.set_current(source.name, spec)
for warning in warnings:
    st.warning(warning)
marked = replace(source, schema=schema.with_kinds({c: ColumnKind.PREDICTION for c in predictions}))
state.set_current_data(replace(marked, schema=show_structure(marked, spec)), upload_bytes)
show_domains(source, spec)
