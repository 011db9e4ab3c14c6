"""Analyses of a finished run (the ratio sweep, the comparison methods) in a background process.

A task is the command line's ``sweep`` or ``compare`` on a run folder, started detached so it survives page
switches and reloads. Its state is read from the folder alone (``NAME.task.json``, ``NAME.log`` and the results
table), so any session that opens the run sees the same thing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from fairgen_core.errors import FairGenError
from fairgen_core.jobs import process_alive
from fairgen_core.runs import METHODS, SWEEP

TASK_TABLES: dict[str, str] = {"sweep": SWEEP, "compare": METHODS}
_CHILDREN: dict[tuple[Path, str], subprocess.Popen] = {}


@dataclass(frozen=True)
class TaskStatus:
    """Where a background analysis stands.

    Attributes
    ----------
    state : {"idle", "running", "finished", "stopped", "failed"}
        ``idle``: never started here and no table yet.
    message : str
        For ``failed``: the end of the task's log.
    elapsed_s : float
        Seconds since the start (0 when idle).
    """

    state: str
    message: str = ""
    elapsed_s: float = 0.0

    @property
    def running(self) -> bool:
        """Whether the task's process is still working."""
        return self.state == "running"


def _files(run_dir: Path, name: str) -> tuple[Path, Path, Path]:
    if name not in TASK_TABLES:
        raise FairGenError(f"unknown analysis '{name}': use one of {', '.join(TASK_TABLES)}.")
    return run_dir / f"{name}.task.json", run_dir / f"{name}.log", run_dir / TASK_TABLES[name]


def start_task(run_dir: str | Path, name: str, options: list[str]) -> None:
    """Start ``python -m fairgen_core NAME RUN_DIR OPTIONS...`` detached; its table replaces any earlier one.

    Parameters
    ----------
    run_dir : str or pathlib.Path
        A finished run folder.
    name : {"sweep", "compare"}
        The analysis.
    options : list of str
        Further command-line options (e.g. ``["--reps", "3"]``); passed as arguments, never to a shell.

    Raises
    ------
    FairGenError
        If the name is unknown, the folder has no model, or the same analysis is already running.
    """
    run_dir = Path(run_dir).resolve()
    marker, log, table = _files(run_dir, name)
    if not (run_dir / "model.pt").is_file():
        raise FairGenError(f"'{run_dir.name}' has no trained model yet: finish training first.")
    if task_status(run_dir, name).running:
        raise FairGenError(f"the {name} of this run is already running: wait for it or open its results.")
    table.unlink(missing_ok=True)
    package_parent = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))}
    with log.open("wb") as handle:
        child = subprocess.Popen([sys.executable, "-m", "fairgen_core", name, str(run_dir), *options],
                                 stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT, env=env,
                                 start_new_session=True)
    _CHILDREN[(run_dir, name)] = child
    marker.write_text(json.dumps({"pid": child.pid, "started": time.time(), "options": options}))


def task_status(run_dir: str | Path, name: str) -> TaskStatus:
    """The state of analysis ``name`` in ``run_dir``, read from the folder (works from any session)."""
    run_dir = Path(run_dir).resolve()
    marker, log, table = _files(run_dir, name)
    child = _CHILDREN.get((run_dir, name))
    if child is not None:
        child.poll()  # reap a finished child so that it does not linger as a zombie
    if not marker.exists():
        return TaskStatus("finished" if table.exists() else "idle")
    try:
        started = json.loads(marker.read_text())
        pid, since = int(started["pid"]), float(started["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return TaskStatus("failed", f"'{marker.name}' is damaged: start the {name} again.")
    elapsed = time.time() - since
    if process_alive(pid):
        return TaskStatus("running", elapsed_s=elapsed)
    if table.exists():
        return TaskStatus("finished", elapsed_s=elapsed)
    if started.get("stopped"):
        return TaskStatus("stopped", "stopped on request", elapsed_s=elapsed)
    tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
    return TaskStatus("failed", "\n".join(tail) or f"the {name} process ended without writing its results.",
                      elapsed_s=elapsed)


def stop_task(run_dir: str | Path, name: str) -> None:
    """Stop a running analysis (its process group gets SIGTERM); nothing happens if it is not running."""
    run_dir = Path(run_dir).resolve()
    marker, _, _ = _files(run_dir, name)
    if not task_status(run_dir, name).running:
        return
    started = json.loads(marker.read_text())
    marker.write_text(json.dumps({**started, "stopped": True}))
    pid = int(started["pid"])
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
