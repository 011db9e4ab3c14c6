"""Server housekeeping: old run folders are pruned at most once an hour per server process.

The policy comes from ``$FAIRGEN_RUNS_MAX_AGE_DAYS`` and ``$FAIRGEN_RUNS_MAX_GB`` (see
:mod:`fairgen_core.runs.retention`). A bad value does not stop the dashboard: the pages say once per session what
to fix, and nothing is pruned until it is fixed. What was removed, and what could not be, goes to the server log.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import streamlit as st

from dashboard import state
from fairgen_core.config import default_runs_base
from fairgen_core.errors import FairGenError
from fairgen_core.runs.retention import MAX_AGE_ENV, MAX_GB_ENV, PruneReport, RetentionPolicy, prune_runs

_LOG = logging.getLogger(__name__)
NOTICE = "housekeeping"


@dataclass(frozen=True)
class Housekeeping:
    """The outcome of one pruning.

    Attributes
    ----------
    report : PruneReport or None
        What was removed; None when the policy could not be read.
    problem : str or None
        Why nothing was pruned (a bad environment variable), for the pages to show.
    """

    report: PruneReport | None
    problem: str | None = None


@st.cache_resource(ttl=3600, show_spinner=False)
def prune_old_runs(base: str, max_age: str | None, max_gb: str | None) -> Housekeeping:
    """Prune the runs under ``base`` with the policy of the given variable values (cached for an hour).

    Parameters
    ----------
    base : str
        The runs base.
    max_age, max_gb : str or None
        The values of ``$FAIRGEN_RUNS_MAX_AGE_DAYS`` and ``$FAIRGEN_RUNS_MAX_GB`` (None: unset); passed in so
        that a change of them (or of the base) prunes again at once.

    Returns
    -------
    Housekeeping
        The report, or the configuration problem that prevented pruning.
    """
    values = {name: value for name, value in ((MAX_AGE_ENV, max_age), (MAX_GB_ENV, max_gb)) if value is not None}
    try:
        policy = RetentionPolicy.from_env(values)
    except FairGenError as exc:
        _LOG.warning("old runs are not pruned: %s", exc)
        return Housekeeping(None, f"Old runs are not cleaned up: {exc}")
    report = prune_runs(base, policy)
    for run in report.removed:
        _LOG.info("removed run folder %s (%s, %d bytes)", run.path, run.reason, run.size_bytes)
    for error in report.errors:
        _LOG.warning("pruning old runs: %s", error)
    return Housekeeping(report)


def housekeeping() -> Housekeeping:
    """Prune old runs (at most once an hour) and show a configuration problem once per browser session."""
    outcome = prune_old_runs(str(default_runs_base()), os.environ.get(MAX_AGE_ENV), os.environ.get(MAX_GB_ENV))
    if outcome.problem is not None and state.first_time(NOTICE):
        st.warning(outcome.problem, icon=":material/warning:")
    return outcome
