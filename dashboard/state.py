"""The only module that knows the dashboard's ``st.session_state`` keys.

Pages read and write the user's choices through these functions, so that choices survive reruns and
page switches (widget keys are dropped by Streamlit when a page stops rendering them; the values kept
here are not).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import streamlit as st

from fairgen_core.cleanup import RUNS_DIR_ENV, default_runs_base
from fairgen_core.data.sources import DataSource
from fairgen_core.data.spec import DatasetSpec

SPEC_KEY = "fairgen.spec"
DATA_KEY = "fairgen.data"
UPLOAD_KEY = "fairgen.upload"
_CHOICES = "fairgen.choices"


def current_spec() -> tuple[str, DatasetSpec] | None:
    """The dataset in use and its last valid specification, or None while there is none."""
    return st.session_state.get(SPEC_KEY)


def set_current(source_name: str, spec: DatasetSpec | None) -> None:
    """Record the dataset in use with its validated specification (None while it is invalid)."""
    st.session_state[SPEC_KEY] = (source_name, spec) if spec is not None else None


def set_current_data(source: DataSource, upload: bytes | None = None) -> None:
    """Record the table in use, with the column kinds the user settled on, for the pages that need its rows.

    ``upload`` is the uploaded file's original bytes (None for a built-in dataset): a training worker re-reads
    exactly these bytes, and the Data page can show the file again after a page switch.
    """
    st.session_state[DATA_KEY] = source
    st.session_state[UPLOAD_KEY] = upload


def current_upload() -> bytes | None:
    """The original bytes of the uploaded file in use, or None (built-in dataset or nothing uploaded)."""
    return st.session_state.get(UPLOAD_KEY)


def current_data() -> DataSource | None:
    """The table recorded by :func:`set_current_data`, or None before the Data page has run."""
    return st.session_state.get(DATA_KEY)


def remembered(source_name: str, choice: str, default: Any) -> Any:
    """A choice the user made earlier for this dataset (label, sensitive columns...), or ``default``."""
    return st.session_state.setdefault(_CHOICES, {}).get((source_name, choice), default)


def remember(source_name: str, choice: str, value: Any) -> None:
    """Keep a choice for this dataset across reruns and page switches."""
    st.session_state.setdefault(_CHOICES, {})[(source_name, choice)] = value


# -- the current generator run ------------------------------------------------------------------------
RUN_KEY = "fairgen.run"
WORKSPACE_KEY = "fairgen.workspace"
WORKSPACE_PARAM = "ws"
RUNS_ROOT_ENV = RUNS_DIR_ENV
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
