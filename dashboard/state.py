"""The only module that knows the dashboard's ``st.session_state`` keys.

Pages read and write the user's choices through these functions, so that choices survive reruns and
page switches (widget keys are dropped by Streamlit when a page stops rendering them; the values kept
here are not).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from fairgen_core.data.spec import DatasetSpec

SPEC_KEY = "fairgen.spec"
_CHOICES = "fairgen.choices"


def current_spec() -> tuple[str, DatasetSpec] | None:
    """The dataset in use and its last valid specification, or None while there is none."""
    return st.session_state.get(SPEC_KEY)


def set_current(source_name: str, spec: DatasetSpec | None) -> None:
    """Record the dataset in use with its validated specification (None while it is invalid)."""
    st.session_state[SPEC_KEY] = (source_name, spec) if spec is not None else None


def remembered(source_name: str, choice: str, default: Any) -> Any:
    """A choice the user made earlier for this dataset (label, sensitive columns...), or ``default``."""
    return st.session_state.setdefault(_CHOICES, {}).get((source_name, choice), default)


def remember(source_name: str, choice: str, value: Any) -> None:
    """Keep a choice for this dataset across reruns and page switches."""
    st.session_state.setdefault(_CHOICES, {})[(source_name, choice)] = value
