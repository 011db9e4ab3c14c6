"""Background training jobs: real worker processes on German (tiny trainings), stop, crash, queue, uploads."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from fairgen_core.cli import main as cli_main
from fairgen_core.config import MAX_JOBS_ENV, GeneratorConfig
from fairgen_core.data.sources import DataSource, open_data
from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute
from fairgen_core.errors import FairGenError, JobError, RunFolderError, SpecError
from fairgen_core.generator import FairGenerator
from fairgen_core.runs import jobs, worker
from fairgen_core.runs.jobs import TrainingJob, import_checkpoint, list_runs, start_training
from fairgen_core.runs.process import JobState
from fairgen_core.runs.store import RunDir, frame_hash

pytestmark = pytest.mark.slow
QUICK = GeneratorConfig(epochs=2, device="cpu", seed=1)
LONG = GeneratorConfig(epochs=300, patience=0, device="cpu", seed=1)  # minutes: always stopped by the test


@pytest.fixture(autouse=True)
def one_thread_workers(monkeypatch) -> None:
    """Workers inherit the environment: one OpenMP thread each avoids spin contention on a busy CI machine."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="module")
def german() -> DataSource:
    return open_data("german")




def wait_for(condition: Callable[[], bool], timeout: float = 90.0) -> float:
    """Poll until ``condition()``; returns the seconds it took."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "timed out"
        time.sleep(0.05)
    return time.monotonic() - start


def process_state(pid: int) -> str | None:
    """The state letter of process ``pid`` (``Z``: a zombie its parent did not reap), None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except FileNotFoundError:
        return None


def start(started: list[TrainingJob], root: Path, source: DataSource, config: GeneratorConfig,
          **kwargs) -> TrainingJob:
    job = start_training(root, source, source.default_spec or kwargs.pop("spec"), source.schema, config,
                         max_jobs=kwargs.pop("max_jobs", 4), **kwargs)
    started.append(job)
    return job


def test_job_runs_to_the_end_with_progress_and_a_loadable_model(german, started, tmp_path) -> None:
    job = start(started, tmp_path, german, QUICK, name="german quick")
    assert job.path.parent == tmp_path and job.path.name.endswith("-german-quick")
    assert job.status().state is JobState.QUEUED and job.is_active
    wait_for(lambda: not job.is_active)
    status = job.status()
    assert status.state is JobState.FINISHED, status.message
    assert status.message.startswith("completed after 2 epoch(s)")
    assert status.started is not None and status.created <= status.started <= status.updated
    assert [p["epoch"] for p in job.progress()] == [1, 2]
    assert all(len(p["step_losses"]["generator"]) > 0 for p in job.progress())
    model = FairGenerator.load(job.model_path, device="cpu")
    assert model.spec == german.default_spec and len(model.history) == 2
    manifest = RunDir(job.path).read_manifest()
    assert manifest.data == "german" and manifest.data_file is None
    assert manifest.data_sha256 == frame_hash(german.frame) and manifest.config == QUICK
    assert "completed after 2 epoch(s)" in (job.path / "worker.log").read_text()
    [listed] = list_runs(tmp_path)
    assert listed.job.path == job.path and listed.name == "german quick" and listed.status.state is JobState.FINISHED


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_a_finished_worker_is_reaped_not_left_a_zombie(german, started, tmp_path) -> None:
    job = start(started, tmp_path, german, replace(QUICK, epochs=1), name="reaped")
    wait_for(lambda: not job.is_active)
    assert job.status().state is JobState.FINISHED
    pid = job.status().pid
    wait_for(lambda: process_state(pid) is None, timeout=10)  # not a <defunct> child of this process


def test_stop_ends_a_run_within_seconds_and_keeps_its_checkpoint(german, started, tmp_path) -> None:
    job = start(started, tmp_path, german, LONG, name="long")
    wait_for(lambda: len(job.progress()) >= 2)
    asked = time.monotonic()
    status = job.stop(timeout=10)
    assert time.monotonic() - asked < 3
    assert status.state is JobState.STOPPED, status.message
    assert "stopped on request after" in status.message
    assert job.progress()[-1]["stopped"] == "cancelled"
    assert FairGenerator.load(job.model_path, device="cpu").history


def test_a_killed_worker_is_reported_failed_not_running(german, started, tmp_path) -> None:
    job = start(started, tmp_path, german, LONG, name="doomed")
    wait_for(lambda: job.status().state is JobState.RUNNING and len(job.progress()) >= 1)
    os.kill(job.status().pid, signal.SIGKILL)
    wait_for(lambda: not job.is_active, timeout=5)
    status = job.status()
    assert status.state is JobState.FAILED
    assert "the training process ended unexpectedly (killed by signal 9)" in status.message
    assert FairGenerator.load(job.model_path, device="cpu")  # the last good checkpoint stays


def test_a_silent_or_vanished_worker_is_failed(tmp_path) -> None:
    (tmp_path / "job.json").write_text("{}")
    now = time.time()
    jobs.write_status(tmp_path, jobs.JobStatus(JobState.RUNNING, os.getpid(), now, now, now, now - 3600))
    assert "no heartbeat for 3600 s" in TrainingJob(tmp_path).status().message
    jobs.write_status(tmp_path, jobs.JobStatus(JobState.RUNNING, 2**22 + 12345, now, now, now, now))
    status = TrainingJob(tmp_path).status()
    assert status.state is JobState.FAILED and "ended unexpectedly" in status.message


def test_upload_job_reads_the_same_rows_and_quality_works_on_its_folder(german, started, tmp_path, capsys) -> None:
    content = german.frame.to_csv(index=False, sep=";").encode()
    upload = open_data(content, name="my credit.csv")
    spec = german.default_spec
    job = start(started, tmp_path, upload, QUICK, spec=spec, name="my credit.csv", source_bytes=content)
    wait_for(lambda: not job.is_active)
    assert job.status().state is JobState.FINISHED, job.status().message
    assert (job.path / "data.csv").read_bytes() == content
    manifest = RunDir(job.path).read_manifest()
    assert manifest.data_sha256 == frame_hash(upload.frame)
    assert manifest.data_file == str((job.path / "data.csv").resolve())
    assert cli_main(["quality", str(job.path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fid"] > 0


def test_worker_errors_end_as_failed_with_the_message(german, started, tmp_path) -> None:
    other = german.frame.head(900).to_csv(index=False).encode()  # not the rows the page showed
    upload = open_data(german.frame.to_csv(index=False).encode(), name="credit.csv")
    job = start(started, tmp_path, upload, QUICK, spec=german.default_spec, source_bytes=other)
    wait_for(lambda: not job.is_active)
    status = job.status()
    assert status.state is JobState.FAILED
    assert "differs from 'credit.csv' as it was when the job started" in status.message
    assert "Traceback" in (job.path / "worker.log").read_text()


def test_queue_limit_makes_the_second_job_wait_for_the_first(german, started, tmp_path) -> None:
    first = start(started, tmp_path, german, LONG, name="first", max_jobs=1)
    second = start(started, tmp_path, german, QUICK, name="second", max_jobs=1)
    wait_for(lambda: len(first.progress()) >= 1)
    time.sleep(1.0)
    assert second.status().state is JobState.QUEUED and second.status().pid is not None
    assert second.status().message == "waiting for a training slot"
    first.stop(timeout=10)
    wait_for(lambda: not second.is_active)
    assert second.status().state is JobState.FINISHED
    assert second.status().started >= first.status().updated - 0.5
    assert [run.name for run in list_runs(tmp_path)] == ["second", "first"]


def test_stop_while_queued(german, started, tmp_path) -> None:
    first = start(started, tmp_path, german, LONG, name="first", max_jobs=1)
    second = start(started, tmp_path, german, LONG, name="second", max_jobs=1)
    wait_for(lambda: first.status().state is JobState.RUNNING and second.status().pid is not None)
    status = second.stop(timeout=10)
    assert status.state is JobState.STOPPED and "while waiting for a training slot" in status.message
    assert first.is_active


def test_bad_inputs_raise_clear_errors(german, tmp_path, monkeypatch, capsys) -> None:
    with pytest.raises(RunFolderError, match="is not a FairGen run folder"):
        TrainingJob(tmp_path / "nothing")
    assert worker.main([str(tmp_path)]) == 2
    assert "is not a FairGen training job (no job.json)" in capsys.readouterr().err
    (tmp_path / "job.json").write_text('{"format": 1, "name": "x"}')
    with pytest.raises(RunFolderError, match=r"job.json' is damaged \('data'\)"):
        jobs.read_job(tmp_path)
    bad_spec = DatasetSpec("no-such-column", ("good",), (SensitiveAttribute("sex", ("male",)),))
    with pytest.raises(SpecError):
        start_training(tmp_path / "runs", german, bad_spec, german.schema, QUICK)
    upload = open_data(b"a,b,y\n1,x,0\n2,y,1\n3,x,1\n4,y,0\n", name="tiny.csv")
    with pytest.raises(JobError, match="pass the uploaded file's bytes"):
        start_training(tmp_path / "runs", upload, DatasetSpec("y", (1,), (SensitiveAttribute("b", ("x",)),)),
                       upload.schema, QUICK)
    monkeypatch.setenv(MAX_JOBS_ENV, "zero")
    with pytest.raises(FairGenError, match="FAIRGEN_MAX_JOBS must be a whole number"):
        start_training(tmp_path / "runs", german, german.default_spec, german.schema, QUICK)
    assert not (tmp_path / "runs").exists()  # nothing was started


def test_import_checkpoint_checks_the_spec(german, started, tmp_path) -> None:
    trained = start(started, tmp_path / "a", german, QUICK, name="trained")
    wait_for(lambda: not trained.is_active)
    checkpoint = trained.model_path.read_bytes()
    with pytest.raises(FairGenError, match="is not a readable FairGen checkpoint"):
        import_checkpoint(tmp_path / "b", b"PK\x03\x04 not a checkpoint", german, german.default_spec, german.schema,
                          name="junk.pt")
    by_age = DatasetSpec("credit", german.default_spec.favourable, (SensitiveAttribute("age", threshold=25.0),))
    with pytest.raises(RunFolderError, match=r"trained for label 'credit'.*sex ∈ \{male\}.*uses .*age ≥ 25"):
        import_checkpoint(tmp_path / "b", checkpoint, german, by_age, german.schema, name="model.pt")
    assert not (tmp_path / "b").exists()  # no half-made run folder is left
    job = import_checkpoint(tmp_path / "b", checkpoint, german, german.default_spec, german.schema, name="model.pt")
    assert job.status().state is JobState.FINISHED and [p["epoch"] for p in job.progress()] == [1, 2]
    assert RunDir(job.path).read_manifest().split.seed == QUICK.seed
    assert FairGenerator.load(job.model_path, device="cpu").spec == german.default_spec
