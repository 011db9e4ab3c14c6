"""The dashboard's background work on a real Ray cluster ($FAIRGEN_RAY_ADDRESS): a training started on the Train page
(AppTest) with its live curves and Stop, and an analysis (the ratio sweep) with its progress and results, each
computed by a Ray task."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from fairgen_core.config import RAY_ADDRESS_ENV, RUNS_DIR_ENV
from fairgen_core.runs import layout
from fairgen_core.runs.jobs import TrainingJob
from fairgen_core.runs.process import JobState
from fairgen_core.runs.tasks import start_task, stop_task, task_status
from tests.app.test_train_page import new_app, open_train, start, texts, wait_for
from tests.cluster.processes import cpus_free, require_ray, running_cells, wait_until

ray = require_ray()
pytestmark = pytest.mark.usefixtures("ray_cluster")
#: Ray's prefix of a task's output lines forwarded to the driver (here: the training worker's or task's log).
RAY_TASK_OUTPUT = "(_on_node pid="


@pytest.fixture(scope="module")
def on_ray(ray_cluster) -> Iterator[None]:
    """Point the background processes this module starts at the test's cluster, one OpenMP thread each."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(RAY_ADDRESS_ENV, ray.get_runtime_context().gcs_address)
        patch.setenv("OMP_NUM_THREADS", "1")
        yield


@dataclass(frozen=True)
class Seen:
    """What the Train page showed of a long training on Ray, stopped with its Stop button."""

    job: TrainingJob
    on_a_ray_worker: bool
    charts_while_running: list[str]
    text_while_running: str
    text_after_stop: str


@pytest.fixture(scope="module")
def stopped_job(on_ray, tmp_path_factory) -> Seen:
    """A long training started on the Train page (AppTest), watched for two epochs, then stopped with Stop."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(RUNS_DIR_ENV, str(tmp_path_factory.mktemp("runs")))
        at = open_train(new_app())
        job = start(at, epochs=300, patience=0)
        try:
            wait_for(lambda: len(job.progress()) >= 2, timeout=300)
            on_a_ray_worker = bool(running_cells())
            at.run()
            charts, running = [chart.key for chart in at.get("plotly_chart")], texts(at)
            at.button(key="train.stop").click().run()
            wait_for(lambda: not job.is_active, timeout=60)
            at.run()
        finally:
            if job.is_active:
                job.stop(timeout=30)
    return Seen(job, on_a_ray_worker, charts, running, texts(at))


def test_a_training_on_ray_shows_live_curves_on_the_train_page_and_stops_on_stop(stopped_job) -> None:
    seen = stopped_job
    assert seen.on_a_ray_worker  # the epochs came from a Ray task, not from the local worker process
    assert RAY_TASK_OUTPUT in (seen.job.path / layout.WORKER_LOG).read_text()
    assert "Running" in seen.text_while_running
    assert {"train.loss_epochs", "train.fid"} <= set(seen.charts_while_running)
    assert seen.job.status().state is JobState.STOPPED
    assert ":material/stop_circle: Stopped" in seen.text_after_stop
    assert "the best model so far is kept" in seen.text_after_stop
    assert seen.job.progress()[-1]["stopped"] == "cancelled"  # the task saw the STOP file within a batch
    wait_until(lambda: not running_cells() and cpus_free())


def test_an_analysis_on_ray_writes_its_progress_and_table_into_the_run(stopped_job) -> None:
    job = stopped_job.job
    ray_workers_seen: set[int] = set()

    def finished() -> bool:
        ray_workers_seen.update(running_cells())
        return not task_status(job.path, "sweep").is_active

    start_task(job.path, "sweep", ["--ratios", "0.5", "--epochs", "2", "--device", "cpu"])
    try:
        wait_until(finished, timeout=300)
    finally:
        stop_task(job.path, "sweep")
    status = task_status(job.path, "sweep")
    assert status.state is JobState.FINISHED, status.message
    assert status.done == status.total > 0
    assert (job.path / layout.SWEEP).exists()
    assert ray_workers_seen  # the analysis computed in a worker of the test's Ray cluster
