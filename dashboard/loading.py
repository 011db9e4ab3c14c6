"""Cached loading of built-in datasets and uploads (cache keyed by content; no per-user state)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from fairgen_core.data.io import ReadLimits, read_csv
from fairgen_core.data.sources import DataSource, open_data

UPLOAD_LIMIT_MB = 200


@st.cache_data(max_entries=8, show_spinner="Loading the dataset…")
def load_builtin(name: str) -> DataSource:
    """Load a built-in dataset by name."""
    return open_data(name)


@st.cache_data(max_entries=4, show_spinner="Reading the file…")
def load_upload(content: bytes, file_name: str) -> DataSource:
    """Parse an uploaded CSV (raises :class:`~fairgen_core.errors.FairGenError` on bad input)."""
    return open_data(content, name=file_name, limits=ReadLimits(max_bytes=UPLOAD_LIMIT_MB * 1024 * 1024))


@st.cache_data(max_entries=4, show_spinner="Reading the predictions…")
def load_predictions(content: bytes, file_name: str) -> pd.DataFrame:
    """Parse an uploaded CSV of predictions: any number of columns (raises ``FairGenError`` on bad input)."""
    return read_csv(content, name=file_name, limits=ReadLimits(max_bytes=UPLOAD_LIMIT_MB * 1024 * 1024)).frame
