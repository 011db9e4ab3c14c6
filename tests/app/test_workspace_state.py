"""State across browser tabs and reloads of one workspace (``?ws=``): the run the pages work on, the dataset in use,
and which data the run shown on the Train page was trained on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import state
from fairgen_core.config import RUNS_DIR_ENV
from tests.app.conftest import fresh_app

WORKSPACE = "0123456789abcdef"
TRAIN, CLASSIFIER, COMPARE = "../pages/train.py", "../pages/classifier.py", "../pages/compare.py"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch) -> Path:
    """The runs folder of :data:`WORKSPACE` under a private ``$FAIRGEN_RUNS_DIR``."""
    monkeypatch.setenv(RUNS_DIR_ENV, str(tmp_path))
    return tmp_path / WORKSPACE


def new_tab(page: str | None = None) -> AppTest:
    """A fresh browser session on :data:`WORKSPACE` (a second tab or a reload), opened directly on ``page``."""
    at = fresh_app()
    at.query_params["ws"] = WORKSPACE
    if page is not None:
        at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    return "\n".join(m.value for m in [*at.markdown, *at.caption, *at.info, *at.warning, *at.error])


def test_a_second_tab_works_on_the_latest_trained_run(workspace: Path, german_run_dir: Path) -> None:
    run = workspace / "20240101-000000-german"
    shutil.copytree(german_run_dir, run)
    at = new_tab(CLASSIFIER)
    assert "No trained generator yet" not in texts(at)
    assert f"Showing **{run.name}** (run `{run.name}`), this workspace's latest trained run" in texts(at)
    assert Path(at.session_state[state.RUN_KEY]) == run
    assert "No trade-off yet for this run" in texts(at)
    at.switch_page(COMPARE).run()  # the other pages follow the same run
    assert not at.exception and "Showing" not in texts(at) and "No comparison yet for this run" in texts(at)


def test_without_a_trained_run_the_pages_list_the_workspace_runs(workspace: Path, german_run_dir: Path) -> None:
    run = workspace / "20240101-000000-german"
    shutil.copytree(german_run_dir, run)
    (run / "model.pt").unlink()  # trained elsewhere, model gone: a failed run
    at = new_tab(CLASSIFIER)
    assert "choose a run on the **Train generator** page once one has finished. Runs here: **" in at.info[0].value
    assert f"**{run.name}** (failed)" in at.info[0].value
    assert state.RUN_KEY not in at.session_state or at.session_state[state.RUN_KEY] is None


def test_a_reload_keeps_the_dataset_for_the_train_page(workspace: Path) -> None:
    at = new_tab()  # the Data page
    at.selectbox(key="data.builtin").set_value("german").run()
    assert not at.exception
    reloaded = new_tab(TRAIN)  # a reload of the Train page: the Data page has not run in this session
    assert "Choose a dataset" not in texts(reloaded)
    assert "**Data:** german — label `credit`, sensitive sex ∈ {male}" in texts(reloaded)
    assert reloaded.button(key="train.start") is not None and reloaded.number_input(key="train.epochs").value > 0
    assert reloaded.session_state[state.DATA_KEY].name == "german"


def test_a_reload_keeps_an_uploaded_dataset_with_its_bytes(workspace: Path) -> None:
    content = ("sex,age,hired\n" + "".join(f"{'F' if i % 3 else 'M'},{20 + i % 40},{i % 2}\n" for i in range(200))
               ).encode()
    at = new_tab()
    at.radio(key="data.origin").set_value("Upload a CSV").run()
    at.file_uploader(key="data.upload").set_value(("people.csv", content, "text/csv")).run()
    at.multiselect(key="people.csv.hired.sensitive").set_value(["sex"]).run()
    assert not at.exception
    chosen = at.session_state[state.SPEC_KEY]
    assert chosen is not None and chosen[0] == "people.csv"
    reloaded = new_tab(TRAIN)
    assert reloaded.session_state[state.SPEC_KEY] == chosen
    assert reloaded.session_state[state.UPLOAD_KEY] == content  # a training re-reads exactly these bytes
    assert "**Data:** people.csv — label" in texts(reloaded) and "Choose a dataset" not in texts(reloaded)


def test_the_train_page_says_when_the_run_shown_was_trained_on_other_data(workspace: Path,
                                                                          german_run_dir: Path) -> None:
    run = workspace / "20240101-000000-german"
    shutil.copytree(german_run_dir, run)
    at = new_tab()  # Adult is the Data page's default selection
    at.session_state[state.RUN_KEY] = str(run)
    at.switch_page(TRAIN).run()
    assert not at.exception
    [warning] = [w.value for w in at.warning if "trained on" in w.value]
    assert warning.startswith("The run shown was trained on **german — label `credit`, sensitive sex ∈ {male}**, "
                              "not on the current selection **adult — label `income`, sensitive sex ∈ {Male}**")
    at.switch_page("../pages/data.py").run()
    at.selectbox(key="data.builtin").set_value("german").run()
    at.switch_page(TRAIN).run()
    assert not [w.value for w in at.warning if "trained on" in w.value]  # the same data: no note
