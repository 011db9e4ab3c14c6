"""Concurrent users: browser sessions are isolated, and all workspaces share one bounded training queue.

The browser-level version (two Chromium sessions training at once) is ``tests/e2e/test_two_sessions.py``;
the clean-up of old run folders is ``tests/robustness/test_cleanup.py``.
"""

from __future__ import annotations

import time

import pytest

from dashboard import state
from fairgen_core.config import MAX_JOBS_ENV, GeneratorConfig
from fairgen_core.data.sources import open_data
from fairgen_core.runs.jobs import TrainingJob, list_runs, start_training
from fairgen_core.runs.process import JobState
from tests.app.conftest import fresh_app

pytestmark = pytest.mark.slow


def _wait(condition, timeout: float = 90.0) -> None:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "timed out"
        time.sleep(0.05)


def test_two_sessions_have_their_own_workspace_upload_and_choices() -> None:
    first, second = fresh_app(), fresh_app()
    first.run()
    second.run()
    workspaces = first.session_state[state.WORKSPACE_KEY], second.session_state[state.WORKSPACE_KEY]
    assert workspaces[0] != workspaces[1] and all(state._is_workspace_id(w) for w in workspaces)
    assert first.query_params[state.WORKSPACE_PARAM] == workspaces[0]  # kept in the URL for reloads

    content = "".join(f"{'F' if i % 3 else 'M'},{20 + i % 40},{'yes' if i % 4 else 'no'}\n" for i in range(200))
    first.radio(key="data.origin").set_value("Upload a CSV").run()
    first.file_uploader(key="data.upload").set_value(("private.csv", ("sex,age,hired\n" + content).encode(),
                                                      "text/csv")).run()
    first.selectbox(key="private.csv.label").set_value("hired").run()
    first.multiselect(key="private.csv.hired.favourable").set_value(["yes"]).run()
    first.multiselect(key="private.csv.hired.sensitive").set_value(["sex"]).run()
    assert not first.exception and first.session_state[state.SPEC_KEY][0] == "private.csv"

    second.run()
    assert second.session_state[state.SPEC_KEY][0] == "adult"  # still its own default, not the other's upload
    assert second.session_state[state.DATA_KEY].name == "adult"
    assert second.session_state[state.UPLOAD_KEY] is None
    assert "private.csv" not in "\n".join(m.value for m in second.markdown)


def test_two_workspaces_share_the_configured_number_of_slots_and_see_only_their_runs(
        tmp_path, monkeypatch, started: list[TrainingJob]) -> None:
    monkeypatch.setenv(MAX_JOBS_ENV, "1")  # one GPU on the server: one training at a time
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    german = open_data("german")
    alice, bob = tmp_path / "alice-workspace", tmp_path / "bob-workspace"
    long = GeneratorConfig(epochs=300, patience=0, device="cpu", seed=1)
    started.append(start_training(alice, german, german.default_spec, german.schema, long, name="alice-run",
                               queue_dir=tmp_path))
    started.append(start_training(bob, german, german.default_spec, german.schema,
                               GeneratorConfig(epochs=2, device="cpu", seed=1), name="bob-run", queue_dir=tmp_path))
    first, second = started
    _wait(lambda: len(first.progress()) >= 1)
    assert second.status().state is JobState.QUEUED
    assert second.status().message == "waiting for a training slot"
    assert [run.name for run in list_runs(alice)] == ["alice-run"]
    assert [run.name for run in list_runs(bob)] == ["bob-run"]
    first.stop(timeout=10)
    _wait(lambda: not second.is_active)
    assert second.status().state is JobState.FINISHED
