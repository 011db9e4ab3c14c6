"""Background analyses (sweep, comparison): a bounded queue of analysis slots, progress in cells with a measured
time left on the pages, the finished cells' results drawn while the rest run (and kept when stopped), and no finished
process left behind as a zombie."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.background import about, partial_label, progress_text
from fairgen_core.config import MAX_ANALYSES_ENV
from fairgen_core.results.table import (
    BASELINE,
    COLUMNS,
    DOWNSAMPLED,
    NO_TL,
    SWEEP_METRICS,
    TABLE_METRICS,
    TRANSFER,
    TRANSFER_CHOSEN_RATIO,
    TRANSFER_THRESHOLDS,
)
from fairgen_core.runs.layout import ANALYSIS_QUEUE, task_files
from fairgen_core.runs.process import JobState, take_slot
from fairgen_core.runs.tasks import PartialTable, TaskStatus, read_partial, start_task, stop_task, task_status
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
                           "of 1", "started": now - 30, "updated": now, "seconds_per_cell": 10.0, "eta_s": 100.0})
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


def cell(method: str, ratio: float, repetition: int, value: float) -> pd.DataFrame:
    """The tidy rows of one finished cell, every metric ``value``."""
    return pd.DataFrame([{"method": method, "ratio": ratio, "repetition": repetition, "seed": repetition,
                          "selection": "fair", "metric": metric, "value": value, "note": "epoch=3"}
                         for metric in TABLE_METRICS], columns=list(COLUMNS))


def running_at(run: Path, name: str, done: int, total: int) -> None:
    """``run`` as if analysis ``name`` had finished ``done`` of ``total`` cells in 10 s each."""
    now = time.time()
    pretend(run, name, {"state": "running", "done": done, "total": total, "last": "a cell", "started": now - 10 * done,
                        "updated": now, "seconds_per_cell": 10.0, "eta_s": 10.0 * (total - done)})


def test_a_running_sweep_draws_the_cells_finished_so_far(run: Path) -> None:
    partial = PartialTable(run, "sweep")
    for rows in (cell(TRANSFER, 0.0, 0, 0.6), cell(NO_TL, np.nan, 0, 0.7), cell(TRANSFER, 0.5, 0, 0.8)):
        partial(rows)
    running_at(run, "sweep", 3, 13)
    at = open_run_page(fresh_app(), CLASSIFIER, run)
    [bar] = at.get("progress")
    assert bar.value == 23 and "3 of 13 cells done" in bar.text and "about 2 min left" in bar.text
    assert "**Partial results: 3 of 13 cells · about 2 min left**" in texts(at)
    assert "No trade-off yet" not in texts(at)
    [chart] = at.get("plotly_chart")
    traces = json.loads(chart.proto.spec)["data"]
    ours = [t for t in traces if t.get("name") == "transfer (ours)"]
    assert ours and all(t["x"] == [0.0, 0.5] for t in ours)  # the two finished ratios
    assert any(t.get("name") == NO_TL for t in traces)
    assert not at.get("select_slider")  # the slider comes with the whole table


def test_a_running_comparison_tables_the_methods_finished_so_far(run: Path) -> None:
    partial = PartialTable(run, "compare")
    partial(cell(BASELINE, np.nan, 0, 0.7))
    partial(cell("reweighing", np.nan, 0, 0.65))
    running_at(run, "compare", 2, 16)
    at = open_run_page(fresh_app(), COMPARE, run)
    assert "**Partial results: 2 of 16 cells · about 2 min left**" in texts(at)
    assert len(at.get("progress")) == 1 and len(at.get("plotly_chart")) == 1
    table = at.dataframe[-1].value
    assert list(table.index) == [BASELINE, "reweighing"]
    assert table.loc["reweighing", "Balanced accuracy ↑"] == "0.650"
    assert "No comparison yet" not in texts(at)


def test_before_the_first_cell_the_page_says_results_come_cell_by_cell(run: Path) -> None:
    running_at(run, "sweep", 0, 13)
    at = open_run_page(fresh_app(), CLASSIFIER, run)
    assert "The results appear here cell by cell as they finish." in texts(at)
    assert not at.get("plotly_chart")


def test_partial_labels_say_how_far_it_got() -> None:
    running = TaskStatus(JobState.RUNNING, done=3, total=13, seconds_per_cell=10.0, eta_s=100.0)
    assert partial_label(running, "sweep") == "Partial results: 3 of 13 cells · about 2 min left"
    assert partial_label(TaskStatus(JobState.FAILED, done=5, total=16), "compare") == (
        "Partial results: 5 of 16 cells, the compare failed")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_stopping_a_sweep_midway_keeps_the_cells_it_finished(run: Path, tmp_path: Path) -> None:
    start_task(run, "sweep", ["--ratios", "0:1:0.1", "--reps", "4", "--epochs", "300"], queue_dir=tmp_path,
               max_analyses=1)
    pid = json.loads((run / "sweep.task.json").read_text())["pid"]
    files = task_files(run, "sweep")
    wait_for(lambda: task_status(run, "sweep").done > 0)
    # Hold the task still so that the stop lands mid-sweep whatever the machine's speed; the SIGTERM of the stop
    # path is delivered as it resumes, before it runs another line.
    os.killpg(pid, signal.SIGSTOP)
    try:
        running = task_status(run, "sweep")
        kept = read_partial(run, "sweep")
        stop_task(run, "sweep")
    finally:
        os.killpg(pid, signal.SIGCONT)
    wait_for(lambda: not task_status(run, "sweep").is_active, timeout=30)
    assert 0 < running.done < running.total == 4 * 13 and running.eta_s is not None and running.eta_s > 0
    status = task_status(run, "sweep")
    assert status.state == "stopped" and (status.done, status.total) == (running.done, running.total)
    assert not files.table.exists() and files.partial.exists()
    # the finished cells are kept, whole and readable: a cell's rows are written before it is counted
    after = read_partial(run, "sweep")
    pd.testing.assert_frame_equal(after, kept)
    assert tuple(after.columns) == COLUMNS and not after["value"].isna().any()
    assert after[after["metric"].isin(SWEEP_METRICS)]["value"].between(0, 1).all()
    cells = after[after["method"].isin([TRANSFER, NO_TL, DOWNSAMPLED])]
    per_cell = cells.groupby(["method", "ratio", "repetition"], dropna=False).size()
    assert running.done <= len(per_cell) < running.total and (per_cell == len(TABLE_METRICS)).all()
    assert set(after["method"]) <= {TRANSFER, NO_TL, DOWNSAMPLED, TRANSFER_CHOSEN_RATIO, TRANSFER_THRESHOLDS}
    wait_for(lambda: process_state(pid) is None, timeout=10)
    at = open_run_page(fresh_app(), CLASSIFIER, run)
    assert f"**Partial results: {status.done} of {status.total} cells, the sweep was stopped**" in texts(at)
    assert "The sweep was stopped; start it again to get all the results." in texts(at)
    assert len(at.get("plotly_chart")) == 1
