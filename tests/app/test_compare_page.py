"""AppTest of the Compare methods page: Fig. 2 and the Pareto view from the run's methods table."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from fairgen_core.cli import main
from fairgen_core.runs.layout import METHODS
from fairgen_core.runs.store import RunDir
from tests.app.conftest import APP, open_run_page

PAGE = "../pages/compare.py"


@pytest.fixture(scope="module")
def compared_run(german_run_dir: Path, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("compared") / "german"
    shutil.copytree(german_run_dir, run)
    assert main(["compare", str(run), "--methods", "baseline,reweighing", "--epochs", "5"]) == 0
    assert main(["sweep", str(run), "--ratios", "0.5,1", "--epochs", "5"]) == 0
    return run


def _open(run: Path | None) -> AppTest:
    return open_run_page(AppTest.from_file(APP, default_timeout=60), PAGE, run)


def test_without_a_run_points_to_training() -> None:
    assert "No trained generator yet" in _open(None).info[0].value


def test_methods_and_ours_are_charted_and_tabled(compared_run: Path) -> None:
    at = _open(compared_run)
    assert len(at.get("plotly_chart")) == 2
    table = at.dataframe[-1].value
    assert list(table.index) == ["baseline", "reweighing", "transfer r=0.5"]
    methods = RunDir(compared_run).read_table(METHODS)
    expected = methods[(methods["method"] == "baseline") & (methods["metric"] == "balanced_accuracy")]["value"]
    assert table.loc["baseline", "Balanced accuracy ↑"] == f"{expected.mean():.3f}"  # one repetition: no ± std
    at.selectbox(key="compare.gap").set_value("abs_statistical_parity_difference").run()
    assert not at.exception


def test_a_method_that_could_not_run_is_explained(compared_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "german"
    shutil.copytree(compared_run, run)
    methods = RunDir(run).read_table(METHODS)
    skipped = pd.DataFrame([{"method": "meta_fair", "ratio": float("nan"), "repetition": 0, "seed": 0,
                             "metric": "balanced_accuracy", "value": float("nan"),
                             "note": "needs exactly two groups"}])
    RunDir(run).write_table(METHODS, pd.concat([methods, skipped], ignore_index=True))
    at = _open(run)
    assert any("meta_fair" in w.value and "needs exactly two groups" in w.value for w in at.warning)
