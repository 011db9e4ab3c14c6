"""Common browser steps for the end-to-end tests: widgets found by their visible labels, uploads, runs."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Locator, Page

from tests.e2e.conftest import wait_idle

RUNS_LABEL = "Runs in this workspace (newest first)"  # pages/train.py


def wait_text(page: Page, text: str | re.Pattern[str], timeout_ms: int = 60_000) -> Locator:
    """The first visible element showing ``text`` (a substring, or a regular expression)."""
    found = page.get_by_text(text).first
    found.wait_for(state="visible", timeout=timeout_ms)
    return found


def main_text(page: Page) -> str:
    """Everything the main area shows as text."""
    return page.locator('[data-testid="stMain"]').inner_text()


def poll(read: Callable[[], object], until: Callable[[object], bool], timeout_s: float, what: str) -> object:
    """Call ``read`` until ``until(value)`` holds; the last value is in the error message otherwise."""
    deadline, value = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        value = read()
        if until(value):
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}; last value: {value!r}")


def widget(page: Page, test_id: str, label: str) -> Locator:
    """The Streamlit widget container (``stSelectbox``, ``stMultiSelect``…) whose label is exactly ``label``."""
    return page.locator(f'[data-testid="{test_id}"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]').get_by_text(label, exact=True))


def select(page: Page, label: str, option: str) -> None:
    """Choose ``option`` in the select box labelled ``label`` (no-op when it is already chosen)."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.wait_for()
    if box.input_value() == option:
        return
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)
    assert box.input_value() == option


def multiselect_values(page: Page, label: str) -> list[str]:
    """The values shown as chips in the multiselect labelled ``label``."""
    chips = widget(page, "stMultiSelect", label).locator('[data-tag] span[title]')
    return [chip.get_attribute("title") or "" for chip in chips.all()]


def multiselect_add(page: Page, label: str, *options: str) -> None:
    """Add ``options`` to the multiselect labelled ``label``, one rerun each."""
    for option in options:
        if option in multiselect_values(page, label):
            continue
        box = page.get_by_role("combobox", name=label, exact=True)
        box.click()
        box.press_sequentially(option)  # a multiselect opens its list on typing, filtered
        page.get_by_role("option", name=option, exact=True).click()
        page.keyboard.press("Escape")
        wait_idle(page)
        poll(lambda: multiselect_values(page, label), lambda v, o=option: o in v, 30, f"'{option}' in '{label}'")


def multiselect_remove(page: Page, label: str, *options: str) -> None:
    """Remove the chips ``options`` from the multiselect labelled ``label``."""
    for option in options:
        widget(page, "stMultiSelect", label).get_by_role("button", name=f"Remove {option}", exact=True).click()
        wait_idle(page)
        poll(lambda: multiselect_values(page, label), lambda v, o=option: o not in v, 30,
             f"'{option}' gone from '{label}'")


def set_number(page: Page, label: str, value: float | int) -> None:
    """Type ``value`` into the number input labelled ``label`` and leave it (Tab commits it, even in a form)."""
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Tab")
    wait_idle(page)


def download(page: Page, button: str, folder: Path, timeout_ms: int = 120_000) -> tuple[str, bytes]:
    """Click the download button labelled ``button``; the file's suggested name and its bytes."""
    with page.expect_download(timeout=timeout_ms) as started:
        page.get_by_role("button", name=button).click()
    file = started.value
    target = folder / file.suggested_filename
    file.save_as(target)
    return file.suggested_filename, target.read_bytes()


def upload(page: Page, path: Path) -> None:
    """On the Data page: choose 'Upload a CSV' and give ``path`` to the file input."""
    page.get_by_text("Upload a CSV", exact=True).click()
    wait_idle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))


# -- the German credit table, uploaded as UCI ships it (space-separated, no header) -------------------------
GERMAN_ROWS = "german.data — 1,000 rows × 21 columns"
GERMAN_LABEL, GERMAN_FAVOURABLE = "column_21", "1"
GERMAN_SENSITIVE = "column_9"  # personal status and sex: A91, A93, A94 male; A92, A95 female
GERMAN_PRIVILEGED = ("A93", "A91", "A94")  # A93 is preselected (the most frequent value)


def upload_german(page: Page, server: str, path: Path) -> None:
    """Open the dashboard, upload ``german.data`` and choose label column_21 (1 favourable), column_9 male."""
    page.goto(server)
    wait_idle(page)
    upload(page, path)
    wait_text(page, GERMAN_ROWS)
    wait_idle(page)
    select(page, "Label column", GERMAN_LABEL)
    multiselect_add(page, "Favourable label value(s)", GERMAN_FAVOURABLE)
    multiselect_remove(page, "Favourable label value(s)",
                       *[v for v in multiselect_values(page, "Favourable label value(s)") if v != GERMAN_FAVOURABLE])
    multiselect_add(page, "Sensitive attribute(s)", GERMAN_SENSITIVE)
    multiselect_add(page, f"{GERMAN_SENSITIVE}: privileged value(s)", *GERMAN_PRIVILEGED)
    wait_text(page, "Groups and labels")
    wait_idle(page)


def german_spec():
    """The specification :func:`upload_german` chooses, as ``fairgen_core`` writes it."""
    from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute

    return DatasetSpec(GERMAN_LABEL, (1,), (SensitiveAttribute(GERMAN_SENSITIVE, GERMAN_PRIVILEGED),))


# -- runs -----------------------------------------------------------------------------------------------------
def open_workspace(page: Page, server: str, workspace: str, url_path: str = "") -> None:
    """Open the dashboard (or one of its pages, e.g. ``"train"``) in workspace ``workspace``."""
    page.goto(f"{server}/{url_path}?ws={workspace}")
    wait_idle(page)
    assert f"ws={workspace}" in page.url


def attach_run(page: Page, server: str, workspace: str, run: Path) -> None:
    """Open the Train page of ``workspace`` and pick the run folder ``run`` in its run list as the current run."""
    from fairgen_core.runs.jobs import TrainingJob

    open_workspace(page, server, workspace, "train")
    wait_text(page, "Train generator")
    page.get_by_role("combobox", name=RUNS_LABEL, exact=True).click()
    # entries read 'name · state · created'; each test workspace holds one run of a name
    page.get_by_role("option", name=re.compile(rf"^{re.escape(TrainingJob(run).name)} · ")).click()
    wait_idle(page)
    wait_text(page, f"run {run.name}")  # show_status: '**state** — run `folder`'


def train_progress(page: Page) -> tuple[int, int] | None:
    """(epoch, epochs) from the Train page's progress bar ('Epoch N of at most M', 'Stopped at epoch N of at most
    M (on request)'), or None before it shows."""
    bars = page.locator('[data-testid="stProgress"]')
    if not bars.count():
        return None
    match = re.search(r"[Ee]poch (\d+) of at most (\d+)", bars.first.inner_text())
    return (int(match[1]), int(match[2])) if match else None


def plot_points(page: Page, title: str) -> int:
    """Points in the first trace of the plotly chart whose title reads ``title`` (0 while there is none)."""
    return page.evaluate(
        """(title) => {
            for (const plot of document.querySelectorAll('.js-plotly-plot')) {
                const text = (plot.layout?.title?.text ?? '').replace(/<[^>]*>/g, '');
                if (text === title) return plot._fullData?.[0]?.x?.length ?? 0;
            }
            return 0;
        }""", title)


def redraw_watch(arguments: str, shown: str) -> str:
    """JavaScript for ``page.evaluate``: times a redraw after the next key press, as ``window.__redraw``.

    Records when the key is released (``t0``) and when ``shown`` — a JS expression over ``arguments`` (the
    destructured parameters, e.g. ``[values, ratio]``) that is true once the page shows the expected state — first
    holds (``t1``), checked on every DOM mutation and every animation frame.
    """
    return f"""({arguments}) => {{
    const state = window.__redraw = {{t0: null, t1: null}};
    document.addEventListener('keyup', () => {{ if (state.t0 === null) state.t0 = performance.now(); }},
                              {{capture: true, once: true}});
    const shown = () => {{ {shown} }};
    const check = () => {{
        if (state.t1 !== null) return;
        if (state.t0 !== null && shown()) {{ state.t1 = performance.now(); observer.disconnect(); return; }}
        requestAnimationFrame(check);
    }};
    const observer = new MutationObserver(check);
    observer.observe(document.body, {{subtree: true, childList: true, characterData: true, attributes: true}});
    requestAnimationFrame(check);
}}"""
