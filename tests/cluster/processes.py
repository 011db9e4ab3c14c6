"""This test's Ray cluster: its size, which workers run a cell, killing one, waiting for a state.

Linux only (reads ``/proc``), like CI.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

#: Ray names a worker process after the task it runs: the executor's task body.
CELL_TITLE = "ray::_on_node"
#: A small object store: the tests share a German table, not gigabytes.
OBJECT_STORE_BYTES = 200 * 1024**2


def require_ray() -> ModuleType:
    """Ray, or the calling test module skipped: Ray comes from requirements-cluster.txt (in requirements-dev.txt).

    In CI, which installs requirements-dev.txt, a missing Ray fails instead.
    """
    try:
        import ray
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("Ray is not installed, and CI must run the cluster tests: pip install -r "
                        "requirements-dev.txt", pytrace=False)
        pytest.skip("Ray is not installed: pip install -r requirements-cluster.txt to run the cluster tests",
                    allow_module_level=True)
    return ray


def _descendants(root: int) -> set[int]:
    """The processes below ``root`` (this test's Ray cluster: its raylets and their workers)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def running_cells() -> list[int]:
    """The worker processes of this test's Ray cluster that are running a cell now."""
    pids = []
    for pid in _descendants(os.getpid()):
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(CELL_TITLE.encode()):
                pids.append(pid)
        except OSError:
            continue
    return sorted(pids)


def wait_until(condition: Callable[[], Any], timeout: float = 120.0) -> Any:
    """Poll ``condition`` until it is truthy and return it; fail the test if it never is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"gave up waiting after {timeout:.0f} s")


def kill_first_cell(killed: list[int], timeout: float = 300.0) -> None:
    """Kill the first worker seen running a cell (SIGKILL, as a crash or an OOM kill would) and note its pid.

    For a background thread: gives up quietly after ``timeout`` seconds (the test then finds ``killed`` empty).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cells = running_cells()
        if cells:
            os.kill(cells[0], signal.SIGKILL)
            killed.append(cells[0])
            return
        time.sleep(0.1)


def ended(pid: int) -> bool:
    """Whether process ``pid`` has ended (gone, or a zombie its parent has not reaped yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def cpus_free() -> bool:
    """Whether every CPU of the cluster is free again (no task holds one)."""
    ray = require_ray()
    return ray.available_resources().get("CPU", 0) == ray.cluster_resources().get("CPU", -1)
