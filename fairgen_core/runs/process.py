"""Background processes: the one way to start them, tell whether they live, end them, and share slots.

Every training worker (:mod:`fairgen_core.runs.worker`) and analysis (:mod:`fairgen_core.runs.tasks`) is started
by :func:`launch` in its own session, detached, and reaped by a waiting thread as soon as it ends, so none
lingers as a zombie (``<defunct>``) under the server. Both report their state in one vocabulary,
:class:`JobState`. Torch-free.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import IO

from fairgen_core.config import thread_budget, thread_env
from fairgen_core.runs.layout import slot_lock

# Processes started by this one, by the folder they work for (:func:`launch`'s ``owner``), for their exit codes.
_CHILDREN: dict[Path, subprocess.Popen[bytes]] = {}


class JobState(StrEnum):
    """Where a background job (a training or an analysis of a run) is in its life."""

    IDLE = "idle"  # an analysis never started and with no results table yet
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"

    @property
    def is_active(self) -> bool:
        """Whether a process is (or should be) still working on the job: queued for a slot or computing."""
        return self in (JobState.QUEUED, JobState.RUNNING)


def launch(args: Sequence[str], log: Path, *, append: bool = False, threads: int | None = None,
           owner: Path | None = None) -> subprocess.Popen[bytes]:
    """Start ``python ARGS...`` in its own session, detached, with its output in ``log``; returns at once.

    The package is put on the child's ``PYTHONPATH`` and its thread budget (``threads``, default
    :func:`~fairgen_core.config.thread_budget`) in its environment (``$FAIRGEN_THREADS``, ``OMP_NUM_THREADS``,
    ...), read before it loads NumPy or torch. A daemon thread waits for the child, so it is reaped the moment
    it ends (never a zombie, whether or not anybody asks about it again); ``poll()`` and ``wait()`` then give
    its exit status.

    Parameters
    ----------
    args : sequence of str
        The interpreter's arguments, e.g. ``["-m", "fairgen_core.runs.worker", RUN_DIR]``.
    log : pathlib.Path
        File receiving the child's standard output and error.
    append : bool
        Append to ``log`` rather than replace it.
    threads : int, optional
        The child's CPU thread budget.
    owner : pathlib.Path, optional
        The folder the child works for: :func:`how_it_ended` and :func:`launched` find it by this folder.
    """
    package_parent = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, **thread_env(thread_budget() if threads is None else threads),
           "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))}
    with log.open("ab" if append else "wb") as handle:
        child = subprocess.Popen([sys.executable, *args], stdin=subprocess.DEVNULL, stdout=handle,
                                 stderr=subprocess.STDOUT, env=env, start_new_session=True)
    threading.Thread(target=child.wait, name=f"fairgen-reap-{child.pid}", daemon=True).start()
    if owner is not None:
        _CHILDREN[owner.resolve()] = child
    return child


def launched(owner: Path) -> subprocess.Popen[bytes] | None:
    """The process this one launched for ``owner`` (None if it launched none)."""
    return _CHILDREN.get(owner.resolve())


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (a dead child its parent has not reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (not Linux): trust os.kill
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def how_it_ended(owner: Path, pid: int | None) -> str | None:
    """How the process working for ``owner`` (process ``pid``) ended, or None while it lives.

    Returns
    -------
    str or None
        ``"exit code N"`` or ``"killed by signal N"`` for a process this one launched, ``"process N is gone"``
        for another one that no longer exists; None if it is alive (or ``pid`` is unknown and this process
        launched none for ``owner``).
    """
    child = launched(owner)
    gone = pid is not None and not process_alive(pid)
    if child is not None and (child.poll() is not None or gone):
        code = child.wait()  # it has ended (a zombie until reaped here)
        return f"killed by signal {-code}" if code < 0 else f"exit code {code}"
    return f"process {pid} is gone" if gone else None


def signal_group(pid: int, signal_number: int) -> None:
    """Send a signal to the session ``pid`` leads (its children too), else to ``pid`` alone; nothing if it is gone."""
    try:
        os.killpg(pid, signal_number)
    except ProcessLookupError:
        try:
            os.kill(pid, signal_number)  # a process started by hand, in someone else's group
        except ProcessLookupError:
            return


def take_slot(queue: Path, slots: int) -> IO[bytes] | None:
    """Take one of the ``slots`` slots in ``queue`` (``slot-N.lock`` files) without waiting; None if all are taken.

    A slot is an ``flock`` lock held while the returned handle stays open; the system releases it when its
    holder dies, however it dies.
    """
    for slot in range(slots):
        handle = slot_lock(queue, slot).open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        return handle
    return None


def hand_threads_on(threads: int) -> None:
    """Give the processes this one starts, and the libraries it loads from now on, ``threads`` threads each
    (their environment variables: :func:`~fairgen_core.config.thread_env`)."""
    os.environ.update(thread_env(threads))
