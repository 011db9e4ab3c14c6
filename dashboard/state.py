"""The only module that knows the dashboard's ``st.session_state`` keys.

Pages read and write the user's choices through these functions, so that choices survive reruns and
page switches (widget keys are dropped by Streamlit when a page stops rendering them; the values kept
here are not).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from fairgen_core.data.spec import DatasetSpec

_SPEC = "fairgen.spec"
_SOURCE_NAME = "fairgen.source_name"
_CHOICES = "fairgen.choices"


def current_spec() -> DatasetSpec | None:
    """The last valid dataset specification, or None."""
    return st.session_state.get(_SPEC)


def set_current(source_name: str, spec: DatasetSpec | None) -> None:
    """Record the dataset in use and its validated specification (None while invalid)."""
    st.session_state[_SOURCE_NAME] = source_name
    st.session_state[_SPEC] = spec


def current_source_name() -> str | None:
    """Name of the dataset in use (built-in name or uploaded file name)."""
    return st.session_state.get(_SOURCE_NAME)


def remembered(source_name: str, choice: str, default: Any) -> Any:
    """A choice the user made earlier for this dataset (label, sensitive columns...), or ``default``."""
    return st.session_state.setdefault(_CHOICES, {}).get((source_name, choice), default)


def remember(source_name: str, choice: str, value: Any) -> None:
    """Keep a choice for this dataset across reruns and page switches."""
    st.session_state.setdefault(_CHOICES, {})[(source_name, choice)] = value
