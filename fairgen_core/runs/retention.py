"""Retention of old run folders on a shared server: delete by age, then by total size, never an active run.

The dashboard keeps one folder per workspace under the runs base (:func:`~fairgen_core.config.default_runs_base`),
and one run folder per training in it::

    BASE/
      .fairgen-queue/        the training queue's tickets and slots: never touched
      WORKSPACE/RUN/         job.json or manifest.json, status.json, model.pt, progress.jsonl, data.csv, ...
      RUN/                   a run folder directly under the base (``fit --out BASE/RUN``) is pruned too

:func:`prune_runs` follows a :class:`~fairgen_core.config.RetentionPolicy` (read from the environment by
:meth:`~fairgen_core.config.RetentionPolicy.from_env`): it first removes the runs last modified (newest file in
the folder) more than ``max_age_days`` ago, then, while all runs together still take more than ``max_total_gb``,
the least recently modified ones. A run that is training or queued, or in which a sweep or comparison is running,
is never removed; neither is a run modified in the last :data:`RECENT_S` seconds (it may be being written), a
folder that is not a run, or anything reached through a symbolic link.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fairgen_core.config import RetentionPolicy
from fairgen_core.errors import FairGenError
from fairgen_core.runs.layout import RUN_MARKERS, SESSION_FOLDER, TASK_TABLES, TRAINING_QUEUE

RECENT_S = 600.0
DAY_S = 86_400.0
GB = 1e9


@dataclass(frozen=True)
class RemovedRun:
    """A run folder removed (or, in a dry run, to be removed) by :func:`prune_runs`.

    Attributes
    ----------
    path : pathlib.Path
        The run folder.
    reason : {"age", "size"}
        Older than the age bound, or among the least recently modified while the runs took too much space.
    size_bytes : int
        Bytes its files took (freed by removing it).
    modified : float
        Its last modification (Unix seconds): the newest modification time of its files.
    """

    path: Path
    reason: Literal["age", "size"]
    size_bytes: int
    modified: float


@dataclass(frozen=True)
class PruneReport:
    """What :func:`prune_runs` did.

    Attributes
    ----------
    removed : tuple of RemovedRun
        The runs removed, in the order they were removed (all of the age pass, then the size pass).
    kept_active : tuple of pathlib.Path
        Every run found training, queued or running an analysis (never removed).
    bytes_before : int
        Bytes all runs took before pruning.
    bytes_after : int
        Bytes all runs take afterwards (in a dry run: would take).
    dry_run : bool
        Whether nothing was actually removed.
    removed_workspaces : tuple of pathlib.Path
        Workspace folders removed because pruning left them empty.
    errors : tuple of str
        Folders that could not be read or removed, with the reason (the rest of the pruning went on).
    """

    removed: tuple[RemovedRun, ...] = ()
    kept_active: tuple[Path, ...] = ()
    bytes_before: int = 0
    bytes_after: int = 0
    dry_run: bool = False
    removed_workspaces: tuple[Path, ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def freed_bytes(self) -> int:
        """Bytes freed (in a dry run: that would be freed)."""
        return sum(run.size_bytes for run in self.removed)


@dataclass(frozen=True)
class _Run:
    path: Path
    size_bytes: int
    modified: float


def prune_runs(base: str | Path, policy: RetentionPolicy, *, now: float | None = None,
               dry_run: bool = False) -> PruneReport:
    """Remove the old run folders under ``base`` as ``policy`` says.

    Parameters
    ----------
    base : str or pathlib.Path
        The runs base: run folders are ``base/WORKSPACE/RUN`` or ``base/RUN`` (a folder holding ``job.json``
        or ``manifest.json``). A missing base is nothing to prune.
    policy : RetentionPolicy
        The bounds: first every run older than ``max_age_days`` goes, then, while all runs take more than
        ``max_total_gb``, the least recently modified.
    now : float, optional
        The current time in Unix seconds (default :func:`time.time`), for the ages.
    dry_run : bool
        Report what would be removed without removing anything.

    Returns
    -------
    PruneReport
        The runs removed, the active runs kept, the sizes before and after, and what could not be removed.

    Notes
    -----
    Never removed: a run that is active (training or queued with a live worker, or with a sweep or comparison
    running in it), a run modified in the last :data:`RECENT_S` seconds (it may be being created), the queue
    folder ``.fairgen-queue``, folders that are not runs, and anything behind a symbolic link (a symlinked
    workspace or run is skipped, a link inside a removed run is removed without touching its target). Active
    runs count towards the size bound, so it may stay exceeded. Workspace folders that pruning leaves empty are
    removed. Folders that cannot be read or removed are listed in :attr:`PruneReport.errors`.
    """
    now = time.time() if now is None else now
    root = Path(base)
    if not root.is_dir():
        return PruneReport(dry_run=dry_run)
    root = root.resolve()
    errors: list[str] = []
    runs, active = [], []
    for run in _find_runs(root, errors):
        if _is_active(run.path, errors):
            active.append(run.path)
        runs.append(run)
    total = before = sum(run.size_bytes for run in runs)
    candidates = sorted((run for run in runs if run.path not in active and now - run.modified > RECENT_S),
                        key=lambda run: (run.modified, str(run.path)))
    removed: list[RemovedRun] = []
    tried: set[Path] = set()

    def remove(run: _Run, reason: Literal["age", "size"]) -> bool:
        tried.add(run.path)
        if not dry_run and not _remove(run.path, root, errors):
            return False
        removed.append(RemovedRun(run.path, reason, run.size_bytes, run.modified))
        return True

    if policy.max_age_days is not None:
        for run in candidates:
            if now - run.modified > policy.max_age_days * DAY_S and remove(run, "age"):
                total -= run.size_bytes
    if policy.max_total_gb is not None:
        for run in candidates:
            if total <= policy.max_total_gb * GB:
                break
            if run.path not in tried and remove(run, "size"):
                total -= run.size_bytes
    workspaces = [] if dry_run else _remove_emptied_workspaces(root, [run.path for run in removed], errors)
    return PruneReport(tuple(removed), tuple(active), before, total, dry_run, tuple(workspaces), tuple(errors))


def _is_run(path: Path) -> bool:
    return path.name == SESSION_FOLDER or any((path / marker).is_file() for marker in RUN_MARKERS)


def _find_runs(root: Path, errors: list[str]) -> list[_Run]:
    """The run folders ``root/RUN`` and ``root/WORKSPACE/RUN``, symbolic links and the queue folder excluded."""
    runs = []
    for entry in _subfolders(root, errors):
        if _is_run(entry):
            runs.append(entry)
            continue
        runs.extend(run for run in _subfolders(entry, errors) if _is_run(run))
    found = []
    for path in runs:
        try:
            size, modified = _measure(path)
        except OSError as exc:
            errors.append(f"'{path}' could not be read ({exc}); it was kept.")
            continue
        found.append(_Run(path, size, modified))
    return found


def _subfolders(folder: Path, errors: list[str]) -> list[Path]:
    """Real sub-folders of ``folder`` (no symbolic links), the queue folder excluded, sorted by name."""
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        errors.append(f"'{folder}' could not be listed ({exc}); the runs in it were kept.")
        return []
    return [entry for entry in entries
            if entry.name != TRAINING_QUEUE and not entry.is_symlink() and entry.is_dir()]


def _measure(run: Path) -> tuple[int, float]:
    """Total bytes and newest modification time of the files in ``run`` (links counted, never followed).

    A folder without files counts as modified when the folder itself was.
    """
    size, newest = 0, None
    for folder, _, files in os.walk(run, followlinks=False, onerror=_raise):
        for name in files:
            try:
                stat = os.lstat(os.path.join(folder, name))
            except FileNotFoundError:  # replaced meanwhile (status.json is written through a temporary file)
                continue
            size += stat.st_size
            newest = stat.st_mtime if newest is None else max(newest, stat.st_mtime)
    return size, run.lstat().st_mtime if newest is None else newest


def _raise(error: OSError) -> None:
    raise error


def _is_active(run: Path, errors: list[str]) -> bool:
    """Whether a worker trains (or waits to train) in ``run`` or an analysis runs in it; True when unsure."""
    # Imported only when there is a run to look at: jobs loads torch, and the dashboard imports this module for
    # its housekeeping on every page.
    from fairgen_core.runs.jobs import TrainingJob
    from fairgen_core.runs.tasks import task_status

    if run.name == SESSION_FOLDER:
        return False  # nothing runs in it
    try:
        return TrainingJob(run).is_active or any(task_status(run, name).is_active for name in TASK_TABLES)
    except (OSError, FairGenError) as exc:
        errors.append(f"the state of '{run}' could not be read ({exc}); it was kept.")
        return True


def _remove(run: Path, root: Path, errors: list[str]) -> bool:
    """Delete ``run`` (inside ``root``, not a link, still inactive); False, with the reason noted, otherwise."""
    if run.is_symlink() or not run.resolve().is_relative_to(root) or run.resolve() == root:
        errors.append(f"'{run}' is not a run folder inside '{root}'; it was kept.")
        return False
    if _is_active(run, errors):  # it may have been started since it was measured
        return False
    try:
        shutil.rmtree(run)
    except OSError as exc:
        errors.append(f"'{run}' could not be removed ({exc}).")
        return False
    return True


def _remove_emptied_workspaces(root: Path, removed: list[Path], errors: list[str]) -> list[Path]:
    """Remove the workspace folders (``root/WORKSPACE``) that held removed runs and are now empty."""
    gone = []
    for workspace in sorted({path.parent for path in removed if path.parent != root}):
        try:
            if workspace.is_symlink() or any(workspace.iterdir()):
                continue
            workspace.rmdir()  # fails, rather than deletes, if a run was created in it meanwhile
        except FileNotFoundError:
            continue
        except OSError as exc:
            errors.append(f"the emptied workspace folder '{workspace}' could not be removed ({exc}).")
            continue
        gone.append(workspace)
    return gone
