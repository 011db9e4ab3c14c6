"""The experiment runner on a real one-node Ray cluster: the local backend's results, resuming, failures, Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from fairgen_core.cli import main
from fairgen_core.experiment import CellDone, ExperimentConfig, run_experiment
from fairgen_core.runs.executor import ExecutorConfig
from tests.cluster.processes import cpus_free, ended, kill_first_cell, require_ray, running_cells, wait_until
from tests.test_experiment import GERMAN, SMALL

ray = require_ray()
pytestmark = pytest.mark.usefixtures("ray_cluster")
ON_RAY = ExecutorConfig(ray="auto")
#: The smallest experiment that still has a generator and a sweep per repetition.
TINY = {"experiment": ExperimentConfig(repetitions=1, ratios=(0.5,), methods=()),
        "generator": replace(SMALL["generator"], epochs=1), "classifier": replace(SMALL["classifier"], max_epochs=2)}


def run(out: Path, cells: list[CellDone] | None = None, executor: ExecutorConfig | None = ON_RAY, **settings):
    return run_experiment(GERMAN.load(), GERMAN.default_spec(), out, data_name="german", executor=executor,
                          progress=None if cells is None else cells.append, **(settings or SMALL))


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> Path:
    """SMALL's experiment (2 repetitions, 2 methods, 3 ratios) on the local backend, one thread per cell as on Ray."""
    out = tmp_path_factory.mktemp("local") / "german"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FAIRGEN_THREADS", "1")
        run(out, executor=None)
    return out


def test_a_ray_run_gives_the_local_results_even_when_a_worker_dies_mid_cell(local_run, tmp_path) -> None:
    killed: list[int] = []
    killer = threading.Thread(target=kill_first_cell, args=(killed,))
    killer.start()
    cells: list[CellDone] = []
    run(tmp_path / "ray", cells, ExecutorConfig(ray="auto", max_retries=1))
    killer.join()
    assert len(killed) == 1  # a worker died mid-cell, and its cell was computed again
    assert not any(cell.failure or cell.cached for cell in cells) and len(cells) == 6
    assert (tmp_path / "ray" / "results.csv").read_bytes() == (local_run / "results.csv").read_bytes()
    manifest = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    assert set(manifest["nodes"].values()) == {ray.get_runtime_context().get_node_id()}
    assert len(manifest["nodes"]) == 6 and manifest["failed"] == {}


def test_a_ray_run_resumes_a_local_one(local_run, tmp_path) -> None:
    out = shutil.copytree(local_run, tmp_path / "resumed")
    (out / "rep1" / "generator" / "sweep.csv").unlink()
    (out / "rep0" / "generator" / "methods.csv").unlink()
    cells: list[CellDone] = []
    run(out, cells)
    assert sorted((c.stage, c.repetition) for c in cells if not c.cached) == [("methods", 0), ("sweep", 1)]
    assert (out / "results.csv").read_bytes() == (local_run / "results.csv").read_bytes()


def test_a_cell_lost_past_its_retries_is_recorded_failed_and_computed_by_the_next_run(tmp_path) -> None:
    killed: list[int] = []
    killer = threading.Thread(target=kill_first_cell, args=(killed,))
    killer.start()
    cells: list[CellDone] = []
    results = run(tmp_path / "out", cells, ExecutorConfig(ray="auto", max_retries=0), **TINY).results
    killer.join()
    assert [(c.stage, c.failure is not None) for c in cells] == [("generator", True), ("sweep", True)]
    assert "lost 1 time(s)" in cells[0].failure and cells[1].failure.startswith("its repetition's generator failed")
    assert results["value"].isna().all() and set(results["method"]) == {"transfer", "no TL"}
    assert results["note"].str.startswith("failed: its repetition's generator failed: its Ray worker").all()
    saved = pd.read_csv(tmp_path / "out" / "results.csv")
    assert saved["note"].tolist() == results["note"].tolist()
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["failed"].keys() == {
        "rep0.generator", "rep0.sweep"}
    again: list[CellDone] = []
    results = run(tmp_path / "out", again, **TINY).results
    assert [(c.stage, c.cached, c.failure) for c in again] == [("generator", False, None), ("sweep", False, None)]
    assert results["value"].notna().any() and not results["note"].str.startswith("failed").any()


def test_ctrl_c_cancels_the_cells_running_on_the_cluster(tmp_path) -> None:
    interrupted: list[int] = []

    def interrupt_when_both_generators_run() -> None:
        deadline = time.monotonic() + 300
        while len(interrupted) < 2 and time.monotonic() < deadline:
            interrupted[:] = running_cells()
            time.sleep(0.1)
        if len(interrupted) >= 2:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C sends to the driver

    interrupter = threading.Thread(target=interrupt_when_both_generators_run, daemon=True)
    interrupter.start()
    long = replace(TINY["generator"], epochs=300, patience=0)  # minutes: still running when interrupted
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "out", **{**TINY, "generator": long,
                                 "experiment": replace(TINY["experiment"], repetitions=2)})
    interrupter.join()
    wait_until(lambda: not running_cells() and cpus_free() and all(ended(pid) for pid in interrupted))
    assert not list((tmp_path / "out").glob("rep*/generator.done"))


def test_the_command_line_runs_an_experiment_on_ray(tmp_path, capsys) -> None:
    assert main(["experiment", "german", "--out", str(tmp_path / "cli"), "--reps", "1", "--ratios", "0.5",
                 "--methods", "none", "--epochs", "1", "--classifier-epochs", "2", "--device", "cpu",
                 "--ray", "auto", "--max-parallel", "1"]) == 0
    err = capsys.readouterr().err
    assert "[1/2] rep 0 generator" in err and "[2/2] rep 0 sweep" in err
    nodes = json.loads((tmp_path / "cli" / "manifest.json").read_text())["nodes"]
    assert set(nodes.values()) == {ray.get_runtime_context().get_node_id()}
