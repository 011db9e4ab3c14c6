"""In Chromium: the Export page of a run trained on the uploaded german.data serves balanced rows and the report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fairgen_core.data.io import read_csv
from fairgen_core.data.spec import assign_domains
from tests.e2e.conftest import ACTION_TIMEOUT_MS, open_page, screenshot, shared_file, wait_idle
from tests.e2e.helpers import (
    GERMAN_LABEL,
    GERMAN_SENSITIVE,
    attach_run,
    download,
    german_spec,
    set_number,
    wait_text,
)

ROWS = 400


@pytest.fixture(scope="module")
def downloads(browser, server: str, german_upload_run, tmp_path_factory) -> dict[str, tuple[str, bytes]]:
    """What the Export page serves for the uploaded-German run: 400 synthetic rows, metrics JSON, HTML report."""
    workspace, run = german_upload_run
    folder = tmp_path_factory.mktemp("downloads")
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    try:
        attach_run(page, server, workspace, run)
        open_page(page, server, "Export")
        wait_text(page, "Balanced synthetic data")
        set_number(page, "Total rows", ROWS)
        wait_text(page, f"Generate {ROWS} rows").click()
        wait_text(page, f"Download {ROWS} rows (CSV", timeout_ms=120_000)
        wait_idle(page)
        screenshot(page, "09-export")
        files = {"synthetic": download(page, f"Download {ROWS} rows", folder),
                 "metrics": download(page, "metrics (JSON)", folder),
                 "report": download(page, "HTML report", folder)}
    finally:
        context.close()
    return files


def test_400_synthetic_rows_have_the_uploads_columns_and_exactly_balanced_domains(downloads) -> None:
    name, data = downloads["synthetic"]
    assert name.endswith(f"_synthetic_{ROWS}.csv")
    synthetic = read_csv(data, name=name).frame
    upload = read_csv(shared_file("german", "german.data")).frame
    assert list(synthetic.columns) == list(upload.columns)  # column_1 … column_21, in the upload's order
    assert len(synthetic) == ROWS
    domains = assign_domains(synthetic, german_spec())
    assert domains.valid.all()
    counts = np.bincount(domains.domain, minlength=4)
    assert counts.tolist() == [ROWS // 4] * 4, dict(zip(domains.group_names, counts.reshape(2, 2).tolist()))
    assert set(synthetic[GERMAN_LABEL]) == {1, 2}
    assert set(synthetic[GERMAN_SENSITIVE]) <= set(upload[GERMAN_SENSITIVE])


def test_the_html_report_holds_the_quality_metrics_and_the_spec(downloads) -> None:
    fid = json.loads(downloads["metrics"][1])["metrics"]["quality"]["overall"]["fid"]
    name, report = downloads["report"]
    assert name.endswith("_report.html")
    html = report.decode("utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "FID (synthetic vs test rows)" in html and f"{fid:.3f}" in html
    assert f"<td>{GERMAN_LABEL}</td>" in html
    assert f"{GERMAN_SENSITIVE} ∈ {{A93, A91, A94}}" in html and f"{GERMAN_SENSITIVE}=A92" in html


def test_downloads_and_report_name_the_uploaded_file(downloads) -> None:
    assert downloads["synthetic"][0] == f"fairgen_german_synthetic_{ROWS}.csv"
    html = downloads["report"][1].decode("utf-8")
    assert "<title>FairGen audit — german.data</title>" in html
    assert "/data.csv" not in html
