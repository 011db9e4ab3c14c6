"""The only module that knows the dashboard's ``st.session_state`` keys.

Pages read and write the user's choices through these functions, so that choices survive reruns and
page switches (widget keys are dropped by Streamlit when a page stops rendering them; the values kept
here are not). The dataset in use is also kept in the workspace folder, so that after a reload (same
``?ws=``) every page has it again without a visit to the Data page.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import replace
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard.loading import load_builtin, load_upload
from fairgen_core.config import default_runs_base
from fairgen_core.data.sources import DataSource
from fairgen_core.data.spec import DatasetSpec, spec_from_dict, spec_to_dict
from fairgen_core.errors import FairGenError
from fairgen_core.runs.files import write_atomically
from fairgen_core.runs.layout import CHOICES, CURRENT, SESSION_FOLDER, UPLOAD_BYTES, UPLOAD_META

SPEC_KEY = "fairgen.spec"
DATA_KEY = "fairgen.data"
UPLOAD_KEY = "fairgen.upload"
_CHOICES = "fairgen.choices"
_KEPT_UPLOAD = "fairgen.kept_upload"
_KEPT_CURRENT = "fairgen.kept_current"
_PREDICTIONS = "fairgen.predictions"
_PREDICTION_CHOICE = "prediction_columns"
_IGNORED_RULES = "ignored_rules"
_KEPT_LEAKS = "kept_leaks"
_EXPORT_REQUEST = "fairgen.export_request"
_MISSING = object()


def current_spec() -> tuple[str, DatasetSpec] | None:
    """The dataset in use and its last valid specification, or None while there is none.

    After a reload of the page, the dataset kept in the workspace (see :func:`set_current_data`).
    """
    _restore_current()
    return st.session_state.get(SPEC_KEY)


def set_current(source_name: str, spec: DatasetSpec | None) -> None:
    """Record the dataset in use with its validated specification (None while it is invalid)."""
    st.session_state[SPEC_KEY] = (source_name, spec) if spec is not None else None
    _keep_current(name=source_name, spec=spec_to_dict(spec) if spec is not None else None)


def set_current_data(source: DataSource, upload: bytes | None = None) -> None:
    """Record the table in use, with the column kinds the user settled on, for the pages that need its rows.

    ``upload`` is the uploaded file's original bytes (None for a built-in dataset): a training worker re-reads
    exactly these bytes, and the Data page can show the file again after a page switch. The bytes, the table's
    name and its column kinds are also kept in the workspace folder, so that a reload of the page (same
    ``?ws=``) finds the dataset in use again.
    """
    st.session_state[DATA_KEY] = source
    st.session_state[UPLOAD_KEY] = upload
    digest = None
    if upload is not None:
        digest = hashlib.sha256(upload).hexdigest()
        _keep_upload(source.name, upload, digest)
    _keep_current(data=source.name, kinds={c.name: c.kind.value for c in source.schema.columns}, upload=digest)


def current_upload() -> bytes | None:
    """The original bytes of the uploaded file in use, or None (built-in dataset or nothing uploaded)."""
    _restore_current()
    return st.session_state.get(UPLOAD_KEY)


def current_data() -> DataSource | None:
    """The table recorded by :func:`set_current_data` (in this session or, before a reload, in this workspace)."""
    _restore_current()
    return st.session_state.get(DATA_KEY)


def predictions_upload(source_name: str) -> tuple[str, bytes] | None:
    """The predictions CSV (name, bytes) uploaded on the Model audit page for this dataset, or None.

    Kept for this browser session, so that the file survives page switches after the uploader empties.
    """
    return st.session_state.get(_PREDICTIONS, {}).get(source_name)


def set_predictions_upload(source_name: str, upload: tuple[str, bytes] | None) -> None:
    """Keep (or, with None, forget) the predictions CSV of this dataset for this browser session."""
    kept = st.session_state.setdefault(_PREDICTIONS, {})
    if upload is None:
        kept.pop(source_name, None)
    else:
        kept[source_name] = upload


def prediction_columns(source_name: str) -> list[str] | None:
    """The columns of this dataset marked on the Data page as the user's model's predictions or scores.

    None while the user has not chosen (the Data page then suggests columns); kept like every choice (see
    :func:`remember`), so the Model audit page offers them preselected.
    """
    marked = remembered(source_name, _PREDICTION_CHOICE, None)
    return None if marked is None else [str(c) for c in marked]


def set_prediction_columns(source_name: str, columns: list[str]) -> None:
    """Mark columns of this dataset as the user's model's predictions or scores (an empty list: none)."""
    remember(source_name, _PREDICTION_CHOICE, list(columns))


def ignored_rules(source_name: str) -> list[str]:
    """Keys of the structural rules of this dataset the user unticked on the Data page (not checked on Quality).

    Kept like every choice (see :func:`remember`); a key is :attr:`fairgen_core.data.rules.Rule.key`.
    """
    return [str(key) for key in remembered(source_name, _IGNORED_RULES, [])]


def set_ignored_rules(source_name: str, keys: list[str]) -> None:
    """Keep the keys of the structural rules of this dataset the user unticked (an empty list: none)."""
    remember(source_name, _IGNORED_RULES, sorted(keys))


def kept_leaks(source_name: str) -> list[str]:
    """Leaking columns of this dataset the user keeps as the models' inputs on the Data page (others get kind
    ``leak``); kept like every choice (see :func:`remember`)."""
    return [str(column) for column in remembered(source_name, _KEPT_LEAKS, [])]


def set_kept_leaks(source_name: str, columns: list[str]) -> None:
    """Keep the leaking columns of this dataset the user keeps as the models' inputs (an empty list: none)."""
    remember(source_name, _KEPT_LEAKS, sorted(columns))


def export_request() -> tuple[str, int, int, str] | None:
    """The synthetic rows last asked for on the Export page (run folder, rows, seed, identifier choice), or None."""
    return st.session_state.get(_EXPORT_REQUEST)


def set_export_request(request: tuple[str, int, int, str]) -> None:
    """Record that the Export page was asked for these synthetic rows (run folder, rows, seed, identifier choice)."""
    st.session_state[_EXPORT_REQUEST] = request


def require_dataset(purpose: str) -> tuple[DataSource, DatasetSpec]:
    """The table in use and its specification; otherwise point to the Data page and stop the page.

    Parameters
    ----------
    purpose : str
        What the page does with the data, ending the message (e.g. "audits that choice.").
    """
    current, source = current_spec(), current_data()
    if current is None or source is None or source.name != current[0]:
        st.info(f"Choose a dataset, its label and its sensitive attribute(s) on the **Data** page first; this page "
                f"{purpose}")
        st.stop()
    return source, current[1]


def dataset_caption(source: DataSource, spec: DatasetSpec) -> str:
    """The table's name, its label with the favourable values, and the grouping, for a page's caption."""
    return (f"**{source.name}** — label `{spec.label}` (favourable: {', '.join(map(str, spec.favourable))}); "
            f"groups by {', '.join(a.describe() for a in spec.sensitive)}.")


def _keep_current(**fields: Any) -> None:
    """Update the workspace's record of the dataset in use (written only when something changed)."""
    if _KEPT_CURRENT not in st.session_state:
        st.session_state[_KEPT_CURRENT] = _read_kept_current()
    kept = st.session_state[_KEPT_CURRENT]
    updated = {**kept, **fields}
    if updated != kept:
        st.session_state[_KEPT_CURRENT] = updated
        _write_atomically(_kept_folder() / CURRENT, json.dumps(updated, default=_plain).encode("utf-8"))


def _read_kept_current() -> dict[str, Any]:
    return _read_kept_json(CURRENT)


def _restore_current() -> None:
    """Once per browser session that starts away from the Data page: the dataset in use, as the workspace kept it.

    Nothing is restored when the workspace kept none, it had no valid specification, or its table cannot be
    read again (the upload was replaced, the file is gone): the pages then point to the Data page as before.
    """
    if SPEC_KEY in st.session_state:
        return
    st.session_state[SPEC_KEY] = None
    kept = _read_kept_current()
    try:
        if kept.get("spec") is None or kept.get("data") != kept.get("name"):
            return
        source, upload = _kept_table(kept)
        spec = spec_from_dict(kept["spec"])
        source = replace(source, schema=source.schema.with_kinds(kept["kinds"]))
    except (FairGenError, KeyError, TypeError, ValueError):
        return
    st.session_state[DATA_KEY], st.session_state[UPLOAD_KEY] = source, upload
    st.session_state[SPEC_KEY] = (source.name, spec)


def _kept_table(kept: dict[str, Any]) -> tuple[DataSource, bytes | None]:
    """The table the workspace record names: a built-in, or the upload kept beside it (if it is still that one)."""
    if kept.get("upload") is None:
        return load_builtin(kept["name"]), None
    name, content = kept_upload() or ("", b"")
    if name != kept["name"] or hashlib.sha256(content).hexdigest() != kept["upload"]:
        raise FairGenError(f"the upload '{kept['name']}' is no longer kept in this workspace.")
    return load_upload(content, name), content


def kept_upload() -> tuple[str, bytes] | None:
    """The last file uploaded in this workspace (name, bytes), kept for a reload; None if there is none."""
    meta = _kept_upload_meta()
    if "sha256" not in meta:
        return None
    try:
        content = (_kept_folder() / UPLOAD_BYTES).read_bytes()
    except OSError:
        return None
    if hashlib.sha256(content).hexdigest() != meta.get("sha256"):
        return None  # missing, half written or changed behind our back: ignore it
    return str(meta.get("name") or "upload.csv"), content


def remembered(source_name: str, choice: str, default: Any) -> Any:
    """A choice the user made earlier for this dataset (label, sensitive columns...), or ``default``.

    Choices survive reruns, page switches and (through the workspace folder) reloads of the page.
    """
    return _choices().get((source_name, choice), default)


def remember(source_name: str, choice: str, value: Any) -> None:
    """Keep a choice for this dataset across reruns, page switches and reloads."""
    choices = _choices()
    if choices.get((source_name, choice), _MISSING) != value:
        choices[(source_name, choice)] = value
        _write_atomically(_kept_folder() / CHOICES, json.dumps(
            [[source, name, kept] for (source, name), kept in choices.items()], default=_plain).encode("utf-8"))


def _choices() -> dict[tuple[str, str], Any]:
    if _CHOICES not in st.session_state:
        st.session_state[_CHOICES] = _read_kept_choices()
    return st.session_state[_CHOICES]


def _read_kept_choices() -> dict[tuple[str, str], Any]:
    try:
        rows = json.loads((_kept_folder() / CHOICES).read_text(encoding="utf-8"))
        return {(str(source), str(name)): value for source, name, value in rows}
    except (OSError, ValueError, TypeError):
        return {}


def _keep_upload(name: str, content: bytes, digest: str) -> None:
    if st.session_state.get(_KEPT_UPLOAD) == digest:
        return  # already written in this session: the Data page calls this on every rerun
    folder = _kept_folder()
    if _kept_upload_meta().get("sha256") == digest:
        st.session_state[_KEPT_UPLOAD] = digest  # kept by an earlier session of this workspace
        return
    _write_atomically(folder / UPLOAD_BYTES, content)
    _write_atomically(folder / UPLOAD_META, json.dumps({"name": name, "sha256": digest}).encode("utf-8"))
    st.session_state[_KEPT_UPLOAD] = digest


def _kept_upload_meta() -> dict[str, Any]:
    """Name and SHA-256 of the upload kept in this workspace; empty when there is none or it is unreadable."""
    return _read_kept_json(UPLOAD_META)


def _read_kept_json(name: str) -> dict[str, Any]:
    """The JSON object kept in the workspace as ``name``; empty when there is none or it is unreadable."""
    try:
        kept = json.loads((_kept_folder() / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return kept if isinstance(kept, dict) else {}


def _kept_folder() -> Path:
    return runs_root() / SESSION_FOLDER


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, content)


def _plain(value: Any) -> Any:
    """JSON for NumPy scalars and tuples among the remembered values."""
    return value.item() if hasattr(value, "item") else list(value)


# -- the current generator run ------------------------------------------------------------------------
RUN_KEY = "fairgen.run"
WORKSPACE_KEY = "fairgen.workspace"
WORKSPACE_PARAM = "ws"
_SHOWN = "fairgen.shown"


def workspace_id() -> str:
    """This browser session's workspace: kept in the URL (``?ws=``) so a reload finds its runs again.

    A new visitor gets a fresh random id; two visitors never share one unless they share the URL.
    """
    current = st.session_state.get(WORKSPACE_KEY)
    if current is None:
        given = str(st.query_params.get(WORKSPACE_PARAM, ""))
        current = given if _is_workspace_id(given) else secrets.token_hex(8)
        st.session_state[WORKSPACE_KEY] = current
    if st.query_params.get(WORKSPACE_PARAM) != current:
        st.query_params[WORKSPACE_PARAM] = current
    return current


def _is_workspace_id(value: str) -> bool:
    return len(value) == 16 and all(c in "0123456789abcdef" for c in value)


def runs_root() -> Path:
    """Folder holding this workspace's run folders (``$FAIRGEN_RUNS_DIR`` or ``~/.fairgen/runs``)."""
    return default_runs_base() / workspace_id()


def first_time(notice: str) -> bool:
    """True the first time this browser session asks about ``notice`` (to show a message once per session)."""
    shown = st.session_state.setdefault(_SHOWN, set())
    if notice in shown:
        return False
    shown.add(notice)
    return True


def current_run() -> Path | None:
    """The run folder the Quality, Classifier, Compare and Export pages work on, or None."""
    path = st.session_state.get(RUN_KEY)
    return Path(path) if path else None


def set_current_run(path: str | Path | None) -> None:
    """Make ``path`` (a run folder with ``manifest.json``) the current run, or clear it."""
    st.session_state[RUN_KEY] = str(path) if path else None
