"""The training worker: ``python -m fairgen_core.runs.worker RUN_DIR``.

Started by :func:`fairgen_core.runs.jobs.start_training` in its own session. It reads ``job.json``, waits for a
training slot (``queued``), re-creates the exact table the job was started on (checking its hash), writes
``manifest.json``, trains (on its share of the CPU cores, ``$FAIRGEN_THREADS``) with a progress line per epoch
in ``progress.jsonl`` and a checkpoint in ``model.pt``, and keeps ``status.json`` current, with a heartbeat every
few seconds. A ``STOP`` file or SIGTERM stops training within one batch (the best model so far is kept); any
error ends the job as ``failed`` with its message. It never imports Streamlit.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from fairgen_core.config import ray_address
from fairgen_core.data.io import ReadLimits
from fairgen_core.data.sources import DataSource, open_data
from fairgen_core.data.splits import default_split
from fairgen_core.devices import apply_thread_budget, resolve_device
from fairgen_core.errors import FairGenError, RunFolderError
from fairgen_core.generator import EpochReport, FairGenerator, fit_generator
from fairgen_core.progress import ProgressBar
from fairgen_core.runs.executor import ExecutorConfig, run_one
from fairgen_core.runs.jobs import (
    HEARTBEAT_S,
    WORKER_MODULE,
    JobDescription,
    JobStatus,
    TrainingJob,
    join_queue,
    manifest_data,
    read_job,
    read_status,
    write_status,
)
from fairgen_core.runs.layout import DATA, STOP
from fairgen_core.runs.process import JobState, take_slot
from fairgen_core.runs.store import RunDir, frame_hash, new_manifest

POLL_S = 0.25


class _Status:
    """``status.json`` as this worker sees it; a background thread keeps the heartbeat fresh."""

    def __init__(self, run_dir: Path, created: float) -> None:
        now = time.time()
        self.run_dir = run_dir
        self._lock = threading.Lock()
        self._status = JobStatus(JobState.QUEUED, os.getpid(), created, None, now, now, "waiting for a training slot")
        self._done = threading.Event()
        write_status(run_dir, self._status)

    def update(self, state: JobState, message: str | None, **changes: float) -> None:
        """Record a new state (and message), with a fresh heartbeat."""
        with self._lock:
            now = time.time()
            self._status = replace(self._status, state=state, message=message, updated=now, heartbeat=now, **changes)
            write_status(self.run_dir, self._status)

    def beat(self) -> None:
        """Refresh the heartbeat while the job is active."""
        with self._lock:
            if self._status.state.is_active:
                self._status = replace(self._status, heartbeat=time.time())
                write_status(self.run_dir, self._status)

    @contextmanager
    def heartbeat(self) -> Iterator[None]:
        """Beat every ``HEARTBEAT_S`` seconds while the block runs."""
        def loop() -> None:
            while not self._done.wait(HEARTBEAT_S):
                self.beat()

        thread = threading.Thread(target=loop, name="fairgen-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._done.set()
            thread.join()


class _StopFlag:
    """True once ``RUN_DIR/STOP`` exists or SIGTERM arrived (polled before every batch).

    SIGTERM also writes the STOP file, which a training running as a Ray task polls.
    """

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / STOP
        self._signalled = threading.Event()
        signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, *_: object) -> None:
        self._signalled.set()
        with suppress(OSError):  # the run folder is gone: nothing to stop there
            self.path.touch()

    def __call__(self) -> bool:
        return self._signalled.is_set() or self.path.exists()


@contextmanager
def training_slot(run_dir: Path, job: JobDescription, created: float, should_stop: _StopFlag) -> Iterator[bool]:
    """Hold one of the ``job.max_jobs`` slots of its queue while the block runs; wait in line for it.

    Jobs take slots in the order they were submitted: a worker tries for a slot only once no active job
    submitted before it is still waiting (tickets of jobs that ended or died are dropped). Slots are
    ``flock`` locks, which the system releases when their holder dies, however it dies.

    Yields
    ------
    bool
        True with a slot held; False if a stop was asked for while waiting.
    """
    ticket = join_queue(run_dir, job, created)  # already in line, unless the worker was started by hand
    held: IO[bytes] | None = None
    try:
        while not should_stop():
            if _first_in_line(ticket) and (held := take_slot(ticket.parent, job.max_jobs)) is not None:
                break
            time.sleep(POLL_S)
        ticket.unlink(missing_ok=True)
        yield held is not None
    finally:
        ticket.unlink(missing_ok=True)
        if held is not None:
            held.close()


def _first_in_line(ticket: Path) -> bool:
    for waiting in sorted(ticket.parent.glob("*.wait")):
        if waiting == ticket:
            return True
        try:
            ahead = TrainingJob(waiting.read_text(encoding="utf-8"))
            if ahead.is_active:
                return False
        except (OSError, FairGenError):
            pass  # its run folder is gone
        waiting.unlink(missing_ok=True)  # that job ended or died without a slot
    return False


def load_table(run_dir: Path, job: JobDescription) -> DataSource:
    """Re-create the table the job was started on (built-in by name, upload from ``data.csv``).

    Raises
    ------
    FairGenError
        If the data cannot be read or differ from the table the job was started on.
    """
    copy = run_dir / DATA
    if job.data is not None:
        source = open_data(job.data, file=copy if copy.exists() else None)
    else:
        if not copy.is_file():
            raise RunFolderError(f"the uploaded table is missing from the run folder ({copy}): start the training "
                                 "again with the table's bytes.")
        raw = copy.read_bytes()
        source = open_data(raw, name=job.data_name, limits=ReadLimits(max_bytes=max(len(raw), ReadLimits().max_bytes)))
    if frame_hash(source.frame) != job.data_sha256:
        raise RunFolderError(f"the table read by the training process differs from '{job.data_name}' as it was "
                             "when the job started: start the training again.")
    return source


def train(run_dir: Path, job: JobDescription, should_stop: Callable[[], bool],
          beat: Callable[[], None]) -> FairGenerator:
    """Train as ``fit`` does, writing the manifest, the progress log and the checkpoint into ``run_dir``.

    ``should_stop`` is polled before every batch, ``beat`` called after every epoch (the status's heartbeat).
    """
    device = resolve_device(job.config.device)
    threads = apply_thread_budget()
    source = load_table(run_dir, job)
    schema = source.schema.with_kinds(job.kinds)
    split = default_split(source.frame, job.spec, seed=job.config.seed)
    run = RunDir(run_dir)
    data, data_file = manifest_data(run_dir, job)
    run.write_manifest(new_manifest(data, data_file, source.frame, job.spec, job.config, split))
    bar = ProgressBar(sys.stdout)

    def report(epoch: EpochReport) -> None:
        run.append_progress(epoch)
        beat()
        bar.update(epoch)

    print(f"training '{job.name}' on {len(split.train):,} rows ({device}, {threads} CPU thread(s))", flush=True)
    # The job's kinds were settled on the Data page, which sets kind leak on the leaking columns the user did not
    # keep: they decide, rather than the leaks found again here.
    return fit_generator(source.frame, job.spec, schema=schema, config=job.config, split=split, callback=report,
                         should_stop=should_stop, checkpoint_path=run.model_path, exclude_leaks=False)


def _train_here_or_on_ray(run_dir: Path, job: JobDescription, should_stop: _StopFlag,
                          status: _Status) -> list[dict[str, Any]]:
    """Train in this process, or as a Ray task when ``$FAIRGEN_RAY_ADDRESS`` names a cluster; the model's history.

    On Ray this process keeps the slot and the heartbeat; the task, on a node that sees the run folder, writes the
    progress log and the checkpoint there and stops on the STOP file (which SIGTERM here writes too).
    """
    address = ray_address()
    if address is None:
        return train(run_dir, job, should_stop, status.beat).history
    return run_one(ExecutorConfig(ray=address), _train_task, run_dir, gpu=job.config.device != "cpu")


def _train_task(_: None, run_dir: Path) -> list[dict[str, Any]]:
    """The Ray task of a training job: :func:`train`, stopped by the STOP file; the model's history."""
    return train(run_dir, read_job(run_dir), (run_dir / STOP).exists, lambda: None).history


def _outcome(history: list[dict[str, Any]], run_dir: Path) -> tuple[JobState, str]:
    last = history[-1] if history else {}
    epochs, best = last.get("epoch", 0), last.get("best_fid")
    fid = f", best validation FID {best:.3f}" if best is not None else ""
    if last.get("stopped") in ("completed", "early-stopping"):
        how = "stopped early (no validation improvement)" if last["stopped"] == "early-stopping" else "completed"
        return JobState.FINISHED, f"{how} after {epochs} epoch(s){fid}."
    if RunDir(run_dir).model_path.is_file():
        return JobState.STOPPED, f"stopped on request after {epochs} epoch(s){fid}; the best model so far is kept."
    return JobState.STOPPED, "stopped on request before the first epoch ended; no model was saved."


def run_job(run_dir: str | Path) -> int:
    """Run the job in ``run_dir`` to its end; returns the process exit status (0 unless it failed).

    Raises
    ------
    FairGenError
        If ``run_dir`` holds no readable job description (nothing is written then).
    """
    run_dir = Path(run_dir)
    job = read_job(run_dir)
    submitted = read_status(run_dir)
    created = submitted.created if submitted is not None else time.time()
    status = _Status(run_dir, created)
    should_stop = _StopFlag(run_dir)
    with status.heartbeat():
        try:
            with training_slot(run_dir, job, created, should_stop) as got_slot:
                if not got_slot:
                    status.update(JobState.STOPPED, "stopped on request while waiting for a training slot.")
                    return 0
                status.update(JobState.RUNNING, None, started=time.time())
                history = _train_here_or_on_ray(run_dir, job, should_stop, status)
        except Exception as exc:  # the job's end, not a crash: every error becomes its failure message
            traceback.print_exc()
            message = str(exc) if isinstance(exc, FairGenError) else f"{type(exc).__name__}: {exc}"
            status.update(JobState.FAILED, message)
            return 1
        state, message = _outcome(history, run_dir)
        status.update(state, message)
    print(message, flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; exit status 2 (with the reason on stderr) when the run folder is not a job."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print(f"usage: python -m {WORKER_MODULE} RUN_DIR", file=sys.stderr)
        return 2
    try:
        return run_job(args[0])
    except FairGenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
