"""AppTest of the Train generator page: settings, a real background job on German, stop, re-attach, checkpoints."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from dashboard import state
from fairgen_core.config import RUNS_DIR_ENV
from fairgen_core.model_audit import RecordedModels, recorded_models
from fairgen_core.runs.jobs import TrainingJob, read_job
from fairgen_core.runs.process import JobState
from tests.app.conftest import APP

TRAIN = "../pages/train.py"  # relative to dashboard/app.py
RUNS_LABEL = "Runs in this workspace (newest first)"


@pytest.fixture
def runs_dir(tmp_path, monkeypatch) -> Iterator[Path]:
    """``$FAIRGEN_RUNS_DIR`` for the test; every job still active at the end is stopped."""
    monkeypatch.setenv(RUNS_DIR_ENV, str(tmp_path))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # workers inherit it: no OpenMP spin contention on a busy machine
    yield tmp_path
    for status_file in tmp_path.glob("*/*/status.json"):
        job = TrainingJob(status_file.parent)
        if job.is_active:
            job.stop(timeout=10)


def new_app(**query: str) -> AppTest:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def open_train(at: AppTest, dataset: str | None = "german") -> AppTest:
    """Choose a built-in on the Data page (None: keep the current choice), then open the Train page."""
    if dataset is not None:
        at.selectbox(key="data.builtin").set_value(dataset).run()
    at.switch_page(TRAIN).run()
    assert not at.exception, at.exception
    return at


def wait_for(condition: Callable[[], bool], timeout: float = 90.0) -> None:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "timed out"
        time.sleep(0.1)


def current_job(at: AppTest) -> TrainingJob:
    return TrainingJob(at.session_state[state.RUN_KEY])


def start(at: AppTest, epochs: int, patience: int = 10) -> TrainingJob:
    at.number_input(key="train.epochs").set_value(epochs)
    at.number_input(key="train.patience").set_value(patience)
    at.radio(key="train.device").set_value("cpu")
    at.button(key="train.start").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return current_job(at)


def load_checkpoint(at: AppTest, name: str, content: bytes) -> None:
    at.file_uploader(key="train.checkpoint").set_value((name, content, "application/octet-stream")).run()
    at.button(key="train.load").click().run()


def texts(at: AppTest) -> str:
    return "\n".join(m.value for m in [*at.markdown, *at.caption, *at.info, *at.warning, *at.error, *at.success])


def test_without_a_dataset_the_page_points_to_the_data_page(runs_dir) -> None:
    at = new_app()
    at.radio(key="data.origin").set_value("Upload a CSV").run()  # no file yet: no dataset chosen
    at.switch_page(TRAIN).run()
    assert not at.exception
    assert "on the **Data** page first" in at.info[0].value
    assert not at.number_input and not at.button
    assert "No run yet" in texts(at)


def test_settings_default_to_the_generator_config(runs_dir) -> None:
    at = open_train(new_app(), "adult")
    assert "**Data:** adult — label `income`, sensitive sex ∈ {Male}" in texts(at)
    assert at.number_input(key="train.epochs").value == 300
    assert at.number_input(key="train.batch_size").value == 2048
    assert at.number_input(key="train.lr").value == pytest.approx(2e-3)
    assert at.number_input(key="train.patience").value == 10
    assert at.number_input(key="train.seed").value == 0
    assert at.selectbox(key="train.adversarial").value == "gan"
    assert at.selectbox(key="train.numeric_encoding").value == "quantile"  # GeneratorConfig's default encoding
    assert at.checkbox(key="train.calibrate").value is True  # sampled rows calibrated to the marginals by default
    assert at.radio(key="train.device").value == "auto"
    assert "CPU (no GPU found)" in texts(at) or "GPU: " in texts(at)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_without_a_gpu_is_an_error_next_to_start(runs_dir) -> None:
    at = open_train(new_app())
    at.radio(key="train.device").set_value("cuda")
    at.button(key="train.start").click().run()
    assert not at.exception
    assert at.error[0].value.startswith("Could not start the training: device 'cuda' was requested")
    assert state.RUN_KEY not in at.session_state and not list(runs_dir.rglob("job.json"))


def test_an_uploaded_table_trains_from_its_original_bytes(runs_dir) -> None:
    at = new_app()
    content = "sex,age,score,hired\n" + "".join(
        f"{'F' if i % 3 else 'M'},{20 + (i // 2) % 40},{(i // 2) * 7 % 50 / 50},{i % 2}\n" for i in range(200))
    at.radio(key="data.origin").set_value("Upload a CSV").run()
    at.file_uploader(key="data.upload").set_value(("people.csv", content.encode(), "text/csv")).run()
    at.multiselect(key="people.csv.hired.sensitive").set_value(["sex"]).run()
    at.switch_page(TRAIN).run()
    assert not at.exception and not at.warning
    at.selectbox(key="train.numeric_encoding").set_value("max-abs")  # the paper's encoding, chosen on the form
    at.checkbox(key="train.calibrate").uncheck()  # and the paper's sampling
    job = start(at, epochs=1)
    assert (job.path / "data.csv").read_bytes() == content.encode()
    assert read_job(job.path).config.encoding.numeric == "max-abs"
    assert read_job(job.path).config.calibrated_sampling is False
    # 'score' was suggested as the user's model's column on the Data page: recorded for the run's report
    assert recorded_models(job.path) == RecordedModels(("score",), scores=True)
    wait_for(lambda: not job.is_active)
    assert job.status().state is JobState.FINISHED, job.status().message
    at.switch_page("../pages/data.py").run()  # the upload is still there after a page switch
    assert not at.exception
    assert at.radio(key="data.origin").value == "Upload a CSV"
    assert "people.csv" in at.markdown[0].value and "200 rows" in at.markdown[0].value


def test_a_started_run_trains_in_the_background_and_shows_its_curves(runs_dir) -> None:
    at = open_train(new_app())
    job = start(at, epochs=2)
    workspace = at.session_state[state.WORKSPACE_KEY]
    assert job.path.parent == runs_dir / workspace
    assert "Queued" in texts(at) or "Running" in texts(at)
    wait_for(lambda: not job.is_active)
    at.run()
    assert not at.exception and not at.error
    assert job.status().state is JobState.FINISHED
    assert ":material/check_circle: Finished" in texts(at) and "completed after 2 epoch(s)" in texts(at)
    charts = [chart.key for chart in at.get("plotly_chart")]
    assert charts == ["train.loss_epochs", "train.loss_steps", "train.fid", "train.translation"]
    assert at.get("progress")[0].value == 100  # percent
    assert at.get("progress")[0].text == "Finished at epoch 2 of at most 2 (epoch limit reached)"
    assert {d.key for d in at.get("download_button")} >= {"train.download_model", "train.download_manifest"}

    other_tab = new_app(ws=workspace)  # a reload or a second tab: same workspace, fresh session
    open_train(other_tab)
    [runs] = [box for box in other_tab.selectbox if box.label == RUNS_LABEL]  # nothing active: the user picks
    assert runs.value is None and len(runs.options) == 1 and runs.options[0].startswith("german · finished · ")
    runs.set_value(str(job.path)).run()
    assert Path(other_tab.session_state[state.RUN_KEY]) == job.path
    assert ":material/check_circle: Finished" in texts(other_tab)


def test_stop_button_stops_the_run(runs_dir) -> None:
    at = open_train(new_app())
    job = start(at, epochs=300, patience=0)
    wait_for(lambda: len(job.progress()) >= 1)
    at.run()
    at.button(key="train.stop").click().run()
    assert not at.exception
    wait_for(lambda: not job.is_active, timeout=10)
    at.run()
    assert job.status().state is JobState.STOPPED
    assert ":material/stop_circle: Stopped" in texts(at) and "the best model so far is kept" in texts(at)
    assert at.get("progress")[0].text.startswith("Stopped at epoch ") and at.get("progress")[0].value == 100
    assert at.get("download_button")


def test_checkpoint_upload_checks_the_file_and_becomes_the_current_run(runs_dir, german_run_dir) -> None:
    at = open_train(new_app())
    load_checkpoint(at, "junk.pt", b"not a checkpoint")
    assert not at.exception
    assert "'junk.pt' is not a readable FairGen checkpoint" in at.error[0].value
    assert state.RUN_KEY not in at.session_state  # no run was made current

    checkpoint = (german_run_dir / "model.pt").read_bytes()
    load_checkpoint(at, "german.pt", checkpoint)
    assert not at.exception and not at.error
    job = current_job(at)
    assert job.path.parent.parent == runs_dir and job.status().state is JobState.FINISHED
    at.run()
    assert ":material/check_circle: Finished" in texts(at)
    assert [chart.key for chart in at.get("plotly_chart")] == ["train.loss_epochs", "train.fid", "train.translation"]


def test_a_run_ended_by_early_stopping_says_so_and_its_one_point_curves_show(runs_dir, german_run_dir) -> None:
    at = open_train(new_app())
    load_checkpoint(at, "german.pt", (german_run_dir / "model.pt").read_bytes())
    job = current_job(at)
    first = job.progress()[0]  # a run that early stopping ended after its first epoch of at most 300
    (job.path / "progress.jsonl").write_text(json.dumps({**first, "epochs": 300, "stopped": "early-stopping"}) + "\n")
    at.run()
    assert not at.exception
    bar = at.get("progress")[0]
    assert (bar.value, bar.text) == (100, "Finished at epoch 1 of at most 300 (early stopping)")
    assert [m.value for m in at.metric if m.label == "At most left (epoch limit)"] == ["—"]
    figures = {chart.key: json.loads(chart.proto.spec) for chart in at.get("plotly_chart")}
    for key in ("train.loss_epochs", "train.fid", "train.translation"):
        assert all("markers" in trace["mode"] for trace in figures[key]["data"]), key
    losses = figures["train.loss_epochs"]["layout"]
    assert any(a["text"].startswith("likelihood (reconstruction") for a in losses["annotations"])
    assert losses["xaxis"]["title"]["text"] == "epoch" and losses["yaxis"]["title"]["text"] == "loss"


def test_checkpoint_for_another_spec_is_refused(runs_dir, german_run_dir) -> None:
    at = new_app()
    at.selectbox(key="data.builtin").set_value("german").run()
    at.multiselect(key="german.credit.sensitive").set_value(["age"]).run()
    open_train(at, None)
    assert "sensitive age ≥ " in texts(at)
    checkpoint = (german_run_dir / "model.pt").read_bytes()
    load_checkpoint(at, "german.pt", checkpoint)
    assert not at.exception
    assert "'german.pt' was trained for label 'credit'" in at.error[0].value
    assert state.RUN_KEY not in at.session_state  # no run was made current
