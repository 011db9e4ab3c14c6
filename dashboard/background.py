"""Start, watch and stop a run's background analyses (``fairgen_core.tasks``) from a page."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from fairgen_core.config import ClassifierConfig
from fairgen_core.errors import FairGenError
from fairgen_core.tasks import start_task, stop_task, task_status

POLL_S = 1.0


def analysis_controls(run: Path, name: str, label: str, *, help_text: str, extra: list[str] | None = None) -> None:
    """Settings and Start/Stop for analysis ``name`` ("sweep" or "compare") of ``run``, with live status.

    While the analysis runs, a fragment polls its state every second; when it ends the whole page reruns so
    that the new results table is drawn. ``extra`` command-line options are added to the start command.
    """
    status = task_status(run, name)
    with st.expander(label, expanded=status.state in ("idle", "running", "failed", "stopped")):
        left, right = st.columns(2)
        repetitions = left.number_input("Repetitions (classifier seeds)", 1, 10, 3, key=f"{name}.reps",
                                        help="Mean ± std over this many seeds; error bands in the charts.")
        epochs = right.number_input("Classifier epochs (at most)", 5, 500, ClassifierConfig().max_epochs,
                                    key=f"{name}.epochs", help="Early stopping on the validation split.")
        st.caption(help_text)
        start, stop = st.columns(2)
        if start.button(label, key=f"{name}.start", type="primary", disabled=status.running):
            try:
                start_task(run, name, ["--reps", str(int(repetitions)), "--epochs", str(int(epochs)),
                                       *(extra or [])])
            except FairGenError as error:
                st.error(str(error))
            st.rerun()
        if stop.button("Stop", key=f"{name}.stop", disabled=not status.running):
            stop_task(run, name)
            st.rerun()
    st.fragment(run_every=POLL_S if status.running else None)(_show_status)(run, name, status.state)


def _show_status(run: Path, name: str, shown_state: str) -> None:
    status = task_status(run, name)
    if status.state != shown_state:
        st.rerun()  # finished, failed or stopped: redraw the page with the results
    if status.running:
        st.info(f"⏳ Running for {status.elapsed_s:.0f} s… you can switch pages; it keeps going.")
    elif status.state == "failed":
        st.error(f"The {name} failed:\n\n```\n{status.message}\n```")
    elif status.state == "stopped":
        st.warning(f"The {name} was stopped; start it again to get results.")
