"""The CPU thread budget ($FAIRGEN_THREADS): parsing, defaults, and the budget reaching launched processes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import torch

from fairgen_core import config
from fairgen_core.config import (
    MAX_ANALYSES_ENV,
    MAX_JOBS_ENV,
    THREAD_LIBRARY_ENVS,
    THREADS_ENV,
    GeneratorConfig,
    slots_from_env,
    thread_budget,
)
from fairgen_core.data.sources import open_data
from fairgen_core.devices import apply_thread_budget
from fairgen_core.errors import FairGenError
from fairgen_core.runs import layout, process, tasks
from fairgen_core.runs.jobs import start_training
from fairgen_core.runs.process import JobState


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch) -> None:
    """No budget settings from the caller; every variable apply_thread_budget sets is restored afterwards."""
    for name in (THREADS_ENV, MAX_JOBS_ENV, MAX_ANALYSES_ENV, *THREAD_LIBRARY_ENVS):
        monkeypatch.setenv(name, "recorded")  # so that the original state (set or not) comes back afterwards
        monkeypatch.delenv(name)


@pytest.mark.parametrize(("cores", "max_jobs", "max_analyses", "expected"),
                         [(8, None, None, 4), (8, "3", "1", 2), (2, None, None, 1), (1, "2", "2", 1), (16, "1", "", 8)])
def test_default_budget_is_the_cores_divided_by_the_slots(monkeypatch, cores, max_jobs, max_analyses,
                                                          expected) -> None:
    monkeypatch.setattr(config, "available_cores", lambda: cores)
    for name, value in ((MAX_JOBS_ENV, max_jobs), (MAX_ANALYSES_ENV, max_analyses)):
        if value is not None:
            monkeypatch.setenv(name, value)
    assert thread_budget() == expected
    assert thread_budget(concurrent=3) == max(1, cores // 3)  # an experiment's --jobs


def test_fairgen_threads_overrides_the_share(monkeypatch) -> None:
    monkeypatch.setattr(config, "available_cores", lambda: 8)
    monkeypatch.setenv(THREADS_ENV, " 3 ")
    assert thread_budget() == thread_budget(concurrent=8) == 3


@pytest.mark.parametrize("variable", [THREADS_ENV, MAX_JOBS_ENV, MAX_ANALYSES_ENV])
@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_bad_values_name_the_variable(monkeypatch, variable, value) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(FairGenError, match=rf"{variable} must be a whole number ≥ 1, got '{value}'"):
        thread_budget()


def test_slots_default_to_one_and_blank_is_unset(monkeypatch) -> None:
    assert slots_from_env(MAX_JOBS_ENV) == 1
    monkeypatch.setenv(MAX_JOBS_ENV, "  ")
    assert slots_from_env(MAX_JOBS_ENV) == 1


def test_apply_sets_torch_threads_and_leaves_the_environment_alone() -> None:
    previous = torch.get_num_threads()
    try:
        assert apply_thread_budget(1) == 1 and torch.get_num_threads() == 1
        assert not any(name in os.environ for name in (THREADS_ENV, *THREAD_LIBRARY_ENVS))
        with pytest.raises(FairGenError, match="at least 1"):
            apply_thread_budget(0)
    finally:
        torch.set_num_threads(previous)


def _wait_for_text(path: Path, timeout: float = 60.0) -> str:
    start = time.monotonic()
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() - start < timeout, f"{path} stayed empty"
        time.sleep(0.05)
    return path.read_text()


def test_a_launched_process_runs_with_its_budget(tmp_path) -> None:
    script = ("import os, torch; from fairgen_core.devices import apply_thread_budget; "
              "before = torch.get_num_threads(); apply_thread_budget(); "
              f"print(before, torch.get_num_threads(), *[os.environ[n] for n in {THREAD_LIBRARY_ENVS!r}])")
    log = tmp_path / "child.log"
    child = process.launch(["-c", script], log, threads=1)
    assert child.wait(timeout=60) == 0, log.read_text()
    assert _wait_for_text(log).split() == ["1", "1", "1", "1", "1"]


def test_analyses_are_launched_with_the_share_of_their_slots(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(config, "available_cores", lambda: 12)
    monkeypatch.setenv(MAX_JOBS_ENV, "2")
    launched: dict[str, object] = {}

    def fake_launch(args, log, **kwargs):
        launched.update(kwargs)
        return type("Child", (), {"pid": 999_999_999})()

    monkeypatch.setattr(tasks, "launch", fake_launch)
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.pt").write_bytes(b"")
    tasks.start_task(run, "sweep", [], max_analyses=2)
    assert launched == {"threads": 3}  # 12 cores over 2 trainings + 2 analyses
    launched.clear()
    monkeypatch.setenv(THREADS_ENV, "many")
    with pytest.raises(FairGenError, match=f"{THREADS_ENV} must be a whole number"):
        tasks.start_task(run, "compare", [], max_analyses=2)
    assert not launched


@pytest.mark.slow
def test_a_training_worker_logs_and_uses_its_budget(started, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(THREADS_ENV, "1")
    source = open_data("german")
    job = start_training(tmp_path, source, source.default_spec, source.schema,
                         GeneratorConfig(epochs=1, hidden_dim=16, latent_dim=4, device="cpu"), max_jobs=1)
    started.append(job)
    start = time.monotonic()
    while job.is_active:
        assert time.monotonic() - start < 120, "the worker did not finish"
        time.sleep(0.1)
    assert job.status().state is JobState.FINISHED, job.status().message
    assert "(cpu, 1 CPU thread(s))" in (job.path / layout.WORKER_LOG).read_text()
