"""Small cells for the executor's tests on a real Ray cluster (module-level: Ray workers import them)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def nap(seconds: float, name: str) -> str:
    """Sleep, then return ``name`` (a cell that holds its CPU for a while)."""
    time.sleep(seconds)
    return name


def die_once(folder: Path, name: str) -> str:
    """Kill this worker the first time (a marker file remembers it), finish the second time."""
    marker = folder / f"{name}.attempted"
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return name


def always_die(folder: Path, name: str) -> str:
    """Count the attempt in ``folder`` and kill this worker: the cell never finishes."""
    (folder / f"{name}.{os.getpid()}").write_text("")
    os.kill(os.getpid(), signal.SIGKILL)
    return name


def logged(folder: Path, name: str) -> str:
    """Append ``start NAME`` and ``end NAME`` to ``folder/log`` around a short nap."""
    with (folder / "log").open("a") as log:
        log.write(f"start {name}\n")
    time.sleep(0.3)
    with (folder / "log").open("a") as log:
        log.write(f"end {name}\n")
    return name


def fail(shared: object, message: str) -> None:
    """A cell that raises its own error."""
    raise ValueError(message)
