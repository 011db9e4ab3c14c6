"""AppTest of the Fair classifier & trade-off page: background sweep, slider redraw from the precomputed table."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import plotly.graph_objects as go
import plotly.io
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.charts import theme_neutral
from fairgen_core.cli import main
from fairgen_core.results.charts import ONE_REPETITION_NOTE, tradeoff_figure, with_selected_ratio
from fairgen_core.runs.layout import SWEEP
from fairgen_core.runs.store import RunDir
from fairgen_core.runs.tasks import task_status
from tests.app.conftest import APP, open_run_page

PAGE = "../pages/classifier.py"


@pytest.fixture(scope="module")
def swept_run(german_run_dir: Path, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("swept") / "german"
    shutil.copytree(german_run_dir, run)
    assert main(["sweep", str(run), "--ratios", "0,0.5,1", "--reps", "2", "--epochs", "5"]) == 0
    return run


def _open(run: Path | None) -> AppTest:
    return open_run_page(AppTest.from_file(APP, default_timeout=60), PAGE, run)


def _metric_values(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def _verdict(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Verdict:**"))


def test_without_a_run_points_to_training() -> None:
    at = _open(None)
    assert "No trained generator yet" in at.info[0].value


def test_slider_redraws_the_metrics_from_the_sweep(swept_run: Path) -> None:
    at = _open(swept_run)
    slider = at.select_slider(key="classifier.ratio")
    assert slider.value == 0.5 and list(slider.options) == ["0.0 real : 1.0 synthetic", "0.5 real : 0.5 synthetic",
                                                            "1.0 real : 0.0 synthetic"]
    table = RunDir(swept_run).read_table(SWEEP)

    def expected(ratio: float) -> str:
        rows = table[(table["method"] == "transfer") & (table["ratio"] == ratio)
                     & (table["metric"] == "balanced_accuracy")]
        return f"{rows['value'].mean():.3f}"

    assert _metric_values(at)["Balanced accuracy ↑"] == expected(0.5)
    slider.set_value(0.0).run()
    assert not at.exception
    # (the two ratios may score alike when both keep the pre-trained network: the values, not their difference)
    assert _metric_values(at)["Balanced accuracy ↑"] == expected(0.0)
    assert "2 repetitions" in at.caption[-1].value and "bands are ±1 std" in at.caption[-1].value
    # The verdict judges every ratio by its paired interval against "no TL" (no comparison methods were run).
    assert _verdict(at).startswith("**Verdict:** By |Average odds diff.| against no TL on the same 2 repetitions: ")
    # The page skips plotly's validation of the marked chart: what it sends must equal the validated figure.
    sent = json.loads(at.get("plotly_chart")[0].proto.spec)
    marked = with_selected_ratio(theme_neutral(tradeoff_figure(table)).to_dict(), 0.0)
    assert sent == json.loads(plotly.io.to_json(go.Figure(marked), validate=False))
    assert {shape["x0"] for shape in sent["layout"]["shapes"]} == {0.0}
    # With 2 repetitions the paired differences to the reference are drawn per ratio, with their 95% bands.
    paired = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert "Paired difference to no TL" in paired["layout"]["title"]["text"]


def test_compute_runs_in_the_background_and_shows_the_chart(german_run_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "german"
    shutil.copytree(german_run_dir, run)
    at = _open(run)
    assert any("No trade-off yet" in info.value for info in at.info)
    at.number_input(key="sweep.reps").set_value(1)
    at.number_input(key="sweep.epochs").set_value(5)
    at.button(key="sweep.start").click().run()
    assert not at.exception
    deadline = time.monotonic() + 120
    while task_status(run, "sweep").is_active and time.monotonic() < deadline:
        time.sleep(0.5)
    assert task_status(run, "sweep").state == "finished", task_status(run, "sweep").message
    at.run()
    assert not at.exception
    assert at.select_slider(key="classifier.ratio").value == 0.5
    assert RunDir(run).read_table(SWEEP)["ratio"].nunique() == 11
    # One repetition: no ratio is named, and the chart and its caption say there are no error bars.
    assert "no interval can be computed, so no ratio is named" in _verdict(at)
    assert "1 repetition: no error bars" in at.caption[-1].value
    assert json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["title"]["text"] == ONE_REPETITION_NOTE
    assert len(at.get("plotly_chart")) == 1  # no paired chart without an interval
