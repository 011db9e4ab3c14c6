"""AppTest of the Export page on the trained German run, reading back what every download button serves."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit.testing.v1.app_test as app_test
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import DownloadButton

from fairgen_core.cli import main
from fairgen_core.export import PAIR_COLUMNS
from fairgen_core.runs.store import RunDir
from tests.app.conftest import fresh_app, open_run_page

PAGE = "../pages/export.py"  # relative to the entry point, dashboard/app.py
SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> list[MediaFileManager]:
    """The media file managers AppTest creates (one per run), so tests can read what the buttons serve."""
    managers: list[MediaFileManager] = []

    class Recording(MediaFileManager):
        def __init__(self, storage) -> None:
            super().__init__(storage)
            managers.append(self)

    monkeypatch.setattr(app_test, "MediaFileManager", Recording)
    return managers


def _download(managers: list[MediaFileManager], button: DownloadButton) -> tuple[str, bytes]:
    """The file name and bytes a download button serves (running a deferred button's callable)."""
    manager = managers[-1]
    deferred = button.proto.deferred_file_id
    url = manager.execute_deferred(deferred) if deferred else button.proto.url
    stored = manager._storage.get_file(Path(url).name)
    return stored.filename, stored.content


@pytest.fixture
def app(media: list[MediaFileManager]) -> AppTest:
    return fresh_app(timeout=120)


def _open(app: AppTest, run_dir: Path | None) -> AppTest:
    return open_run_page(app, PAGE, run_dir)


def test_without_a_run_points_to_the_train_page(app: AppTest) -> None:
    _open(app, None)
    assert "Train generator" in app.info[0].value
    assert not app.download_button


def test_400_rows_come_out_exactly_balanced(app: AppTest, media: list[MediaFileManager],
                                           german_run_dir: Path) -> None:
    _open(app, german_run_dir)
    app.number_input(key="export.n").set_value(400).run()
    plan = app.dataframe[0].value
    assert plan["rows"].tolist() == [100] * 4 and len(plan) == 4
    assert not any(b.key == "export.synthetic" for b in app.download_button)  # only after the click
    app.button(key="export.generate").click().run()
    assert not app.exception, app.exception
    name, data = _download(media, app.download_button(key="export.synthetic"))
    assert name == "fairgen_german_synthetic_400.csv"
    rows = pd.read_csv(io.BytesIO(data))
    assert len(rows) == 400
    assert rows.groupby(["sex", "credit"]).size().tolist() == [100, 100, 100, 100]
    real = RunDir(german_run_dir).open_data().frame
    assert list(rows.columns) == list(real.columns)
    numeric = real.select_dtypes("number").columns
    assert (rows[numeric].dtypes == real[numeric].dtypes).all()


def test_a_size_that_does_not_split_evenly_is_refused(app: AppTest, german_run_dir: Path) -> None:
    _open(app, german_run_dir)
    app.number_input(key="export.n").set_value(402).run()
    assert "the 4 domains" in app.error[0].value and "400 or 404" in app.error[0].value
    assert not any(b.key in ("export.synthetic", "export.generate") for b in (*app.download_button, *app.button))


def test_pairs_report_metrics_and_model_downloads(app: AppTest, media: list[MediaFileManager],
                                                  german_run_dir: Path) -> None:
    _open(app, german_run_dir)
    files = dict(_download(media, app.download_button(key=key)) for key in (
        "export.pairs", "export.report.html", "export.metrics.csv", "export.metrics.json", "export.model"))
    assert set(files) == {"fairgen_german_translated_pairs.csv", "fairgen_german_report.html",
                          "fairgen_german_metrics.csv", "fairgen_german_metrics.json", "fairgen_german_model.pt"}
    assert all(SAFE_NAME.match(name) for name in files)

    run = RunDir(german_run_dir)
    pairs = pd.read_csv(io.BytesIO(files["fairgen_german_translated_pairs.csv"]))
    assert len(pairs) == 2 * len(run.read_manifest().split.train)
    assert pairs[PAIR_COLUMNS[1]].tolist()[:4] == ["real", "synthetic", "real", "synthetic"]
    assert (pairs.groupby(PAIR_COLUMNS[0])[PAIR_COLUMNS[2]].nunique() == 2).all()  # each row moved domain

    report = files["fairgen_german_report.html"].decode("utf-8")
    assert report.startswith("<!DOCTYPE html>") and "FairGen audit — german" in report
    metrics = json.loads(files["fairgen_german_metrics.json"])
    fid = metrics["metrics"]["quality"]["overall"]["fid"]
    table = pd.read_csv(io.BytesIO(files["fairgen_german_metrics.csv"]))
    assert table.query("section == 'quality' and metric == 'fid'")["value"].item() == fid
    assert files["fairgen_german_model.pt"] == run.model_path.read_bytes()


@pytest.fixture(scope="module")
def id_run(tmp_path_factory) -> Path:
    """A run on a table with an identifier column."""
    folder = tmp_path_factory.mktemp("ids")
    rng = np.random.default_rng(0)
    n = 300
    table = pd.DataFrame({"ID": rng.permutation(np.arange(500, 500 + n)), "sex": rng.choice(["F", "M"], n),
                          "age": rng.integers(18, 70, n), "y": rng.integers(0, 2, n)})
    table.to_csv(folder / "people.csv", index=False)
    out = folder / "run"
    assert main(["fit", str(folder / "people.csv"), "--label", "y", "--sensitive", "sex=M", "--out", str(out),
                 "--epochs", "1", "--device", "cpu", "--seed", "0"]) == 0
    return out


def test_synthetic_identifiers_are_fresh_or_left_out(app: AppTest, media: list[MediaFileManager], id_run: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(id_run.parent.parent)  # the run reads its CSV from where fit found it, whatever the folder
    _open(app, id_run)
    real = RunDir(id_run).open_data().frame
    assert app.radio(key="export.ids").value == "fresh"
    app.number_input(key="export.n").set_value(40).run()
    app.button(key="export.generate").click().run()
    rows = pd.read_csv(io.BytesIO(_download(media, app.download_button(key="export.synthetic"))[1]))
    assert len(rows) == 40 and rows["ID"].is_unique and (rows["ID"] > real["ID"].max()).all()
    pairs = pd.read_csv(io.BytesIO(_download(media, app.download_button(key="export.pairs"))[1]))
    synthetic = pairs[pairs[PAIR_COLUMNS[1]] == "synthetic"]
    assert not set(synthetic["ID"]) & set(real["ID"])
    app.radio(key="export.ids").set_value("omit").run()
    app.button(key="export.generate").click().run()
    assert not app.exception, app.exception
    rows = pd.read_csv(io.BytesIO(_download(media, app.download_button(key="export.synthetic"))[1]))
    assert "ID" not in rows.columns and len(rows) == 40
