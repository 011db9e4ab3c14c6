"""Analyses of a finished run (the ratio sweep, the comparison methods) in a background process.

A task is the command line's ``sweep`` or ``compare`` on a run folder, started detached so it survives page
switches and reloads. Its process, ``python -m fairgen_core.runs.tasks QUEUE_DIR SLOTS NAME RUN_DIR OPTIONS...``,
first waits for one of the server's analysis slots (``$FAIRGEN_MAX_ANALYSES``, default 1: ``queued`` until
one is free), then runs the command with its share of the cores (``$FAIRGEN_THREADS``, see
:func:`fairgen_core.config.thread_budget`). Its state is read from the folder alone, so any session that opens the
run sees the same thing::

    RUN_DIR/
      NAME.task.json       process id, start time and options (``stopped`` once a stop was asked for)
      NAME.log             the task's output: a line per finished cell, then the results' summary
      NAME.progress.json   queued, or cells done and in all, the last cell, start and last update times, the
                           measured time per cell and the time left
      NAME.partial.csv     the rows of the cells finished so far (:class:`PartialTable`); replaced by the results
                           table at the end, kept when the task is stopped or fails
      sweep.csv            the results table (``methods.csv`` for ``compare``), once finished
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from fairgen_core.config import MAX_ANALYSES_ENV, MAX_JOBS_ENV, slots_from_env, thread_budget
from fairgen_core.errors import JobError
from fairgen_core.runs.files import write_atomically, write_json_atomically
from fairgen_core.runs.layout import ANALYSIS_QUEUE, MODEL, TASK_TABLES, task_files
from fairgen_core.runs.process import JobState, launch, process_alive, signal_group, take_slot

#: The module an analysis's process runs (``python -m``).
TASK_MODULE = "fairgen_core.runs.tasks"
POLL_S = 0.25


@dataclass(frozen=True)
class TaskStatus:
    """Where a background analysis stands.

    Attributes
    ----------
    state : JobState
        ``idle``: never started here and no table yet; ``queued``: waiting for a free analysis slot; then
        ``running`` and ``finished``, ``stopped`` or ``failed``.
    message : str
        For ``failed``: the end of the task's log; for ``queued``: what it waits for.
    elapsed_s : float
        Seconds since the start (0 when idle).
    done : int
        Cells finished (a cell: one model trained and selected, e.g. one ratio of one repetition).
    total : int
        Cells in all; 0 until the task has counted them.
    last : str
        The cell finished last, e.g. ``"transfer at ratio 0.2, repetition 1 of 2"``.
    seconds_per_cell : float or None
        The measured mean time per finished cell (None before the first one).
    eta_s : float or None
        While running: the time left, estimated from ``seconds_per_cell`` (None before the first cell).
    """

    state: JobState
    message: str = ""
    elapsed_s: float = 0.0
    done: int = 0
    total: int = 0
    last: str = ""
    seconds_per_cell: float | None = None
    eta_s: float | None = None

    @property
    def is_active(self) -> bool:
        """Whether the task's process is alive: queued for a slot or computing."""
        return self.state.is_active


def start_task(run_dir: str | Path, name: str, options: list[str], *, queue_dir: str | Path | None = None,
               max_analyses: int | None = None) -> None:
    """Start analysis ``name`` of ``run_dir`` detached (it waits for a free analysis slot); returns at once.

    Its table replaces any earlier one.

    Parameters
    ----------
    run_dir : str or pathlib.Path
        A finished run folder.
    name : {"sweep", "compare"}
        The analysis.
    options : list of str
        Further command-line options (e.g. ``["--reps", "3"]``); passed as arguments, never to a shell.
    queue_dir : str or pathlib.Path, optional
        Folder whose slots bound how many analyses run at once (default: the folder holding ``run_dir``);
        give the same folder for every workspace of a server.
    max_analyses : int, optional
        Slots in ``queue_dir`` (default ``$FAIRGEN_MAX_ANALYSES``, else 1); an analysis beyond them waits,
        ``queued``.

    Raises
    ------
    FairGenError
        If the name is unknown, the folder has no model, the same analysis is already running or queued, or
        ``max_analyses`` (or ``$FAIRGEN_MAX_JOBS``, ``$FAIRGEN_THREADS``) is not a positive number.
    """
    run_dir = Path(run_dir).resolve()
    files = task_files(run_dir, name)
    if not (run_dir / MODEL).is_file():
        raise JobError(f"'{run_dir.name}' has no trained model yet: finish training first.")
    if task_status(run_dir, name).is_active:
        raise JobError(f"the {name} of this run is already running or queued: wait for it or stop it.")
    slots = max_analyses if max_analyses is not None else slots_from_env(MAX_ANALYSES_ENV)
    if slots < 1:
        raise JobError(f"max_analyses must be at least 1, got {slots}.")
    threads = thread_budget(slots_from_env(MAX_JOBS_ENV) + slots)
    queue = Path(queue_dir or run_dir.parent).resolve() / ANALYSIS_QUEUE
    queue.mkdir(parents=True, exist_ok=True)
    for stale in (files.table, files.progress, files.partial):
        stale.unlink(missing_ok=True)
    child = launch(["-m", TASK_MODULE, str(queue), str(slots), name, str(run_dir), *options], files.log,
                   threads=threads)
    files.marker.write_text(json.dumps({"pid": child.pid, "started": time.time(), "options": options}))


def task_status(run_dir: str | Path, name: str) -> TaskStatus:
    """The state of analysis ``name`` in ``run_dir``, read from the folder (works from any session)."""
    run_dir = Path(run_dir).resolve()
    files = task_files(run_dir, name)
    progress = _read_progress(files.progress)
    if not files.marker.exists():
        return TaskStatus(JobState.FINISHED, **_counts(progress)) if files.table.exists() else TaskStatus(JobState.IDLE)
    try:
        started = json.loads(files.marker.read_text())
        pid, since = int(started["pid"]), float(started["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return TaskStatus(JobState.FAILED, f"'{files.marker.name}' is damaged: start the {name} again.")
    elapsed = time.time() - since
    if process_alive(pid):
        if progress.get("state") == JobState.QUEUED:
            return TaskStatus(JobState.QUEUED, f"waiting for a free analysis slot: at most {progress.get('slots', 1)} "
                              f"run at once on this server (${MAX_ANALYSES_ENV}).", elapsed_s=elapsed)
        return TaskStatus(JobState.RUNNING, elapsed_s=elapsed, **_counts(progress, running=True))
    if files.table.exists():
        return TaskStatus(JobState.FINISHED, elapsed_s=elapsed, **_counts(progress))
    if started.get("stopped"):
        return TaskStatus(JobState.STOPPED, "stopped on request", elapsed_s=elapsed, **_counts(progress))
    tail = files.log.read_text(errors="replace").strip().splitlines()[-3:] if files.log.exists() else []
    return TaskStatus(JobState.FAILED, "\n".join(tail) or f"the {name} process ended without writing its results.",
                      elapsed_s=elapsed, **_counts(progress))


def _read_progress(path: Path) -> dict[str, Any]:
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return values if isinstance(values, dict) else {}


def _counts(progress: dict[str, Any], *, running: bool = False) -> dict[str, Any]:
    """The :class:`TaskStatus` fields a progress record gives (none when it has no counts; no time left unless
    ``running``)."""
    try:
        done, total = int(progress["done"]), int(progress["total"])
        per_cell, eta = (None if progress.get(key) is None else float(progress[key])
                         for key in ("seconds_per_cell", "eta_s"))
    except (KeyError, TypeError, ValueError):
        return {}
    return {"done": done, "total": total, "last": str(progress.get("last", "")), "seconds_per_cell": per_cell,
            "eta_s": eta if running else None}


def cell_timing(done: int, total: int, elapsed_s: float) -> tuple[float | None, float | None]:
    """The mean time per finished cell and the time left at that pace: the one estimate of an analysis's ETA.

    Parameters
    ----------
    done, total : int
        Cells finished and cells in all.
    elapsed_s : float
        Seconds since the analysis started computing.

    Returns
    -------
    tuple of (float or None, float or None)
        Seconds per cell and seconds left; both None before the first cell.

    Examples
    --------
    >>> cell_timing(3, 13, 30.0)
    (10.0, 100.0)
    >>> cell_timing(0, 13, 4.0)
    (None, None)
    """
    if done <= 0:
        return None, None
    per_cell = elapsed_s / done
    return per_cell, per_cell * max(total - done, 0)


def stop_task(run_dir: str | Path, name: str) -> None:
    """Stop a running or queued analysis (its process group gets SIGTERM); nothing happens if there is none."""
    run_dir = Path(run_dir).resolve()
    marker = task_files(run_dir, name).marker
    if not task_status(run_dir, name).is_active:
        return
    started = json.loads(marker.read_text())
    marker.write_text(json.dumps({**started, "stopped": True}))
    signal_group(int(started["pid"]), signal.SIGTERM)


class TaskProgress:
    """Records an analysis's progress in its run folder (``NAME.progress.json``) and logs a line per cell.

    A :data:`~fairgen_core.classifier.sweep.ProgressCallback`; :func:`task_status` reads what it writes.

    Parameters
    ----------
    run_dir : str or pathlib.Path
        The run folder.
    name : {"sweep", "compare"}
        The analysis.
    stream : file, optional
        Where the line per finished cell goes (default standard error, i.e. ``NAME.log`` in a task).
    """

    def __init__(self, run_dir: str | Path, name: str, stream: TextIO | None = None) -> None:
        self.path = task_files(Path(run_dir), name).progress
        self.stream = stream or sys.stderr
        self.started = time.time()

    def __call__(self, done: int, total: int, last: str) -> None:
        """Record that ``done`` of ``total`` cells are finished, ``last`` the latest, and the time left."""
        now = time.time()
        per_cell, eta = cell_timing(done, total, now - self.started)
        write_json_atomically(self.path, {"state": JobState.RUNNING.value, "done": done, "total": total, "last": last,
                                          "started": self.started, "updated": now, "seconds_per_cell": per_cell,
                                          "eta_s": eta})
        if per_cell is not None and eta is not None:
            print(f"[{done}/{total}] {last}: {per_cell:.1f} s per cell, about {eta / 60:.1f} min left",
                  file=self.stream, flush=True)


class PartialTable:
    """The rows of an analysis's finished cells, kept in its run folder (``NAME.partial.csv``) as they come.

    A :data:`~fairgen_core.classifier.sweep.RowsCallback`: every call adds a cell's rows and rewrites the file
    atomically, so a reader always sees whole cells, and a stopped or failed analysis leaves the cells it
    finished. :func:`read_partial` reads it; :meth:`discard` removes it once the results table is written.

    Parameters
    ----------
    run_dir : str or pathlib.Path
        The run folder.
    name : {"sweep", "compare"}
        The analysis.
    """

    def __init__(self, run_dir: str | Path, name: str) -> None:
        self.path = task_files(Path(run_dir), name).partial
        self._cells: list[pd.DataFrame] = []

    def __call__(self, rows: pd.DataFrame) -> None:
        """Add one finished cell's tidy rows and rewrite the file."""
        self._cells.append(rows)
        write_atomically(self.path, pd.concat(self._cells, ignore_index=True).to_csv(index=False).encode("utf-8"))

    def discard(self) -> None:
        """Remove the file (the analysis's results table now holds every row)."""
        self.path.unlink(missing_ok=True)


def read_partial(run_dir: str | Path, name: str) -> pd.DataFrame | None:
    """The rows of the cells analysis ``name`` of ``run_dir`` has finished so far (:class:`PartialTable`), or None
    when there is no partial table: never started, not one cell finished yet, or finished (see its results table)."""
    path = task_files(Path(run_dir), name).partial
    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        return None


@contextmanager
def analysis_slot(queue: Path, slots: int, progress: Path) -> Iterator[None]:
    """Hold one of the ``slots`` analysis slots in ``queue`` while the block runs; ``queued`` until one is free.

    The wait is recorded in ``progress`` (the task's progress file), which is cleared once a slot is held.
    """
    queued = False
    while (held := take_slot(queue, slots)) is None:
        if not queued:
            write_json_atomically(progress, {"state": JobState.QUEUED.value, "slots": slots})
            queued = True
        time.sleep(POLL_S)
    progress.unlink(missing_ok=True)  # running, nothing counted yet
    try:
        yield
    finally:
        held.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of a task's process: wait for a slot, then run the command; 2 for bad arguments."""
    from fairgen_core.cli import main as run_command  # imported here: the command line imports this module

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 4 or not args[1].isdigit() or args[2] not in TASK_TABLES:
        print(f"usage: python -m {TASK_MODULE} QUEUE_DIR SLOTS {{{','.join(TASK_TABLES)}}} RUN_DIR [OPTIONS...]",
              file=sys.stderr)
        return 2
    queue, slots, name, run_dir, *options = args
    with analysis_slot(Path(queue), int(slots), task_files(Path(run_dir), name).progress):
        return run_command([name, run_dir, *options])


if __name__ == "__main__":
    sys.exit(main())
