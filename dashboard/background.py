"""Start, watch and stop a run's background analyses (``fairgen_core.runs.tasks``) from a page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import run_cache, state
from fairgen_core.config import ClassifierConfig
from fairgen_core.errors import FairGenError
from fairgen_core.runs.process import JobState
from fairgen_core.runs.store import RunDir
from fairgen_core.runs.tasks import TaskStatus, start_task, stop_task, task_status

POLL_S = 1.0
#: How often the partial results of a running analysis are redrawn (its progress bar: every :data:`POLL_S`).
PARTIAL_POLL_S = 3.0


def analysis_controls(run: Path, name: str, label: str, *, help_text: str, extra: list[str] | None = None) -> None:
    """Settings and Start/Stop for analysis ``name`` ("sweep" or "compare") of ``run``, with live status.

    While the analysis is queued or runs, a fragment polls its state (and cells done) every second; when it ends
    the whole page reruns so that the new results table is drawn. ``extra`` command-line options are added to
    the start command. The analyses of all workspaces share the server's analysis slots.
    """
    status = task_status(run, name)
    with st.expander(label, expanded=status.state is not JobState.FINISHED):
        left, right = st.columns(2)
        repetitions = left.number_input("Repetitions (classifier seeds)", 1, 10, 3, key=f"{name}.reps",
                                        help="Mean ± std over this many seeds; error bands in the charts.")
        epochs = right.number_input("Classifier epochs (at most)", 5, 500, ClassifierConfig().max_epochs,
                                    key=f"{name}.epochs", help="Early stopping on the validation split.")
        st.caption(help_text)
        if status.state is JobState.FINISHED and status.seconds_per_cell is not None:
            st.caption(f"Measured last time on this run: {status.done} cells in "
                       f"{about(status.seconds_per_cell * status.done)} ({about(status.seconds_per_cell)} per cell).")
        start, stop = st.columns(2)
        if start.button(label, key=f"{name}.start", type="primary", disabled=status.is_active):
            try:
                start_task(run, name, ["--reps", str(int(repetitions)), "--epochs", str(int(epochs)),
                                       *(extra or [])], queue_dir=state.runs_root().parent)
            except FairGenError as error:
                st.error(str(error))
            else:
                st.rerun()
        if stop.button("Stop", key=f"{name}.stop", disabled=not status.is_active):
            stop_task(run, name)
            st.rerun()
    st.fragment(run_every=POLL_S if status.is_active else None)(_show_status)(run, name, status.state)


def _show_status(run: Path, name: str, shown_state: JobState) -> None:
    status = task_status(run, name)
    if status.state != shown_state:
        st.rerun()  # started, finished, failed or stopped: redraw the page (buttons, results)
    if status.state is JobState.QUEUED:
        st.info(f"Queued, {status.message} It starts by itself; you can switch pages.",
                icon=":material/hourglass_top:")
    elif status.is_active:
        st.progress(status.done / status.total if status.total else 0.0, text=progress_text(status))
        st.caption("You can switch pages; it keeps going.")
    elif status.state is JobState.FAILED:
        st.error(f"The {name} failed:\n\n```\n{status.message}\n```")
    elif status.state is JobState.STOPPED:
        st.warning(f"The {name} was stopped; start it again to get all the results.")


def partial_results(run: RunDir, name: str, draw: Callable[[pd.DataFrame], None]) -> bool:
    """The results of analysis ``name`` of ``run`` so far, while it is queued or runs, or once it stopped or failed.

    While it is active a fragment redraws them every :data:`PARTIAL_POLL_S` seconds: a label (cells done of all,
    the time left) and ``draw(rows)`` of the finished cells' rows (:func:`~dashboard.run_cache.run_partial`), or a
    note until the first cell finishes. A stopped or failed analysis's finished cells are drawn once, labelled so.

    Returns
    -------
    bool
        True when partial results (or the note) were shown: the page shows no results table then; False when the
        analysis is idle or finished, or stopped or failed before its first cell.
    """
    status = task_status(run.path, name)
    if status.is_active:
        st.fragment(run_every=PARTIAL_POLL_S)(_show_partial)(run, name, draw)
        return True
    if status.state in (JobState.STOPPED, JobState.FAILED) and run_cache.run_partial(run, name) is not None:
        _show_partial(run, name, draw)
        return True
    return False


def _show_partial(run: RunDir, name: str, draw: Callable[[pd.DataFrame], None]) -> None:
    status, rows = task_status(run.path, name), run_cache.run_partial(run, name)
    if rows is None:
        if status.is_active:
            st.info("The results appear here cell by cell as they finish.", icon=":material/hourglass_top:")
        return
    st.markdown(f"**{partial_label(status, name)}**")
    draw(rows)


def partial_label(status: TaskStatus, name: str) -> str:
    """What partial results hold: ``"Partial results: 3 of 13 cells · about 2 min left"`` while the analysis runs.

    Examples
    --------
    >>> partial_label(TaskStatus(JobState.STOPPED, done=4, total=13), "sweep")
    'Partial results: 4 of 13 cells, the sweep was stopped'
    """
    cells = f"Partial results: {status.done} of {status.total} cells" if status.total else "Partial results"
    if status.state is JobState.STOPPED:
        return f"{cells}, the {name} was stopped"
    if status.state is JobState.FAILED:
        return f"{cells}, the {name} failed"
    return cells if status.eta_s is None else f"{cells} · about {about(status.eta_s)} left"


def progress_text(status: TaskStatus) -> str:
    """Cells done of all, the last one, and the time left estimated from the measured time per cell."""
    if not status.total:
        return f"Starting: reading the run and its model ({about(status.elapsed_s)} so far)…"
    done = f"{status.done} of {status.total} cells done" + (f" (last: {status.last})" if status.done else "")
    if status.eta_s is None or status.seconds_per_cell is None:
        return f"{done} · measuring the time per cell…"
    return f"{done} · about {about(status.eta_s)} left at {about(status.seconds_per_cell)} per cell"


def about(seconds: float) -> str:
    """A duration in rounded words, e.g. ``"40 s"``, ``"7 min"``, ``"1 h 05 min"``.

    Examples
    --------
    >>> about(42.4), about(421), about(3_900)
    ('42 s', '7 min', '1 h 05 min')
    """
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"
