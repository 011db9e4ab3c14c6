"""Background training jobs: one worker process per run folder, a bounded queue, a status that cannot lie.

Training never runs in the caller's process: :func:`start_training` writes what to train into a fresh run
folder and starts ``python -m fairgen_core.runs.worker RUN_DIR`` (see :mod:`fairgen_core.runs.worker`) in its own
session. Besides what :mod:`fairgen_core.runs.store` describes, a job's run folder holds::

    RUN_DIR/
      job.json     what to train: data source and its hash, column kinds, spec, generator config, queue
      data.csv     the original bytes of an uploaded table (or of a built-in's raw file), when there are any
      status.json  queued | running | finished | stopped | failed, worker pid, timestamps, heartbeat, message
      STOP         present once a stop was asked for; the worker stops within one batch
      worker.log   the worker's stdout and stderr

At most ``FAIRGEN_MAX_JOBS`` (default 1) workers train at once per queue folder; a worker started beyond
that reports ``queued`` and waits, first come first served, until a slot is free. A worker that died
without saying so (killed, crashed, its heartbeat stale) is reported as ``failed``, never as running forever.
Workers are started, watched and reaped by :mod:`fairgen_core.runs.process`.
"""

from __future__ import annotations

import json
import re
import signal
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from fairgen_core.config import (
    MAX_ANALYSES_ENV,
    MAX_JOBS_ENV,
    GeneratorConfig,
    slots_from_env,
    thread_budget,
)
from fairgen_core.data.datasets import BUILTIN_DATASETS
from fairgen_core.data.schema import Schema
from fairgen_core.data.sources import DataSource
from fairgen_core.data.spec import DatasetSpec, spec_from_dict, spec_to_dict, validate_spec
from fairgen_core.data.splits import default_split
from fairgen_core.devices import resolve_device
from fairgen_core.errors import FairGenError, JobError, RunFolderError
from fairgen_core.generator.model import FairGenerator
from fairgen_core.runs import layout
from fairgen_core.runs.files import write_json_atomically
from fairgen_core.runs.layout import DATA, JOB, MANIFEST, RUN_MARKERS, STATUS, STOP, WORKER_LOG
from fairgen_core.runs.process import JobState, how_it_ended, launch, launched, process_alive, signal_group
from fairgen_core.runs.store import RunDir, frame_hash, new_manifest

#: The module a training worker runs (``python -m``).
WORKER_MODULE = "fairgen_core.runs.worker"
HEARTBEAT_S = 2.0
STALE_S = 60.0
JOB_FORMAT = 1


@dataclass(frozen=True)
class JobStatus:
    """The content of ``status.json`` (times are Unix seconds).

    Attributes
    ----------
    state : JobState
        Queued, running, finished, stopped or failed.
    pid : int or None
        The worker's process id (None until the worker has started).
    created : float
        When the job was submitted.
    started : float or None
        When training began (None while queued).
    updated : float
        When the state or message last changed.
    heartbeat : float
        Last sign of life of the worker (every few seconds while it is active).
    message : str or None
        Why it failed, how it ended, or what it waits for.
    """

    state: JobState
    pid: int | None
    created: float
    started: float | None
    updated: float
    heartbeat: float
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {**self.__dict__, "state": self.state.value}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> JobStatus:
        """Inverse of :meth:`to_dict`."""
        return cls(JobState(values["state"]), values.get("pid"), values["created"], values.get("started"),
                   values["updated"], values["heartbeat"], values.get("message"))


@dataclass(frozen=True)
class JobDescription:
    """The content of ``job.json``: everything the worker needs to re-create the table and train.

    Attributes
    ----------
    name : str
        Display name of the run.
    data : str or None
        Built-in dataset name; None for an uploaded table (whose bytes are ``RUN_DIR/data.csv``).
    data_name : str
        The table's display name (a built-in's name or the uploaded file's name).
    data_sha256 : str
        :func:`~fairgen_core.runs.store.frame_hash` of the table the job was started on.
    kinds : dict
        Kind of every column (the user's overrides included).
    spec : DatasetSpec
        Label, favourable values and sensitive attributes.
    config : GeneratorConfig
        Hyper-parameters.
    queue_dir : str
        Folder whose slots bound the number of workers training at once.
    max_jobs : int
        Number of slots in ``queue_dir``.
    """

    name: str
    data: str | None
    data_name: str
    data_sha256: str
    kinds: dict[str, str]
    spec: DatasetSpec
    config: GeneratorConfig
    queue_dir: str
    max_jobs: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {**self.__dict__, "format": JOB_FORMAT, "spec": spec_to_dict(self.spec),
                "config": self.config.to_dict()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> JobDescription:
        """Inverse of :meth:`to_dict`."""
        return cls(values["name"], values["data"], values["data_name"], values["data_sha256"], dict(values["kinds"]),
                   spec_from_dict(values["spec"]), GeneratorConfig.from_dict(values["config"]),
                   values["queue_dir"], int(values["max_jobs"]))


def read_job(run_dir: str | Path) -> JobDescription:
    """Read ``RUN_DIR/job.json``.

    Raises
    ------
    FairGenError
        If the folder has no job description or it is damaged.
    """
    path = Path(run_dir) / JOB
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
        if values.get("format") != JOB_FORMAT:
            raise ValueError(f"format {values.get('format')!r}, expected {JOB_FORMAT}")
        return JobDescription.from_dict(values)
    except FileNotFoundError as exc:
        raise RunFolderError(f"'{run_dir}' is not a FairGen training job (no {JOB}): give a run folder that "
                             "`start_training` created.") from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RunFolderError(f"'{path}' is damaged ({exc}): start the training again.") from exc


def write_status(run_dir: str | Path, status: JobStatus) -> None:
    """Replace ``RUN_DIR/status.json`` atomically (readers never see half a file)."""
    write_json_atomically(Path(run_dir) / STATUS, status.to_dict())


def read_status(run_dir: str | Path) -> JobStatus | None:
    """``RUN_DIR/status.json`` as written (no liveness check; see :meth:`TrainingJob.status`), None if absent.

    Raises
    ------
    FairGenError
        If the file is damaged.
    """
    path = Path(run_dir) / STATUS
    try:
        return JobStatus.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (KeyError, TypeError, ValueError) as exc:
        raise RunFolderError(f"'{path}' is damaged ({exc}).") from exc


class TrainingJob:
    """A run folder made by :func:`start_training` or :func:`import_checkpoint` (or by training in the foreground).

    Parameters
    ----------
    path : str or pathlib.Path
        The run folder.

    Raises
    ------
    FairGenError
        If ``path`` holds neither a job description nor a run manifest.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not _is_run_folder(self.path):
            raise RunFolderError(f"'{self.path}' is not a FairGen run folder (no {' or '.join(RUN_MARKERS)}): choose "
                                 "an existing run or start a new one.")

    def __repr__(self) -> str:
        return f"TrainingJob({str(self.path)!r})"

    @property
    def run(self) -> RunDir:
        """The run folder's files (manifest, progress, model)."""
        return RunDir(self.path)

    @property
    def model_path(self) -> Path:
        """Where the checkpoint is (or will be)."""
        return self.run.model_path

    def trained_on(self) -> tuple[str, DatasetSpec]:
        """The name of the table the run is trained on and its spec (from ``job.json``, else the manifest).

        Raises
        ------
        FairGenError
            If the folder's job description or manifest is missing or damaged.
        """
        if (self.path / JOB).is_file():
            job = read_job(self.path)
            return job.data_name, job.spec
        manifest = self.run.read_manifest()
        return manifest.data, manifest.spec

    @property
    def name(self) -> str:
        """The display name given at start (the folder name for runs made by ``fit``)."""
        return read_job(self.path).name if (self.path / JOB).is_file() else self.path.name

    def status(self) -> JobStatus:
        """The job's status; an active job whose worker is gone or silent is reported as ``failed``."""
        status = self._read_status()
        if not status.state.is_active:
            return status
        detail = how_it_ended(self.path, status.pid)
        if detail is not None:
            status = self._read_status()  # it may have written its last words just before exiting
            if not status.state.is_active:
                return status
        elif time.time() - status.heartbeat > STALE_S:
            detail = f"no heartbeat for {time.time() - status.heartbeat:.0f} s"
        else:
            return status
        return replace(status, state=JobState.FAILED, message=f"the training process ended unexpectedly ({detail}); "
                                                              f"see {WORKER_LOG} in the run folder.")

    def _read_status(self) -> JobStatus:
        try:
            status = read_status(self.path)
        except FairGenError as exc:
            now = time.time()
            return JobStatus(JobState.FAILED, None, now, None, now, now, str(exc))
        return status if status is not None else self._status_without_file()

    def _status_without_file(self) -> JobStatus:
        """A run folder trained in the foreground (no training job): finished when it has a model."""
        created = (self.path / MANIFEST).stat().st_mtime if (self.path / MANIFEST).exists() else 0.0
        if self.model_path.is_file():
            return JobStatus(JobState.FINISHED, None, created, created, created, created,
                             "trained in the foreground (no training job)")
        return JobStatus(JobState.FAILED, None, created, None, created, created,
                         f"no {STATUS} and no model: the folder was not made by a training job.")

    @property
    def is_active(self) -> bool:
        """Whether the job is queued or running."""
        return self.status().state.is_active

    def progress(self) -> list[dict[str, Any]]:
        """One record per finished epoch (see :meth:`fairgen_core.runs.store.RunDir.read_progress`)."""
        return self.run.read_progress()

    def request_stop(self) -> None:
        """Ask the worker to stop (it stops within one batch and keeps its best model); returns at once."""
        (self.path / STOP).touch()

    @property
    def stop_requested(self) -> bool:
        """Whether a stop was asked for."""
        return (self.path / STOP).exists()

    def stop(self, timeout: float = 10.0) -> JobStatus:
        """Ask the worker to stop and wait; kill it if it has not stopped within ``timeout`` seconds.

        Returns
        -------
        JobStatus
            The final status (``stopped``, or how it ended if it ended otherwise meanwhile).
        """
        self.request_stop()
        deadline = time.monotonic() + timeout
        while (status := self.status()).state.is_active:
            if time.monotonic() > deadline:
                return self._kill(status, timeout)
            time.sleep(0.05)
        return status

    def _kill(self, status: JobStatus, timeout: float) -> JobStatus:
        if status.pid is not None and process_alive(status.pid):
            signal_group(status.pid, signal.SIGKILL)  # a worker we started leads its session: its children go too
        child = launched(self.path)
        if child is not None:
            child.wait()
        now = time.time()
        final = replace(status, state=JobState.STOPPED, updated=now,
                        message=f"killed: it did not stop within {timeout:g} s; the last checkpoint is kept.")
        write_status(self.path, final)
        return final


@dataclass(frozen=True)
class RunSummary:
    """One line of :func:`list_runs`."""

    job: TrainingJob
    name: str
    status: JobStatus


def list_runs(runs_root: str | Path) -> list[RunSummary]:
    """The run folders directly under ``runs_root``, newest first, with their status."""
    root = Path(runs_root)
    if not root.is_dir():
        return []
    runs = []
    for path in root.iterdir():
        if path.is_dir() and _is_run_folder(path):
            job = TrainingJob(path)
            try:
                name = job.name
            except FairGenError:
                name = path.name
            runs.append(RunSummary(job, name, job.status()))
    return sorted(runs, key=lambda run: (run.status.created, run.job.path.name), reverse=True)


def start_training(
    runs_root: str | Path,
    source: DataSource,
    spec: DatasetSpec,
    schema: Schema,
    config: GeneratorConfig = GeneratorConfig(),
    *,
    name: str | None = None,
    source_bytes: bytes | None = None,
    queue_dir: str | Path | None = None,
    max_jobs: int | None = None,
) -> TrainingJob:
    """Start training the generator in a worker process; returns at once.

    Parameters
    ----------
    runs_root : str or pathlib.Path
        Folder under which a fresh run folder is created.
    source : DataSource
        The table (a built-in from :func:`~fairgen_core.data.sources.open_data`, or an upload read from bytes).
    spec : DatasetSpec
        Label, favourable values and sensitive attributes (checked here: a bad spec raises before anything
        is started).
    schema : Schema
        Column kinds, with the user's overrides.
    config : GeneratorConfig
        Hyper-parameters (a device the machine lacks raises here).
    name : str, optional
        Display name of the run (default: the table's name); the folder name is derived from it.
    source_bytes : bytes, optional
        The bytes the table was read from: required for uploads (``open_data(source_bytes)`` must give
        ``source.frame`` back), optional for built-ins that need a raw file (MEPS). Saved as ``data.csv``.
    queue_dir : str or pathlib.Path, optional
        Folder whose slots bound how many workers train at once (default ``runs_root``); give the same
        folder for every workspace that shares the machine.
    max_jobs : int, optional
        Slots in ``queue_dir`` (default ``$FAIRGEN_MAX_JOBS``, else 1). A job beyond them waits, ``queued``.

    Returns
    -------
    TrainingJob

    Raises
    ------
    FairGenError
        If the spec does not fit the data, the device is unavailable, an upload comes without its bytes,
        or ``max_jobs`` (or ``$FAIRGEN_MAX_ANALYSES``, ``$FAIRGEN_THREADS``) is not a positive number.
    """
    validate_spec(source.frame, schema, spec)
    resolve_device(config.device)
    if _builtin_name(source) is None and source_bytes is None:
        raise JobError(f"'{source.name}' is not a built-in dataset: pass the uploaded file's bytes "
                       "(source_bytes) so that the training process reads the same rows.")
    slots = max_jobs if max_jobs is not None else slots_from_env(MAX_JOBS_ENV)
    if slots < 1:
        raise JobError(f"max_jobs must be at least 1, got {slots}.")
    threads = thread_budget(slots + slots_from_env(MAX_ANALYSES_ENV))  # checks the settings before any folder
    run_dir, description = _new_job(runs_root, source, spec, schema, config, name=name or source.name,
                                    source_bytes=source_bytes, queue_dir=queue_dir or runs_root, max_jobs=slots)
    now = time.time()
    write_status(run_dir, JobStatus(JobState.QUEUED, None, now, None, now, now, "starting the training process"))
    join_queue(run_dir, description, now)
    launch(["-m", WORKER_MODULE, str(run_dir.resolve())], run_dir / WORKER_LOG, append=True, threads=threads,
           owner=run_dir)
    return TrainingJob(run_dir)


def queue_ticket(run_dir: Path, job: JobDescription, created: float) -> Path:
    """The file that holds a job's place in its queue until its worker gets a slot.

    Tickets sort by submission time; each holds its run folder's path. Slots are ``slot-N.lock`` files
    beside them (see :func:`fairgen_core.runs.worker.training_slot`).
    """
    return layout.queue_ticket(Path(job.queue_dir), run_dir.name, created)


def join_queue(run_dir: Path, job: JobDescription, created: float) -> Path:
    """Take the job's place in its queue (unless it holds one already); returns its ticket."""
    ticket = queue_ticket(run_dir, job, created)
    if not ticket.exists():
        ticket.parent.mkdir(parents=True, exist_ok=True)
        ticket.write_text(str(run_dir.resolve()), encoding="utf-8")
    return ticket


def _builtin_name(source: DataSource) -> str | None:
    """The built-in dataset's name, None for any other table."""
    return source.name if source.default_spec is not None and source.name in BUILTIN_DATASETS else None


def _is_run_folder(path: Path) -> bool:
    return any((path / marker).is_file() for marker in RUN_MARKERS)


def _new_job(runs_root: str | Path, source: DataSource, spec: DatasetSpec, schema: Schema, config: GeneratorConfig,
             *, name: str, source_bytes: bytes | None, queue_dir: str | Path, max_jobs: int
             ) -> tuple[Path, JobDescription]:
    """A fresh run folder holding ``job.json`` (and ``data.csv`` when there are bytes): what both kinds of job share."""
    run_dir = _new_run_dir(Path(runs_root), name)
    if source_bytes is not None:
        (run_dir / DATA).write_bytes(source_bytes)
    description = JobDescription(
        name=name, data=_builtin_name(source), data_name=source.name, data_sha256=frame_hash(source.frame),
        kinds={c.name: c.kind.value for c in schema.columns}, spec=spec, config=config,
        queue_dir=str(Path(queue_dir).resolve()), max_jobs=max_jobs,
    )
    (run_dir / JOB).write_text(json.dumps(description.to_dict(), indent=1), encoding="utf-8")
    return run_dir, description


def _new_run_dir(runs_root: Path, name: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:40] or "run"
    stem = f"{datetime.now():%Y%m%d-%H%M%S}-{slug}"
    runs_root.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 1000):
        path = runs_root / (stem if attempt == 1 else f"{stem}-{attempt}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise RunFolderError(f"could not create a new run folder under '{runs_root}': clean up old runs.")


def import_checkpoint(
    runs_root: str | Path,
    checkpoint: bytes,
    source: DataSource,
    spec: DatasetSpec,
    schema: Schema,
    *,
    name: str,
    source_bytes: bytes | None = None,
) -> TrainingJob:
    """Make a finished run folder from an uploaded checkpoint trained for this table and spec.

    The checkpoint is read with ``torch.load(weights_only=True)`` (never unpickled) and must have been
    trained for the same label, favourable values and sensitive attributes, on a table with the columns
    it encodes. The split recorded in the manifest is the default one for the checkpoint's seed.

    Raises
    ------
    FairGenError
        If the file is not a FairGen checkpoint or does not fit the table and spec; no folder is left.
    """
    validate_spec(source.frame, schema, spec)
    with tempfile.TemporaryDirectory() as staging:  # messages name the given file
        staged = Path(staging) / (Path(name).name or "checkpoint.pt")
        staged.write_bytes(checkpoint)
        model = FairGenerator.load(staged, device="cpu")
    check_compatible(model, source.frame, spec, name)
    run_dir, description = _new_job(runs_root, source, spec, schema, model.config, name=name,
                                    source_bytes=source_bytes, queue_dir=runs_root, max_jobs=1)
    run = RunDir(run_dir)
    run.model_path.write_bytes(checkpoint)
    split = default_split(source.frame, spec, seed=model.config.seed)
    data, data_file = manifest_data(run_dir, description)
    run.write_manifest(new_manifest(data, data_file, source.frame, spec, model.config, split))
    run.append_history(model.history)
    now = time.time()
    write_status(run_dir, JobStatus(JobState.FINISHED, None, now, now, now, now, f"loaded from '{name}'"))
    return TrainingJob(run_dir)


def manifest_data(run_dir: Path, job: JobDescription) -> tuple[str, str | None]:
    """The manifest's ``data`` and ``data_file``: the built-in's name, or the upload's file name with the
    saved copy ``RUN_DIR/data.csv`` (which :meth:`~fairgen_core.runs.store.RunDir.open_data` reads back).
    """
    copy = run_dir.resolve() / DATA
    if job.data is not None:
        return job.data, str(copy) if copy.exists() else None
    return job.data_name, str(copy)


def check_compatible(model: FairGenerator, frame: pd.DataFrame, spec: DatasetSpec, name: str) -> None:
    """Check that ``model`` was trained for ``spec`` on a table like ``frame``.

    Raises
    ------
    FairGenError
        Naming what differs (label, favourable values, sensitive attributes, missing columns).
    """
    def describe(s: DatasetSpec) -> str:
        favourable = ", ".join(map(str, s.favourable))
        return f"label '{s.label}' (favourable {favourable}), sensitive {'; '.join(a.describe() for a in s.sensitive)}"

    mine, theirs = spec_to_dict(spec), spec_to_dict(model.spec)
    if any(mine[key] != theirs[key] for key in ("label", "favourable", "sensitive")):
        raise RunFolderError(f"'{name}' was trained for {describe(model.spec)}, but the current dataset uses "
                             f"{describe(spec)}: choose the same label, favourable values and sensitive attributes, "
                             "or use a checkpoint trained for this choice.")
    missing = [column for column in model.encoder.columns if column not in frame.columns]
    if missing:
        raise RunFolderError(f"'{name}' expects column(s) {', '.join(missing[:8])} that the current data lacks: "
                             "use a checkpoint trained on this table.")
