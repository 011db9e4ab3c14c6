"""The executor's local backend and settings; the Ray backend's tests are in tests/cluster (a real cluster)."""

from __future__ import annotations

import builtins
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fairgen_core.errors import FairGenError
from fairgen_core.runs.executor import ExecutorConfig, open_executor

REPO_ROOT = Path(__file__).resolve().parents[1]


def note(log: list[str], name: str) -> str:
    log.append(name)
    return name


def test_one_job_runs_each_cell_when_waited_for_in_the_order_submitted() -> None:
    log: list[str] = []
    with open_executor(ExecutorConfig()) as executor:
        first, second = executor.submit(note, log, "a"), executor.submit(note, log, "b")
        assert log == []  # nothing runs before the caller waits: it can still record each cell as it ends
        assert [(ticket, outcome.value) for ticket, outcome in executor.wait_first()] == [(first, "a")]
        assert log == ["a"]
        third = executor.submit(note, log, "c")
        done = [ticket for _ in range(2) for ticket, _ in executor.wait_first()]
    assert done == [second, third] and log == ["a", "b", "c"]


def test_worker_processes_run_the_cells_and_share_the_cores() -> None:
    with open_executor(ExecutorConfig(jobs=2)) as executor:
        tickets = {executor.submit(divmod, 7, d): divmod(7, d) for d in (1, 2, 3)}
        outcomes = {}
        while len(outcomes) < 3:
            outcomes |= dict(executor.wait_first())
    assert {ticket: outcome.value for ticket, outcome in outcomes.items()} == tickets
    assert all(outcome.failure is None and outcome.node for outcome in outcomes.values())


def test_a_cells_error_is_raised_and_the_rest_is_cancelled() -> None:
    log: list[str] = []
    with pytest.raises(ZeroDivisionError), open_executor(ExecutorConfig()) as executor:
        executor.submit(divmod, 1, 0)
        executor.submit(note, log, "never")
        executor.wait_first()
    assert log == []


def test_waiting_with_nothing_submitted_is_a_mistake() -> None:
    with pytest.raises(FairGenError, match="nothing to wait for"), open_executor(ExecutorConfig()) as executor:
        executor.wait_first()


@pytest.mark.parametrize(("settings", "message"), [
    ({"jobs": 0}, "parallel jobs must be positive, got 0"),
    ({"ray": "auto", "max_parallel": 0}, "cells at once must be positive, got 0"),
    ({"ray": "auto", "max_retries": -1}, "retries must be 0 or more"),
    ({"ray": " "}, "Ray address is empty"),
    ({"max_parallel": 2}, "applies to a Ray cluster"),
    ({"ray": "auto", "jobs": 2}, "bound the cells at once"),
])
def test_wrong_settings_are_refused(settings, message) -> None:
    with pytest.raises(FairGenError, match=message):
        ExecutorConfig(**settings)


def test_ray_missing_names_the_requirements_file(monkeypatch) -> None:
    real_import = builtins.__import__

    def without_ray(name, *args, **kwargs):
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_ray)
    with pytest.raises(FairGenError, match="requirements-cluster.txt"), open_executor(ExecutorConfig(ray="auto")):
        pass


def test_a_head_that_takes_no_connection_is_refused_at_once() -> None:
    pytest.importorskip("ray", reason="Ray is not installed: pip install -r requirements-cluster.txt")
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FairGenError, match=f"cannot reach the Ray cluster at '127.0.0.1:{port}'"), \
            open_executor(ExecutorConfig(ray=f"127.0.0.1:{port}")):
        pass


def test_the_core_and_the_command_line_never_load_ray() -> None:
    script = ("import sys; import fairgen_core.cli, fairgen_core.experiment, fairgen_core.runs.executor; "
              "print(sorted(m for m in sys.modules if m.split('.')[0] == 'ray'))")
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
