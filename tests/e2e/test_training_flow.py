"""In Chromium: upload UCI's german.data, choose the spec, train in the background, leave and come back, stop."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from fairgen_core.runs.jobs import TrainingJob
from fairgen_core.runs.process import JobState
from tests.e2e.conftest import open_page, screenshot, shared_file, wait_idle
from tests.e2e.helpers import (
    GERMAN_PRIVILEGED,
    GERMAN_SENSITIVE,
    RUNS_LABEL,
    main_text,
    plot_points,
    poll,
    select,
    set_number,
    train_progress,
    upload_german,
    wait_text,
)

EPOCHS = 2_000  # far more than the test waits for, even on a fast machine: it stops the run itself
LOSSES = "Losses per epoch (mean over steps)"
RUNNING, STOPPED = re.compile(r"\bRunning\b"), re.compile(r"\bStopped\b")  # the run's state label


def epoch_of(page) -> int:
    progress = train_progress(page)
    assert progress is None or progress[1] == EPOCHS, progress
    return 0 if progress is None else progress[0]


def run_list_label(page) -> str:
    return page.get_by_role("combobox", name=RUNS_LABEL, exact=True).input_value()


def test_upload_train_leave_come_back_and_stop(page, server: str, runs_dir: Path) -> None:
    upload_german(page, server, shared_file("german", "german.data"))
    assert "delimiter 'space', without a header row" in main_text(page)
    screenshot(page, "03-data-upload")

    open_page(page, server, "Train generator")
    privileged = ", ".join(GERMAN_PRIVILEGED)
    wait_text(page, f"Data: german.data — label column_21, sensitive {GERMAN_SENSITIVE} ∈ {{{privileged}}}")
    wait_text(page, "No run yet: start one above.")
    set_number(page, "Epochs (at most)", EPOCHS)
    set_number(page, "Early-stopping patience (0: never)", 0)
    page.get_by_text("cpu", exact=True).click()
    page.get_by_role("button", name="Start training").click()

    # the run starts in the background and its loss chart appears and grows, epoch after epoch
    wait_text(page, RUNNING, timeout_ms=90_000)
    first = poll(lambda: epoch_of(page), lambda e: e >= 1, 90, "the first epoch")
    poll(lambda: plot_points(page, LOSSES), lambda n: n >= 1, 30, "the loss chart")
    points = plot_points(page, LOSSES)
    second = poll(lambda: epoch_of(page), lambda e: e >= first + 2, 60, f"epochs beyond {first}")
    assert poll(lambda: plot_points(page, LOSSES), lambda n: n > points, 30, "more points in the loss chart") > points
    assert "Running" in main_text(page) and second < EPOCHS
    screenshot(page, "05-train-running")

    # another page, then back: the run kept going and the page re-attaches to it
    open_page(page, server, "Data audit")
    wait_text(page, "Group sizes and base rates", timeout_ms=90_000)
    wait_idle(page)
    screenshot(page, "04-audit-upload")
    time.sleep(1)
    open_page(page, server, "Train generator")
    wait_text(page, RUNNING)
    assert run_list_label(page).startswith("german.data · running · ")
    back = poll(lambda: epoch_of(page), lambda e: e > second, 60, f"epochs beyond {second} after coming back")
    poll(lambda: epoch_of(page), lambda e: e > back, 60, f"epochs beyond {back}: still training")

    # stop: reported stopped, long before the epoch limit, with the downloads of a finished run
    page.get_by_role("button", name="Stop training").click()
    wait_text(page, STOPPED, timeout_ms=60_000)
    wait_idle(page)
    assert "Running" not in main_text(page)
    assert run_list_label(page).startswith("german.data · stopped · ")
    stopped_at = epoch_of(page)
    assert back < stopped_at < EPOCHS
    page.get_by_role("button", name="Download the model (model.pt)").wait_for()
    # the worker has really stopped: its run folder (in the workspace of the URL) gains no epoch
    workspace = runs_dir / parse_qs(urlparse(page.url).query)["ws"][0]
    (folder,) = [path for path in workspace.iterdir() if not path.name.startswith(".")]  # .session: kept choices
    job = TrainingJob(folder)
    assert job.status().state is JobState.STOPPED and job.progress()[-1]["epoch"] == stopped_at
    time.sleep(2)
    assert job.progress()[-1]["epoch"] == stopped_at


def test_the_run_list_shows_a_running_run_as_running(page, server: str) -> None:
    page.goto(server)
    wait_idle(page)
    select(page, "Dataset", "German credit (UCI Statlog)")
    wait_text(page, "1,000 rows", timeout_ms=90_000)  # the Data page has taken German before we leave it
    wait_idle(page)
    open_page(page, server, "Train generator")
    wait_text(page, re.compile(r"Data:\s*german —"), timeout_ms=90_000)
    set_number(page, "Epochs (at most)", EPOCHS)
    set_number(page, "Early-stopping patience (0: never)", 0)
    page.get_by_role("button", name="Start training").click()
    wait_text(page, RUNNING, timeout_ms=90_000)
    wait_text(page, re.compile(rf"Epoch \d+ of at most {EPOCHS}"), timeout_ms=90_000)
    assert run_list_label(page).startswith("german · running · "), run_list_label(page)
