"""Nothing lost: a run folder holds what its run produced as it produces it, so a session that ends
(a closed tab, a killed worker) can re-attach or re-export, and the CLI reproduces the dashboard's exports.

Re-attaching to a run from a fresh session of the same workspace is tested on the Train page
(``tests/app/test_train_page.py::test_a_started_run_trains_in_the_background_and_shows_its_curves``).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import state
from fairgen_core.cli import main as cli
from fairgen_core.config import GeneratorConfig
from fairgen_core.data.sources import open_data
from fairgen_core.export import csv_bytes
from fairgen_core.generator import FairGenerator
from fairgen_core.runs.jobs import TrainingJob, start_training
from fairgen_core.runs.process import JobState
from fairgen_core.runs.store import RunDir, frame_hash
from tests.app.conftest import APP, fresh_app

pytestmark = pytest.mark.slow
LONG = GeneratorConfig(epochs=300, patience=0, device="cpu", seed=7)  # always killed by the test


def _wait(condition, timeout: float = 90.0) -> None:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "timed out"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory) -> Iterator[Path]:
    """A German run whose worker was SIGKILLed after its second epoch (no chance to clean up)."""
    root = tmp_path_factory.mktemp("runs")
    german = open_data("german")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OMP_NUM_THREADS", "1")  # the worker inherits it
        job = start_training(root, german, german.default_spec, german.schema, LONG, name="interrupted",
                             queue_dir=root / "queue")
    try:
        run = RunDir(job.path)
        _wait(lambda: len(run.read_progress()) >= 2 and run.model_path.is_file())
        os.kill(job.status().pid, signal.SIGKILL)
        _wait(lambda: not job.is_active, timeout=30)
        yield job.path
    finally:
        if job.is_active:
            job.stop(timeout=10)


def test_the_killed_run_is_failed_and_its_record_was_written_as_it_went(killed_run: Path) -> None:
    status = TrainingJob(killed_run).status()
    assert status.state is JobState.FAILED
    run = RunDir(killed_run)
    manifest = run.read_manifest()
    german = open_data("german")
    assert manifest.data == "german" and manifest.data_sha256 == frame_hash(german.frame)
    assert manifest.config == LONG and manifest.split.seed == LONG.seed
    assert manifest.spec == german.default_spec
    assert len(manifest.split.train) + len(manifest.split.val) + len(manifest.split.test) == len(german.frame)
    epochs = [line["epoch"] for line in run.read_progress()]
    assert epochs[:2] == [1, 2]
    model = FairGenerator.load(run.model_path, device="cpu")
    assert model.history[-1]["epoch"] in epochs  # the checkpoint of an epoch that ended
    assert frame_hash(run.open_data().frame) == manifest.data_sha256  # the data can be re-read and checked


def test_cli_sample_reproduces_the_export_pages_csv_byte_for_byte(killed_run: Path, tmp_path: Path) -> None:
    model = FairGenerator.load(RunDir(killed_run).model_path, device="cpu")
    exported = csv_bytes(model.sample(400, seed=3))  # what the Export page offers for 400 rows, seed 3
    for attempt in range(2):
        out = tmp_path / f"sample-{attempt}.csv"
        assert cli(["sample", str(killed_run), "--n", "400", "--seed", "3", "--out", str(out), "--device", "cpu"]) == 0
        assert out.read_bytes() == exported
    rows = pd.read_csv(tmp_path / "sample-0.csv")
    assert rows.groupby(["sex", "credit"]).size().tolist() == [100, 100, 100, 100]


def test_cli_report_rebuilds_the_report_and_metrics_from_the_folder_alone(killed_run: Path, tmp_path: Path) -> None:
    report, metrics = tmp_path / "report.html", tmp_path / "metrics.csv"
    assert cli(["report", str(killed_run), "--out", str(report), "--metrics-csv", str(metrics)]) == 0
    html = report.read_text(encoding="utf-8")
    assert "german" in html and "<html" in html
    table = pd.read_csv(metrics)
    assert {"metric", "value"} <= set(table.columns) and len(table) > 0
    again = tmp_path / "again.csv"
    assert cli(["report", str(killed_run), "--out", str(tmp_path / "again.html"), "--metrics-csv", str(again)]) == 0
    assert again.read_bytes() == metrics.read_bytes()


def test_a_reload_of_the_workspace_finds_the_upload_and_every_choice_again() -> None:
    content = "sex;age;hired\n" + "".join(f"{'F' if i % 3 else 'M'};{20 + i % 40};{'yes' if i % 4 else 'no'}\n"
                                          for i in range(200))
    before = fresh_app()
    before.run()
    before.radio(key="data.origin").set_value("Upload a CSV").run()
    before.file_uploader(key="data.upload").set_value(("people.csv", content.encode(), "text/csv")).run()
    before.selectbox(key="people.csv.label").set_value("hired").run()
    before.multiselect(key="people.csv.hired.favourable").set_value(["no"]).run()
    before.multiselect(key="people.csv.hired.sensitive").set_value(["sex", "age"]).run()
    before.multiselect(key="people.csv.sex.privileged").set_value(["F"]).run()
    before.number_input(key="people.csv.age.t").set_value(30.0).run()
    assert not before.exception and not before.error
    _, spec = before.session_state[state.SPEC_KEY]

    reloaded = AppTest.from_file(APP, default_timeout=60)  # a new browser session on the same URL
    reloaded.query_params[state.WORKSPACE_PARAM] = before.session_state[state.WORKSPACE_KEY]
    reloaded.run()
    assert not reloaded.exception and not reloaded.error
    assert any("Using **people.csv**, uploaded earlier" in caption.value for caption in reloaded.caption)
    assert reloaded.session_state[state.SPEC_KEY] == ("people.csv", spec)
    assert reloaded.session_state[state.UPLOAD_KEY] == content.encode()  # what a training worker would re-read

    stranger = AppTest.from_file(APP, default_timeout=60)  # another workspace sees none of it
    stranger.run()
    assert stranger.session_state[state.SPEC_KEY][0] == "adult"
