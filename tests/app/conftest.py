"""Fixtures for the page tests: a small trained German run every page after Train can open."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import state
from fairgen_core.cli import main
from fairgen_core.runs.store import RunDir
from tests.conftest import REPO_ROOT

APP = str(REPO_ROOT / "dashboard" / "app.py")


@pytest.fixture(scope="session")
def german_run_dir(tmp_path_factory) -> Path:
    """A run folder from ``fit german`` with 3 epochs (manifest, progress, model); treat it as read-only."""
    out = tmp_path_factory.mktemp("runs") / "german"
    assert main(["fit", "german", "--out", str(out), "--epochs", "3", "--device", "cpu", "--seed", "1"]) == 0
    RunDir(out).read_manifest()
    return out


def open_run_page(at: AppTest, page: str, run: Path | None) -> AppTest:
    """Run the app with ``run`` as the current run folder, then switch to ``page`` (relative to app.py)."""
    at.session_state[state.RUN_KEY] = str(run) if run else None
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def fresh_app(timeout: float = 60) -> AppTest:
    """The dashboard with Streamlit's caches cleared, not yet run."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    return AppTest.from_file(APP, default_timeout=timeout)
