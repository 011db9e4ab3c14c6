"""In Chromium: upload a CSV with a score column, audit it on the Model audit page, move the threshold slider (timing
each redraw), and find the audit's metrics in the downloaded HTML report."""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

import numpy as np
import pytest

from fairgen_core.data.sources import open_data
from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute, assign_domains
from fairgen_core.model_audit import DIFFERENCE_METRICS, ModelAuditConfig, audit_model, group_rates, model_inputs
from fairgen_core.results.text import interval_text
from tests.conftest import REPO_ROOT
from tests.e2e.conftest import open_page, screenshot, wait_idle
from tests.e2e.helpers import (
    download,
    main_text,
    multiselect_add,
    multiselect_remove,
    multiselect_values,
    poll,
    redraw_watch,
    select,
    upload,
    wait_text,
)

ROWS = 2_000
FILE = "people_scores.csv"
SPEC = DatasetSpec("hired", ("yes",), (SensitiveAttribute("sex", ("M",)),))
COLUMNS_LABEL = "Prediction column(s): one model each"
PREDICTIONS_LABEL = "Prediction or score column(s) of your own model (optional)"
SCORES_LABEL = "These are scores (probabilities in [0, 1]), not 0/1 decisions"
RATES_TITLE = "Per-group rates at the threshold(s) above"
SLIDER = '[data-testid="stSlider"] input[type="range"]'
LATENCY_FILE = REPO_ROOT / "build" / "e2e" / "model_audit_slider_latency.json"
MOVES = ["ArrowRight"] * 5 + ["ArrowLeft"] * 5  # 0.50 → 0.55 → 0.50, one step (0.01) at a time

# Installed before a key press: when the rates chart first shows the expected threshold and selection rates.
WATCH = redraw_watch("[title, threshold, rates]", """
        const plot = [...document.querySelectorAll('.js-plotly-plot')]
            .find(p => (p.layout?.title?.text ?? '') === title);
        const bars = plot?.data ?? [];
        return bars.length === rates.length && bars.every((bar, i) =>
            bar.hovertemplate.includes(`(threshold ${threshold})`) && Math.abs(bar.y[0] - rates[i]) < 1e-9);""")


@pytest.fixture
def scores_csv(tmp_path: Path) -> Path:
    """2,000 people: sex (60% M, privileged), hired (yes favourable), a score favouring M, and age."""
    rng = np.random.default_rng(11)
    sex = np.where(rng.random(ROWS) < 0.6, "M", "F")
    hired = rng.random(ROWS) < 0.45
    score = np.clip(0.35 * hired + 0.15 * (sex == "M") + rng.uniform(0, 0.5, ROWS), 0, 1).round(4)
    rows = [f"{s},{'yes' if h else 'no'},{p},{20 + i % 45}" for i, (s, h, p) in enumerate(zip(sex, hired, score))]
    path = tmp_path / FILE
    path.write_text("sex,hired,score,age\n" + "\n".join(rows) + "\n")
    return path


def choose_spec(page) -> None:
    """On the Data page: label hired (yes favourable), sensitive sex with M privileged."""
    select(page, "Label column", "hired")
    multiselect_add(page, "Favourable label value(s)", "yes")
    multiselect_remove(page, "Favourable label value(s)",
                       *[v for v in multiselect_values(page, "Favourable label value(s)") if v != "yes"])
    multiselect_add(page, "Sensitive attribute(s)", "sex")
    multiselect_add(page, "sex: privileged value(s)", "M")
    multiselect_remove(page, "sex: privileged value(s)",
                       *[v for v in multiselect_values(page, "sex: privileged value(s)") if v != "M"])
    wait_text(page, "Groups and labels")
    wait_idle(page)


def expected_rates(path: Path, threshold: float) -> list[float]:
    """Each group's selection rate at ``threshold``, as the chart's first bar of each group shows it."""
    frame = open_data(path.read_bytes(), name=FILE).frame
    domains = assign_domains(frame, SPEC)
    rates = group_rates(domains.label, frame["score"].to_numpy(), domains.group, threshold, domains.group_names)
    return rates["selection_rate"].tolist()


def test_audit_a_score_column_move_the_threshold_and_download_the_report(page, server: str, scores_csv: Path,
                                                                         tmp_path: Path) -> None:
    page.goto(server)
    wait_idle(page)
    upload(page, scores_csv)
    wait_text(page, f"{FILE} — {ROWS:,} rows × 4 columns")
    wait_idle(page)
    choose_spec(page)
    poll(lambda: multiselect_values(page, PREDICTIONS_LABEL), lambda v: v == ["score"], 30,
         "'score' suggested as a prediction column on the Data page")

    open_page(page, server, "Model audit")
    wait_idle(page)
    poll(lambda: multiselect_values(page, COLUMNS_LABEL), lambda v: v == ["score"], 30,
         "'score', marked on the Data page, already chosen on the Model audit page")
    page.get_by_text(SCORES_LABEL, exact=True).click()
    wait_idle(page)
    wait_text(page, "sex=F (unprivileged) compared with sex=M (privileged)")
    wait_text(page, "Move a threshold")
    page.locator(SLIDER).wait_for(state="attached")
    wait_idle(page)
    assert "Not audited" not in main_text(page)
    screenshot(page, "10-model-audit")

    thumb, threshold, samples = page.locator(SLIDER), 0.5, []
    for key in MOVES:
        threshold = round(threshold + (0.01 if key == "ArrowRight" else -0.01), 2)
        page.evaluate(WATCH, [RATES_TITLE, f"{threshold:g}", expected_rates(scores_csv, threshold)])
        thumb.press(key)
        page.wait_for_function("() => window.__redraw.t1 !== null", timeout=30_000)
        timing = page.evaluate("() => window.__redraw")
        samples.append(round(timing["t1"] - timing["t0"], 1))
    wait_idle(page)
    LATENCY_FILE.parent.mkdir(parents=True, exist_ok=True)
    LATENCY_FILE.write_text(json.dumps({
        "what": "ms from releasing an arrow key on the Model audit page's threshold slider to the per-group rates "
                "chart showing the new threshold's selection rates (performance.now() in Chromium)",
        "median_ms": round(statistics.median(samples), 1), "samples_ms": samples, "moves": MOVES,
        "rows": ROWS, "cpus": os.cpu_count(),
    }, indent=1))

    name, report = download(page, "HTML report", tmp_path)
    assert name.endswith("_report.html")
    html = report.decode("utf-8")
    frame = open_data(scores_csv.read_bytes(), name=FILE).frame
    audit = audit_model(frame, SPEC, model_inputs(frame, ["score"], scores=True)[0], ModelAuditConfig())
    assert html.startswith("<!DOCTYPE html>") and FILE in html
    for row in audit.differences.itertuples():
        assert DIFFERENCE_METRICS[row.metric] in html
        assert f"{row.value:.3f}" in html and interval_text(row.ci_low, row.ci_high) in html
        assert f"<td>{row.verdict}</td>" in html
