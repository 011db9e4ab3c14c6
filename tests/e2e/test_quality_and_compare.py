"""In Chromium: the Quality page and the Compare methods page of a run trained on the uploaded german.data."""

from __future__ import annotations

import re

from fairgen_core.mitigations import METHODS
from fairgen_core.runs.layout import METHODS as METHODS_TABLE
from fairgen_core.runs.store import RunDir
from tests.e2e.conftest import open_page, screenshot, wait_idle
from tests.e2e.helpers import attach_run, main_text, set_number, wait_text


def bar_names(page) -> list[str]:
    """The trace names (methods) of the Fig. 2 bar chart."""
    return page.evaluate("""() => {
        for (const plot of document.querySelectorAll('.js-plotly-plot'))
            if ((plot._fullData ?? []).some(t => t.type === 'bar')) return plot._fullData.map(t => t.name);
        return [];
    }""")


def test_quality_page_compares_synthetic_with_test_rows(page, server: str, german_upload_run) -> None:
    workspace, run = german_upload_run
    attach_run(page, server, workspace, run)
    open_page(page, server, "Quality")
    wait_text(page, "FID: synthetic vs test rows", timeout_ms=120_000)
    wait_text(page, "Privacy: distance to the closest training record", timeout_ms=120_000)
    wait_idle(page)
    text = main_text(page)
    values = dict(re.findall(r"(FID: synthetic vs test rows|Noise baseline \(σ = 0\.25\))\s+(\d+\.\d{3})", text))
    assert len(values) == 2 and all(float(v) > 0 for v in values.values()), values
    # the smallest (group, label) cell of the upload: A92 (female, divorced/married) with the bad label, 109 rows
    assert "'column_9=A92 · column_21=2' is the smallest domain (109 rows in the data)" in text
    assert "Marginals" in text and "Correlations" in text
    screenshot(page, "06-quality")


def test_compare_page_runs_the_methods_in_the_background_and_charts_them(page, server: str,
                                                                        german_upload_run) -> None:
    workspace, run = german_upload_run
    attach_run(page, server, workspace, run)
    open_page(page, server, "Compare methods")
    if RunDir(run).read_table(METHODS_TABLE) is None:
        wait_text(page, "No comparison yet for this run: run the methods above.")
    set_number(page, "Repetitions (classifier seeds)", 1)
    set_number(page, "Classifier epochs (at most)", 5)
    page.get_by_role("button", name="Run the comparison methods", exact=True).click()
    wait_text(page, "switch pages")  # queued or running: the analysis reports itself
    wait_text(page, "Fairness and balanced accuracy per method (Fig. 2)", timeout_ms=300_000)
    wait_text(page, "Accuracy against fairness")
    wait_idle(page)
    skipped = {m for m in METHODS if f"{m} did not run on this data" in main_text(page)}
    names = bar_names(page)
    assert set(names) | skipped >= set(METHODS), names
    assert "baseline" in names
    screenshot(page, "08-compare")
