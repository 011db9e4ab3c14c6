"""Shared fixtures: the raw dataset copies in ../shared/datasets used as the loaders' oracle."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fairgen_core.config import THREAD_LIBRARY_ENVS
from fairgen_core.devices import apply_thread_budget
from fairgen_core.runs.jobs import TrainingJob

if os.environ.get("PYTEST_XDIST_WORKER"):
    # README's command runs one pytest-xdist worker per core: each worker, and every process a test starts, gets
    # one thread, so the workers share the cores instead of spinning against each other.
    for _variable in THREAD_LIBRARY_ENVS:
        os.environ.setdefault(_variable, "1")
    apply_thread_budget(1)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The folder of raw dataset copies; CI must have it, a local checkout without it skips."""
    if not SHARED_DATASETS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED_DATASETS} is missing: CI must run beside ../shared")
        pytest.skip(f"{SHARED_DATASETS} is not present")
    return SHARED_DATASETS


@pytest.fixture(autouse=True)
def _private_runs_dir(tmp_path_factory, monkeypatch) -> None:
    """Every test's dashboard and CLI use a temporary runs folder: none prunes or fills ~/.fairgen/runs."""
    monkeypatch.setenv("FAIRGEN_RUNS_DIR", str(tmp_path_factory.mktemp("fairgen-runs")))


@pytest.fixture
def started() -> Iterator[list[TrainingJob]]:
    """Jobs a test starts; any still active at the end are stopped (never left running)."""
    running: list[TrainingJob] = []
    yield running
    for job in running:
        if job.is_active:
            job.stop(timeout=10)
