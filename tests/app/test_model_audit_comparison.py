"""AppTest of the Model audit page's comparison: the user's model on the German run's test rows next to the run's
methods and fair classifier in one chart; without a comparison, a note saying what to run."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import state
from fairgen_core.model_audit import (
    COMPARED_METRICS,
    YOUR_MODEL,
    ModelAuditConfig,
    ModelInput,
    RecordedModels,
    metrics_on_rows,
    recorded_models,
)
from fairgen_core.results.table import COLUMNS, TRANSFER_CHOSEN_RATIO
from fairgen_core.runs.layout import METHODS, SWEEP
from fairgen_core.runs.store import RunDir
from tests.app.conftest import fresh_app

MODEL_AUDIT = "../pages/model_audit.py"  # relative to dashboard/app.py
HEADER = "Next to FairGen's classifiers"


def _risk() -> np.ndarray:
    """A score per German row (1,000 rows), by row order."""
    return np.round(np.random.default_rng(5).uniform(0, 1, 1000), 3)


def _tidy(method: str, values: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame([{"method": method, "ratio": np.nan, "repetition": r, "seed": r, "selection": "fair",
                          "metric": metric, "value": value, "note": ""}
                         for metric, per_rep in values.items() for r, value in enumerate(per_rep)],
                        columns=list(COLUMNS))


@pytest.fixture(scope="module")
def compared_run(german_run_dir: Path, tmp_path_factory) -> Path:
    """The trained German run with constructed methods.csv (2 repetitions) and sweep.csv tables."""
    run = tmp_path_factory.mktemp("model_audit_compared") / "german"
    shutil.copytree(german_run_dir, run)
    ba, eo = COMPARED_METRICS
    RunDir(run).write_table(METHODS, pd.concat([_tidy("baseline", {ba: [0.70, 0.72], eo: [0.20, 0.14]}),
                                                _tidy("reweighing", {ba: [0.69, 0.70], eo: [0.08, 0.10]})]))
    RunDir(run).write_table(SWEEP, _tidy(TRANSFER_CHOSEN_RATIO, {ba: [0.71, 0.73], eo: [0.05, 0.07]}))
    return run


def _audit_on_german(run: Path) -> AppTest:
    """German on the Data page, ``run`` as the current run, the risk scores uploaded and audited on Model audit."""
    at = fresh_app()
    at.session_state[state.RUN_KEY] = str(run)
    at.run()
    at.selectbox(key="data.builtin").set_value("german").run()
    at.switch_page(MODEL_AUDIT).run()
    content = ("risk\n" + "\n".join(map(str, _risk())) + "\n").encode()
    at.file_uploader(key="model_audit.german.upload").set_value(("risk.csv", content, "text/csv")).run()
    at.multiselect(key="model_audit.german.columns").set_value(["risk"]).run()
    at.toggle(key="model_audit.german.scores").set_value(True).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    return at


def _numbers(values: object) -> list[float]:
    """A plotly JSON array: a list, or a typed array in base64."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def test_the_model_is_charted_next_to_the_runs_methods_on_its_test_rows(compared_run: Path) -> None:
    at = _audit_on_german(compared_run)
    assert HEADER in [h.value for h in at.header]
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    figure = next(c for c in charts if any(t.get("name") == YOUR_MODEL for t in c["data"]))
    ours, theirs = figure["data"][:2]  # the balanced-accuracy panel
    assert ours["y"] == ["risk (your model)"] and theirs["y"] == ["baseline", "reweighing", TRANSFER_CHOSEN_RATIO]
    assert _numbers(theirs["x"]) == pytest.approx([0.71, 0.695, 0.72])  # means over the 2 repetitions
    manifest = RunDir(compared_run).read_manifest()
    frame = RunDir(compared_run).open_data().frame
    expected = metrics_on_rows(frame, manifest.spec, ModelInput("risk", _risk(), is_score=True), manifest.split.test,
                               ModelAuditConfig())
    assert _numbers(ours["x"]) == pytest.approx([expected["value"].iloc[0]])  # the same test rows, the same groups
    caption = next(c.value for c in at.caption if "same test rows" in c.value)
    assert f"{len(manifest.split.test):,} test rows" in caption and "2 time(s)" in caption
    assert TRANSFER_CHOSEN_RATIO in caption


def test_a_run_without_a_comparison_says_what_to_run(german_run_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "german"
    shutil.copytree(german_run_dir, run)
    at = _audit_on_german(run)
    assert HEADER in [h.value for h in at.header]
    note = next(i.value for i in at.info if "Compare methods" in i.value)
    assert "has no comparison yet" in note and "Train generator" in note
    traces = [t for c in at.get("plotly_chart") for t in json.loads(c.proto.spec)["data"]]
    assert traces and not any(t.get("name") == YOUR_MODEL for t in traces)  # the audit's charts only


def test_the_audited_columns_can_be_added_to_the_runs_report(german_run_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "german"
    shutil.copytree(german_run_dir, run)
    at = fresh_app()
    at.session_state[state.RUN_KEY] = str(run)
    at.run()
    at.selectbox(key="data.builtin").set_value("german").run()
    at.switch_page(MODEL_AUDIT).run()
    at.multiselect(key="model_audit.german.columns").set_value(["duration"]).run()
    at.toggle(key="model_audit.german.scores").set_value(True).run()
    at.toggle(key="model_audit.german.rescale").set_value(True).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    assert recorded_models(run) is None
    at.button(key="model_audit.record").click().run()
    assert not at.exception, at.exception
    assert recorded_models(run) == RecordedModels(("duration",), scores=True, threshold=0.5, rescale=True)
    assert any("audits duration too" in c.value for c in at.caption)
    assert not [b for b in at.button if b.key == "model_audit.record"]
