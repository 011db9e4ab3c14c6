"""Background analyses (sweep, comparison): a bounded queue of analysis slots, progress in cells with a measured
time left on the pages, and no finished process left behind as a zombie."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.background import about, progress_text
from fairgen_core.config import MAX_ANALYSES_ENV
from fairgen_core.runs.layout import ANALYSIS_QUEUE
from fairgen_core.runs.process import JobState, take_slot
from fairgen_core.runs.tasks import TaskStatus, start_task, stop_task, task_status
from tests.app.conftest import fresh_app, open_run_page
from tests.test_jobs import process_state

CLASSIFIER, COMPARE = "../pages/classifier.py", "../pages/compare.py"
TINY_SWEEP = ["--ratios", "0,1", "--reps", "1", "--epochs", "1"]  # 4 cells: 2 ratios, no TL, down-sampled


@pytest.fixture
def run(german_run_dir: Path, tmp_path: Path, monkeypatch) -> Path:
    """A private copy of the trained German run; task processes inherit one OpenMP thread."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    copy = tmp_path / "workspace" / "german"
    shutil.copytree(german_run_dir, copy)
    return copy


def wait_for(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "timed out"
        time.sleep(0.1)


def pretend(run: Path, name: str, progress: dict) -> None:
    """Make ``run`` look as if analysis ``name`` were under way in this (live) process, at ``progress``."""
    (run / f"{name}.task.json").write_text(json.dumps({"pid": os.getpid(), "started": time.time() - 60,
                                                       "options": []}))
    (run / f"{name}.progress.json").write_text(json.dumps(progress))


def texts(at: AppTest) -> str:
    return "\n".join(m.value for m in [*at.markdown, *at.caption, *at.info, *at.warning, *at.error])


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_an_analysis_beyond_the_slots_waits_queued_then_counts_its_cells(run: Path, tmp_path: Path) -> None:
    queue = tmp_path / ANALYSIS_QUEUE
    queue.mkdir()
    busy = take_slot(queue, 1)  # another analysis holds the server's only slot
    assert busy is not None
    start_task(run, "sweep", TINY_SWEEP, queue_dir=tmp_path, max_analyses=1)
    wait_for(lambda: task_status(run, "sweep").state == "queued", timeout=60)
    time.sleep(1.0)
    status = task_status(run, "sweep")
    assert status.state == "queued" and status.is_active and MAX_ANALYSES_ENV in status.message
    start_task(run, "compare", ["--methods", "baseline", "--reps", "1", "--epochs", "1"], queue_dir=tmp_path,
               max_analyses=1)
    wait_for(lambda: task_status(run, "compare").state == "queued", timeout=60)
    stop_task(run, "compare")  # a queued analysis can be stopped before it starts
    wait_for(lambda: not task_status(run, "compare").is_active, timeout=10)
    assert task_status(run, "compare").state == "stopped" and not (run / "methods.csv").exists()
    busy.close()  # the slot frees: the queued sweep starts by itself
    wait_for(lambda: not task_status(run, "sweep").is_active)
    status = task_status(run, "sweep")
    assert status.state == "finished", status.message
    assert (status.done, status.total) == (4, 4) and status.seconds_per_cell > 0 and status.eta_s is None
    log = (run / "sweep.log").read_text()
    assert "[1/4] transfer at ratio 0, repetition 1 of 1" in log and "[4/4] down-sampled TL" in log
    pid = json.loads((run / "sweep.task.json").read_text())["pid"]
    wait_for(lambda: process_state(pid) is None, timeout=10)  # reaped, not a <defunct> child of this process
    at = open_run_page(fresh_app(), CLASSIFIER, run)
    assert "Measured last time on this run: 4 cells in " in texts(at)


def test_a_queued_analysis_says_so_on_the_page(run: Path) -> None:
    pretend(run, "compare", {"state": "queued", "slots": 1})
    at = open_run_page(fresh_app(), COMPARE, run)
    assert "Queued, waiting for a free analysis slot: at most 1 run at once on this server" in texts(at)
    assert at.button(key="compare.start").disabled and not at.button(key="compare.stop").disabled


def test_a_running_sweep_shows_cells_done_and_the_measured_time_left(run: Path) -> None:
    now = time.time()
    pretend(run, "sweep", {"state": "running", "done": 3, "total": 13, "last": "transfer at ratio 0.2, repetition 1 "
                           "of 1", "started": now - 30, "updated": now})
    at = open_run_page(fresh_app(), CLASSIFIER, run)
    [bar] = at.get("progress")
    assert bar.value == 23  # percent
    assert bar.text == ("3 of 13 cells done (last: transfer at ratio 0.2, repetition 1 of 1) · about 2 min left at "
                        "10 s per cell")
    assert "Per repetition, 13 cells: 11 ratios, 'no TL' and the down-sampled ablation" in texts(at)
    assert "about a minute per repetition" not in texts(at)  # no fixed guess of the time any more


def test_progress_texts_and_durations_in_words() -> None:
    assert [about(seconds) for seconds in (4.2, 59.4, 26 * 70.0, 3_900)] == ["4 s", "59 s", "30 min", "1 h 05 min"]
    assert progress_text(TaskStatus(JobState.RUNNING, elapsed_s=4.0)) == (
        "Starting: reading the run and its model (4 s so far)…")
    assert progress_text(TaskStatus(JobState.RUNNING, done=0, total=26, last="starting")) == (
        "0 of 26 cells done · measuring the time per cell…")
