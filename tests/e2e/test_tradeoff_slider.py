"""In Chromium: compute the trade-off of a trained run, then move the ratio slider and time each redraw."""

from __future__ import annotations

import json
import os
import secrets
import statistics
from pathlib import Path

import pytest

from fairgen_core.cli import main as cli
from fairgen_core.results.table import METRIC_TITLES, TRANSFER, summarise
from fairgen_core.runs.layout import SWEEP
from fairgen_core.runs.store import RunDir
from tests.conftest import REPO_ROOT
from tests.e2e.conftest import open_page, screenshot, wait_idle
from tests.e2e.helpers import attach_run, main_text, redraw_watch, set_number, wait_text

LATENCY_FILE = REPO_ROOT / "build" / "e2e" / "slider_latency.json"
MOVES = ["ArrowRight"] * 5 + ["ArrowLeft"] * 5  # 0.5 → 1.0 → 0.5, one step (0.1) at a time
MIRRORED = ["ArrowLeft"] * 5 + ["ArrowRight"] * 5  # 0.5 → 0.0 → 0.5
SLIDER = '[data-testid="stSlider"] input[type="range"]'  # react-aria: a visually hidden range input

# Installed before a key press: when the page first shows the expected metric values with the chart's
# selected-ratio line at the expected ratio.
WATCH = redraw_watch("[values, ratio]", """
        const texts = [...document.querySelectorAll('[data-testid="stMetricValue"]')].map(e => e.innerText.trim());
        const plot = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
        const lines = (plot?.layout?.shapes ?? []).map(s => s.x0);
        return JSON.stringify(texts) === JSON.stringify(values) && lines.length > 0
            && lines.every(x => Math.abs(x - ratio) < 1e-9);""")


@pytest.fixture
def trained_run(runs_dir: Path) -> tuple[str, Path]:
    """(workspace, run folder): ``fit german --epochs 3`` written straight into a fresh workspace of the server."""
    workspace = secrets.token_hex(8)
    run = runs_dir / workspace / "german-3-epochs"
    assert cli(["fit", "german", "--out", str(run), "--epochs", "3", "--device", "cpu", "--seed", "1"]) == 0
    return workspace, run


def expected_metrics(run: Path) -> dict[float, list[str]]:
    """The metric values the page must show per ratio, as it formats them, from the run's sweep table."""
    summary = summarise(RunDir(run).read_table(SWEEP))
    transfer = summary[summary["method"] == TRANSFER]
    return {round(float(ratio), 1): [f"{rows.set_index('metric').loc[m, 'mean']:.3f}" for m in METRIC_TITLES]
            for ratio, rows in transfer.groupby("ratio")}


def metric_texts(page) -> list[str]:
    return [text.strip() for text in page.locator('[data-testid="stMetricValue"]').all_inner_texts()]


def test_compute_the_tradeoff_then_the_slider_redraws_metrics_and_marker(page, server: str, trained_run) -> None:
    workspace, run = trained_run
    attach_run(page, server, workspace, run)
    open_page(page, server, "Fair classifier & trade-off")
    wait_text(page, "No trade-off yet for this run: compute it above.")
    set_number(page, "Repetitions (classifier seeds)", 1)
    set_number(page, "Classifier epochs (at most)", 10)
    page.get_by_role("button", name="Compute the trade-off", exact=True).click()
    wait_text(page, "switch pages")  # queued or running: the background sweep reports itself
    page.locator(SLIDER).wait_for(state="attached", timeout=300_000)  # drawn when the sweep has finished
    wait_idle(page)
    wait_text(page, "Test-split means over 1 repetition;")

    expected = expected_metrics(run)
    assert sorted(expected) == [round(0.1 * i, 1) for i in range(11)]
    assert [t.strip() for t in page.locator('[data-testid="stMetricLabel"]').all_inner_texts()] == list(
        METRIC_TITLES.values())
    assert metric_texts(page) == expected[0.5]
    assert "0.5 real : 0.5 synthetic" in main_text(page)
    screenshot(page, "07-classifier")

    # The selection rule may keep the same epoch (e.g. the pre-trained C) for every ratio on one side of 0.5;
    # move towards the side where the values differ, so that a redraw shows in the metrics.
    assert len({tuple(values) for values in expected.values()}) > 1, "the sweep shows the same values at every ratio"
    upper_differs = any(expected[round(0.1 * i, 1)] != expected[0.5] for i in range(6, 11))
    moves = MOVES if upper_differs else MIRRORED
    thumb = page.locator(SLIDER)
    ratio, samples, changed = 0.5, [], []
    for key in moves:
        ratio = round(ratio + (0.1 if key == "ArrowRight" else -0.1), 1)
        before = metric_texts(page)
        page.evaluate(WATCH, [expected[ratio], ratio])
        thumb.press(key)
        page.wait_for_function("() => window.__redraw.t1 !== null", timeout=30_000)
        timing = page.evaluate("() => window.__redraw")
        samples.append(round(timing["t1"] - timing["t0"], 1))
        assert thumb.get_attribute("aria-valuetext") == f"{ratio:.1f} real : {1 - ratio:.1f} synthetic"
        assert metric_texts(page) == expected[ratio]
        changed.append(expected[ratio] != before)
    assert any(changed), "no move changed the metric values"
    wait_idle(page)
    assert metric_texts(page) == expected[0.5]

    LATENCY_FILE.parent.mkdir(parents=True, exist_ok=True)
    LATENCY_FILE.write_text(json.dumps({
        "what": "ms from releasing an arrow key on the ratio slider to the page showing the new ratio's metric "
                "values and the chart's selected-ratio line at it (performance.now() in Chromium)",
        "median_ms": round(statistics.median(samples), 1), "samples_ms": samples, "moves": moves,
        "metric_values_changed": changed, "run": "german, 3 generator epochs, sweep 1 repetition x 10 epochs",
        "cpus": os.cpu_count(),
    }, indent=1))
