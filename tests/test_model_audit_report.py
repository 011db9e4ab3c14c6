"""The model-audit report: self-contained HTML with every model's metrics, intervals and verdicts, user strings
escaped; the same numbers as CSV tables and strict JSON."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute
from fairgen_core.export import csv_bytes
from fairgen_core.model_audit import DIFFERENCE_METRICS, ModelAuditConfig, audit_models, model_inputs
from fairgen_core.results.metrics_export import model_audit_json, model_audit_tables
from fairgen_core.results.report import model_audit_html
from fairgen_core.results.text import interval_text
from fairgen_core.runs.store import frame_hash

EVIL_GROUP = "<script>alert('g')</script>"
EVIL_MODEL = "=cmd|' /C calc'!A0 <b>score</b>"


@pytest.fixture(scope="module")
def audited() -> tuple[pd.DataFrame, DatasetSpec, ModelAuditConfig, list, list]:
    """600 rows: a score favouring the privileged group (named with markup) and a fair coin as decisions."""
    rng = np.random.default_rng(7)
    n = 600
    group = np.where(np.arange(n) % 3 == 0, EVIL_GROUP, "other")
    label = rng.random(n) < 0.5
    score = np.clip(0.3 * label + 0.3 * (group == "other") + rng.uniform(0, 0.4, n), 0, 1)
    frame = pd.DataFrame({"group": group, "y": label.astype(int), EVIL_MODEL: score,
                          "coin": rng.integers(0, 2, n)})
    spec = DatasetSpec("y", (1,), (SensitiveAttribute("group", ("other",)),))
    config = ModelAuditConfig(bootstrap=200)
    models = model_inputs(frame, [EVIL_MODEL], scores=True) + model_inputs(frame, ["coin"], scores=False)
    return frame, spec, config, models, audit_models(frame, spec, models, config)


@pytest.fixture(scope="module")
def page(audited) -> str:
    frame, spec, config, models, audits = audited
    return model_audit_html(audits, frame=frame, spec=spec, data="<i>people</i>.csv", config=config, models=models)


def test_the_report_holds_every_metric_interval_and_verdict(audited, page: str) -> None:
    frame, _, _, _, audits = audited
    assert page.startswith("<!DOCTYPE html>") and "Plotly" in page  # self-contained: plotly.js inlined
    assert frame_hash(frame) in page and "200 resamples, seed 0, 95% intervals" in page
    for audit in audits:
        for row in audit.differences.itertuples():
            assert DIFFERENCE_METRICS[row.metric] in page
            assert f"{row.value:.3f}" in page and interval_text(row.ci_low, row.ci_high) in page
        assert f"<td>{audit.differences['verdict'].iloc[0]}</td>" in page
    score = audits[0].differences.set_index("metric")
    assert score.loc["statistical_parity_difference", "verdict"] == "disparity"
    assert '<tr class="disparity">' in page
    assert "Thresholds that equalise the TPR" in page and "Reliability curve per group" in page
    assert page.count('<section id="model-') == 2 and 'id="side-by-side"' in page


def test_every_user_string_is_escaped(page: str) -> None:
    assert "<script>alert" not in page and "<i>people</i>" not in page and "<b>score</b>" not in page
    assert "&lt;script&gt;alert(&#x27;g&#x27;)&lt;/script&gt;" in page  # the group, in tables
    assert "&lt;i&gt;people&lt;/i&gt;.csv" in page and "&lt;b&gt;score&lt;/b&gt;" in page
    scripts = re.findall(r"<script[^>]*>", page)
    assert len(scripts) == 1 + page.count('class="plotly-graph-div"')  # plotly.js, then one per chart


def test_tables_and_json_carry_the_same_numbers(audited) -> None:
    frame, spec, config, _, audits = audited
    tables = model_audit_tables(audits)
    assert tables["differences"]["model"].tolist() == [EVIL_MODEL] * 5 + ["coin"] * 5
    assert tables["per_group"].columns[0] == "model" and len(tables["calibration"])
    pd.testing.assert_frame_equal(tables["differences"].iloc[:5, 1:], audits[0].differences)
    text = csv_bytes(tables["differences"]).decode()
    assert "'=cmd" in text and "\n=cmd" not in text  # formula cells escaped
    document = json.loads(json.dumps(model_audit_json(audits, frame=frame, spec=spec, data="people.csv",
                                                      config=config), allow_nan=False))
    assert document["inputs"]["data_sha256"] == frame_hash(frame)
    assert document["inputs"]["tolerances"]["disparate_impact"] == 0.8
    assert [m["model"] for m in document["models"]] == [EVIL_MODEL, "coin"]
    assert document["models"][0]["differences"][0]["value"] == pytest.approx(audits[0].differences["value"][0])
