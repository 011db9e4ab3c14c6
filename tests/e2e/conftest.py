"""Browser tests: Debian's Chromium driven by Playwright against ``streamlit run dashboard/app.py``."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fairgen_core.data.sources import open_data
from tests.conftest import REPO_ROOT
from tests.streamlit_server import streamlit_server

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = REPO_ROOT / "build" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]

#: How long a click or a fill may wait for the page. Generous: README's command runs these tests beside another
#: pytest-xdist worker on a 2-core machine, where a Streamlit rerun can take many seconds.
ACTION_TIMEOUT_MS = 60_000


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium; CI must have it (``.ci/run`` installs it), a local machine without it skips."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    return CHROMIUM


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    """FAIRGEN_RUNS_DIR of the served dashboard."""
    return tmp_path_factory.mktemp("e2e-runs")


@pytest.fixture(scope="session")
def server(runs_dir: Path) -> Iterator[str]:
    """Base URL of a dashboard served for the whole browser session."""
    with streamlit_server(runs_dir) as url:
        yield url


@pytest.fixture(autouse=True)
def _stop_background_work(runs_dir: Path) -> Iterator[None]:
    """After each test, stop the training jobs and analyses it left running (a failed test must not leave them)."""
    yield
    from fairgen_core.runs.jobs import TrainingJob
    from fairgen_core.runs.layout import TASK_TABLES
    from fairgen_core.runs.tasks import stop_task

    for job_file in runs_dir.glob("*/*/job.json"):
        job = TrainingJob(job_file.parent)
        if job.is_active:
            job.stop(timeout=20)
    for run in {path.parent for path in runs_dir.glob("*/*/model.pt")}:
        for name in TASK_TABLES:
            stop_task(run, name)


@pytest.fixture(scope="session")
def browser(chromium_path: str):
    """One headless Chromium for all browser tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server: str):
    """A fresh browser context (its own Streamlit session) with a large viewport; closed after the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(scope="session")
def german_upload_run(runs_dir: Path) -> tuple[str, Path]:
    """(workspace id, run folder) of a short training on ``german.data`` as the dashboard uploads it.

    Started with the Train page's own call (:func:`~fairgen_core.runs.jobs.start_training` with the uploaded bytes and
    the Data page's reading of them) in a workspace of its own, so a test opens it with ``?ws=`` and re-attaches;
    3 epochs, finished before the tests use it. The spec is :func:`tests.e2e.helpers.german_spec`.
    """
    from fairgen_core.config import GeneratorConfig
    from fairgen_core.runs.jobs import start_training
    from fairgen_core.runs.process import JobState, launched
    from tests.e2e.helpers import german_spec

    content = shared_file("german", "german.data").read_bytes()
    source = open_data(content, name="german.data")
    workspace = secrets.token_hex(8)
    job = start_training(runs_dir / workspace, source, german_spec(), source.schema,
                         GeneratorConfig(epochs=3, patience=0, device="cpu", seed=1), name="german.data",
                         source_bytes=content, queue_dir=runs_dir)
    deadline = time.monotonic() + 300
    while job.is_active and time.monotonic() < deadline:
        time.sleep(0.2)
    status = job.status()
    assert status.state is JobState.FINISHED, f"{status.state}: {status.message}"
    worker = launched(job.path)  # reap the finished worker (no ResourceWarning at exit)
    if worker is not None:
        worker.wait(timeout=60)
    return workspace, job.path


def screenshot(tab, name: str) -> Path:
    """Save a screenshot of the whole page under build/screenshots (the viewport grows to the content)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = tab.viewport_size
    content = tab.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 0")
    tab.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(content), 6000))})
    tab.wait_for_timeout(300)
    tab.screenshot(path=str(path))
    tab.set_viewport_size(size)
    return path


def shared_file(*parts: str) -> Path:
    """A file from ../shared/datasets, which CI places beside the clone."""
    path = REPO_ROOT.parent / "shared" / "datasets" / Path(*parts)
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing")
        pytest.skip(f"{path} is not present")
    return path




def wait_idle(tab, timeout_ms: int = 60_000) -> None:
    """Wait until the app has rendered and Streamlit's 'Running…' indicator is gone."""
    tab.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    tab.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]') "
        "&& document.querySelector('[data-testid=\"stMain\"]') !== null", timeout=timeout_ms)
    tab.wait_for_timeout(300)


def open_page(tab, server: str, title: str) -> None:
    """Click the sidebar navigation link ``title`` and wait for the page to finish running."""
    tab.get_by_role("link", name=title).first.click()
    wait_idle(tab)
