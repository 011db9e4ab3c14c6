"""Start, watch and stop a run's background analyses (``fairgen_core.runs.tasks``) from a page."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import state
from fairgen_core.config import ClassifierConfig
from fairgen_core.errors import FairGenError
from fairgen_core.runs.process import JobState
from fairgen_core.runs.tasks import TaskStatus, start_task, stop_task, task_status

POLL_S = 1.0


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
        st.warning(f"The {name} was stopped; start it again to get results.")


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
