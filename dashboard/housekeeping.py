"""Server housekeeping: old run folders are pruned at most once an hour per server process.

The policy comes from ``$FAIRGEN_RUNS_MAX_AGE_DAYS`` and ``$FAIRGEN_RUNS_MAX_GB``
(:meth:`fairgen_core.config.RetentionPolicy.from_env`; the pruning is :mod:`fairgen_core.runs.retention`'s). A bad
value does not stop the dashboard: the pages say once per session what to fix, and nothing is pruned until it is
fixed. What was removed, and what could not be, goes to the server log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import streamlit as st

from dashboard import state
from fairgen_core.config import RetentionPolicy, default_runs_base
from fairgen_core.errors import FairGenError
from fairgen_core.runs.retention import PruneReport, prune_runs

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
def prune_old_runs(base: str, policy: RetentionPolicy) -> Housekeeping:
    """Prune the runs under ``base`` as ``policy`` says (cached for an hour).

    Parameters
    ----------
    base : str
        The runs base.
    policy : RetentionPolicy
        The bounds; part of the cache key, so that a change of them (or of the base) prunes again at once.

    Returns
    -------
    Housekeeping
        The report.
    """
    report = prune_runs(base, policy)
    for run in report.removed:
        _LOG.info("removed run folder %s (%s, %d bytes)", run.path, run.reason, run.size_bytes)
    for error in report.errors:
        _LOG.warning("pruning old runs: %s", error)
    return Housekeeping(report)


@st.cache_resource(ttl=3600, show_spinner=False)
def unreadable_policy(problem: str) -> Housekeeping:
    """Nothing pruned because the policy could not be read: logged once an hour, said on the pages.

    Parameters
    ----------
    problem : str
        The configuration error's message.

    Returns
    -------
    Housekeeping
        No report, and the problem in words for the pages.
    """
    _LOG.warning("old runs are not pruned: %s", problem)
    return Housekeeping(None, f"Old runs are not cleaned up: {problem}")


def housekeeping() -> Housekeeping:
    """Prune old runs (at most once an hour) and show a configuration problem once per browser session."""
    try:
        policy = RetentionPolicy.from_env()
    except FairGenError as exc:
        outcome = unreadable_policy(str(exc))
    else:
        outcome = prune_old_runs(str(default_runs_base()), policy)
    if outcome.problem is not None and state.first_time(NOTICE):
        st.warning(outcome.problem, icon=":material/warning:")
    return outcome
