"""In Chromium: two browser sessions train at once on different uploads and never see each other's data or runs.

Session A uploads ``alpha_people.csv`` (columns ``alpha_*``), session B ``beta_people.csv`` (columns ``beta_*``);
both start a training run, so that the two jobs are active (running, or one queued behind the other) at the same
time. Each session keeps its own workspace (``?ws=``, a folder of its own under ``FAIRGEN_RUNS_DIR``), its own
Data page, its own run list and its own exports; a visitor without the ``ws`` parameter sees neither.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from fairgen_core.data.io import read_csv
from fairgen_core.runs.jobs import TrainingJob, read_job
from fairgen_core.runs.process import JobState
from tests.e2e.conftest import ACTION_TIMEOUT_MS, open_page, wait_idle
from tests.e2e.helpers import (
    RUNS_LABEL,
    attach_run,
    main_text,
    multiselect_add,
    multiselect_values,
    poll,
    set_number,
    upload,
    wait_text,
)

ROWS = 400
EPOCHS = 2_000  # far more than the test waits for: it stops both runs itself once they have a model
TRAIN_TIMEOUT_S = 120
ACTIVE = re.compile(r"\bRunning\b|\bQueued\b")


def synthetic_table(prefix: str, seed: int) -> pd.DataFrame:
    """``ROWS`` rows: a numeric column, a two-valued group (60/40), three features and a two-valued label last."""
    rng = np.random.default_rng(seed)
    group = np.where(rng.random(ROWS) < 0.6, "north", "south") if prefix == "alpha" else \
        np.where(rng.random(ROWS) < 0.6, "m", "f")
    income = rng.normal(50_000, 12_000, ROWS).round(0) + np.where(group == group[0], 5_000, 0)
    features = {f"{prefix}_feature{i}": rng.integers(0, 5 * i, ROWS) for i in (1, 2, 3)}
    favourable = rng.random(ROWS) < 0.5
    label = np.where(favourable, "yes", "no") if prefix == "alpha" else np.where(favourable, "good", "bad")
    return pd.DataFrame({f"{prefix}_income": income, f"{prefix}_group": group, **features,
                         f"{prefix}_label": label})


@dataclass
class Session:
    """One browser context (its own Streamlit session) and the upload it works on."""

    prefix: str  # "alpha" or "beta": every column of its upload starts with it
    csv: Path
    columns: list[str]
    page: object = None
    context: object = None
    workspace: str = ""
    run: Path | None = None
    url: str = ""
    seen: dict[str, object] = field(default_factory=dict)  # what the fixture saw (the tests check it)

    @property
    def file_name(self) -> str:
        return self.csv.name

    @property
    def label(self) -> str:
        return self.columns[-1]

    @property
    def sensitive(self) -> str:
        return f"{self.prefix}_group"

    @property
    def favourable(self) -> str:
        return "yes" if self.prefix == "alpha" else "good"


def workspace_of(page) -> str:
    """The session's workspace id, once the app has written it into the URL (it may rerun after it is idle)."""
    page.wait_for_function("new URLSearchParams(window.location.search).has('ws')")
    (workspace,) = parse_qs(urlparse(page.url).query)["ws"]
    return workspace


def options_of(page, label: str) -> list[str]:
    """The options listed by the select box labelled ``label`` (opened, read, closed again).

    A click that lands while the page reruns (the Train page polls its run every second) may leave the list
    closed: it is clicked again then.
    """
    box, options = page.get_by_role("combobox", name=label, exact=True), page.get_by_role("option")
    for _ in range(10):
        wait_idle(page)
        box.click()
        try:
            options.first.wait_for(timeout=3_000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        texts = [text.strip() for text in options.all_inner_texts()]
        page.keyboard.press("Escape")
        options.first.wait_for(state="hidden")
        return texts
    raise AssertionError(f"the options of '{label}' did not open")


def choose_upload(session: Session) -> None:
    """Data page: upload the session's CSV, keep the last column as label and choose its favourable value (a
    yes/no or good/bad label gets none preselected), add the group column as sensitive attribute (its most
    frequent value preselected as privileged)."""
    page = session.page
    upload(page, session.csv)
    wait_text(page, f"{session.file_name} — {ROWS} rows × {len(session.columns)} columns")
    wait_idle(page)
    assert page.get_by_role("combobox", name="Label column", exact=True).input_value() == session.label
    assert multiselect_values(page, "Favourable label value(s)") == []
    multiselect_add(page, "Favourable label value(s)", session.favourable)
    multiselect_add(page, "Sensitive attribute(s)", session.sensitive)
    wait_text(page, f"{session.sensitive}: privileged value(s)")
    wait_text(page, "Groups and labels")
    wait_idle(page)
    assert multiselect_values(page, "Favourable label value(s)") == [session.favourable]


def start_training(session: Session) -> None:
    """Train page: many epochs, no early stopping, on the CPU; Start. The run is queued or running afterwards."""
    page = session.page
    open_page(page, "", "Train generator")
    wait_text(page, f"Data: {session.file_name} — label {session.label}", timeout_ms=60_000)
    wait_text(page, "No run yet: start one above.")
    set_number(page, "Epochs (at most)", EPOCHS)
    set_number(page, "Early-stopping patience (0: never)", 0)
    page.get_by_text("cpu", exact=True).click()
    page.get_by_role("button", name="Start training").click()
    wait_text(page, ACTIVE, timeout_ms=90_000)
    wait_idle(page)


def data_page_view(page) -> dict[str, object]:
    """What the Data page shows: its text, the label column's options and the sensitive attributes chosen."""
    return {"text": main_text(page), "label options": options_of(page, "Label column"),
            "sensitive": multiselect_values(page, "Sensitive attribute(s)")}


def run_options(session: Session) -> list[str]:
    """The entries of the Train page's run list ('name · state · created')."""
    return options_of(session.page, RUNS_LABEL)


def stop_when_it_has_a_model(session: Session) -> None:
    """Wait (on the Train page) until the run is running and has saved a model, then press Stop."""
    page, job = session.page, TrainingJob(session.run)
    wait_text(page, re.compile(r"\bRunning\b"), timeout_ms=TRAIN_TIMEOUT_S * 1000)
    poll(lambda: job.model_path.is_file(), bool, TRAIN_TIMEOUT_S, f"a checkpoint in {session.run}")
    wait_idle(page)
    page.get_by_role("button", name="Stop training").click()
    wait_text(page, re.compile(r"\bStopped\b"), timeout_ms=60_000)
    wait_idle(page)
    assert job.status().state is JobState.STOPPED and job.model_path.is_file()


def download(page, button: str, folder: Path) -> tuple[str, bytes]:
    """Click the download button labelled ``button``; the file's suggested name and its bytes."""
    with page.expect_download(timeout=120_000) as started:
        page.get_by_role("button", name=button).click()
    file = started.value
    target = folder / file.suggested_filename
    file.save_as(target)
    return file.suggested_filename, target.read_bytes()


def export_synthetic(session: Session, server: str, folder: Path) -> tuple[str, bytes]:
    """Re-attach the session's run from its run list, generate the default number of rows on Export, download."""
    page = session.page
    attach_run(page, server, session.workspace, session.run)
    open_page(page, server, "Export")
    wait_text(page, "Balanced synthetic data", timeout_ms=90_000)
    wait_text(page, f"Run '{session.run.name}' on {session.file_name}")
    wait_text(page, f"Generate {ROWS} rows").click()
    wait_text(page, f"Download {ROWS} rows (CSV", timeout_ms=120_000)
    wait_idle(page)
    return download(page, f"Download {ROWS} rows", folder)


def new_context(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    return context


def run_folders(workspace: Path) -> list[Path]:
    """The run folders of a workspace (its ``.session`` folder of kept choices is not a run)."""
    return sorted(path for path in workspace.iterdir() if path.is_dir() and not path.name.startswith("."))


@pytest.fixture(scope="module")
def sessions(browser, server: str, runs_dir: Path, tmp_path_factory) -> Iterator[tuple[Session, Session]]:
    """Sessions A and B after training at once: uploads chosen, both runs started and active together, then
    A's stopped (with a model) while B's goes on, then B's. What each session showed on the way is kept in
    ``Session.seen`` (the runs are no longer active when the tests run: conftest stops leftovers after each
    test); the browser contexts stay open for the tests."""
    folder = tmp_path_factory.mktemp("two-sessions")
    a, b = (Session(prefix, folder / f"{prefix}_people.csv", []) for prefix in ("alpha", "beta"))
    for session, seed in ((a, 1), (b, 2)):
        table = synthetic_table(session.prefix, seed)
        table.to_csv(session.csv, index=False)
        session.columns = list(table.columns)
    try:
        # both sessions open the dashboard side by side: two Streamlit sessions, two workspaces
        for session in (a, b):
            session.context = new_context(browser)
            session.page = session.context.new_page()
            session.page.goto(server)
        for session in (a, b):
            wait_idle(session.page)
            session.workspace = workspace_of(session.page)
        for session in (a, b):
            choose_upload(session)

        # A starts a long run; B starts one while A's is active
        start_training(a)
        start_training(b)
        (a.run,) = run_folders(runs_dir / a.workspace)
        (b.run,) = run_folders(runs_dir / b.workspace)
        for session in (a, b):
            session.url = session.page.url  # the Train page, with the session's ?ws=
        states = lambda: [TrainingJob(s.run).status().state.value for s in (a, b)]  # noqa: E731
        for session in (a, b):
            session.seen["states at start"] = states()
            session.seen["run list"] = run_options(session)
            session.seen["train text"] = main_text(session.page)
        for session in (a, b):
            open_page(session.page, server, "Data")
            wait_text(session.page, session.file_name)
            session.seen["data page"] = data_page_view(session.page)
            session.seen["data page ws"] = workspace_of(session.page)
        for session in (a, b):
            session.seen["states after data pages"] = states()
            open_page(session.page, server, "Train generator")
            wait_text(session.page, ACTIVE)

        # A stops (once it has a model); B's run goes on, then gets the slot if it was queued, and stops too
        stop_when_it_has_a_model(a)
        b.seen["state after A stopped"] = TrainingJob(b.run).status().state.value
        b.seen["train text after A stopped"] = main_text(b.page)
        stop_when_it_has_a_model(b)
        for session in (a, b):
            session.seen["run list after stop"] = run_options(session)
            session.seen["train text after stop"] = main_text(session.page)
        yield a, b
    finally:
        for session in (a, b):
            if session.context is not None:
                session.context.close()
            # a setup that failed half-way must not leave its workers training (the autouse clean-up of
            # conftest only runs after a test, and no test runs then)
            if session.workspace:
                for job_file in (runs_dir / session.workspace).glob("*/job.json"):
                    if (job := TrainingJob(job_file.parent)).is_active:
                        job.stop(timeout=20)


def test_the_sessions_have_their_own_workspaces_and_run_folders(sessions, runs_dir: Path) -> None:
    a, b = sessions
    assert re.fullmatch(r"[0-9a-f]{16}", a.workspace) and re.fullmatch(r"[0-9a-f]{16}", b.workspace)
    assert a.workspace != b.workspace
    assert f"ws={a.workspace}" in a.url and f"ws={b.workspace}" in b.url
    for session in (a, b):
        assert run_folders(runs_dir / session.workspace) == [session.run]
        assert TrainingJob(session.run).name == session.file_name
        # the run re-reads its own upload: the table it trained on has only its session's columns
        assert list(read_csv(session.run / "data.csv").frame.columns) == session.columns
        job = read_job(session.run)
        assert (job.data_name, job.spec.label, job.spec.sensitive_columns) == \
            (session.file_name, session.label, (session.sensitive,)), job
        assert set(job.kinds) == set(session.columns)


def test_both_runs_were_active_at_once(sessions) -> None:
    a, b = sessions
    for session in (a, b):
        for moment in ("states at start", "states after data pages"):
            states = session.seen[moment]
            assert all(state in ("running", "queued") for state in states), (moment, states)
    # B's run was left alone by A's Stop
    assert b.seen["state after A stopped"] in ("running", "queued")
    assert "Stopped" not in b.seen["train text after A stopped"]


def test_each_run_list_shows_only_its_own_run(sessions) -> None:
    a, b = sessions
    for session, other in ((a, b), (b, a)):
        (entry,) = session.seen["run list"]
        assert re.match(rf"^{re.escape(session.file_name)} · (running|queued) · ", entry), entry
        (entry,) = session.seen["run list after stop"]
        assert entry.startswith(f"{session.file_name} · stopped · "), entry
        for text in (session.seen["train text"], session.seen["train text after stop"]):
            assert f"run {session.run.name}" in text
            assert other.file_name not in text and other.run.name not in text and f"{other.prefix}_" not in text


def test_each_data_page_shows_its_own_upload_while_both_train(sessions) -> None:
    a, b = sessions
    for session, other in ((a, b), (b, a)):
        view = session.seen["data page"]
        assert session.file_name in view["text"]
        assert other.file_name not in view["text"] and f"{other.prefix}_" not in view["text"]
        assert view["label options"] == session.columns
        assert view["sensitive"] == [session.sensitive]
        assert session.seen["data page ws"] == session.workspace


def test_a_reload_of_its_own_url_shows_only_its_own_data_and_runs(sessions, server: str) -> None:
    """A reload starts a new Streamlit session in the same workspace: the run list finds the run again.

    The Data page of the new session starts afresh (the upload lived in the old session's state), so only the
    absence of the other session's file and columns is checked there.
    """
    a, b = sessions
    for session, other in ((a, b), (b, a)):
        page = session.page
        page.goto(session.url)  # the Train page with the session's ?ws=
        wait_idle(page)
        assert workspace_of(page) == session.workspace
        wait_text(page, "Train generator")
        (entry,) = run_options(session)
        assert entry.startswith(f"{session.file_name} · stopped · "), entry
        assert other.file_name not in main_text(page) and other.run.name not in main_text(page)
        open_page(page, server, "Data")
        wait_text(page, "Data source")
        view = data_page_view(page)
        assert workspace_of(page) == session.workspace
        assert other.file_name not in view["text"] and f"{other.prefix}_" not in view["text"], view["text"]
        assert not any(option.startswith(f"{other.prefix}_") for option in view["label options"])


def test_each_export_offers_only_its_own_columns(sessions, server: str, tmp_path: Path) -> None:
    a, b = sessions
    for session, other in ((a, b), (b, a)):
        name, data = export_synthetic(session, server, tmp_path)
        assert name == f"fairgen_{session.prefix}_people_synthetic_{ROWS}.csv"
        synthetic = read_csv(data, name=name).frame
        assert list(synthetic.columns) == session.columns
        assert not any(column.startswith(f"{other.prefix}_") for column in synthetic.columns)
        assert len(synthetic) == ROWS
        assert set(synthetic[session.sensitive]) <= set(read_csv(session.csv).frame[session.sensitive])
        assert other.file_name not in main_text(session.page)


def test_the_url_without_its_workspace_shows_neither_sessions_runs(sessions, browser, server: str,
                                                                   runs_dir: Path) -> None:
    a, b = sessions
    bare = a.url.split("?", 1)[0]  # A's Train page, without ?ws=
    context = new_context(browser)
    try:
        page = context.new_page()
        page.goto(bare)
        wait_idle(page)
        wait_text(page, "No run yet: start one above.")
        stranger = workspace_of(page)
        assert stranger not in (a.workspace, b.workspace)
        assert page.get_by_role("combobox", name=RUNS_LABEL, exact=True).count() == 0
        text = main_text(page)
        for session in (a, b):
            assert session.file_name not in text and session.run.name not in text
        assert not (runs_dir / stranger).exists() or not run_folders(runs_dir / stranger)
        open_page(page, server, "Export")  # no current run there either
        wait_text(page, "No trained generator yet")
    finally:
        context.close()
