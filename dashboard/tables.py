"""Cached reads of a run folder's results tables (re-read when the file changes)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from fairgen_core.runs import RunDir


@st.cache_data(max_entries=16, show_spinner=False)
def _read_table(path: str, name: str, modified: float) -> pd.DataFrame | None:
    return RunDir(path).read_table(name)


def table_of(run: Path, name: str) -> pd.DataFrame | None:
    """The results table ``name`` (``sweep.csv`` or ``methods.csv``) of ``run``, or None when not computed.

    The file's modification time is part of the cache key, so a new table is picked up at once.
    """
    file = run / name
    return _read_table(str(run), name, file.stat().st_mtime) if file.exists() else None
