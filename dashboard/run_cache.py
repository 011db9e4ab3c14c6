"""Cached access to the current run's data, model, quality and results tables, shared by the pages after Train.

Every cache key holds the run folder and the modification time of the file the value comes from, so a
re-trained model or a new run in the same folder is never served from a stale entry.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import state
from fairgen_core.data.sources import DataSource
from fairgen_core.errors import FairGenError
from fairgen_core.generator.evaluation import (
    GeneratorQuality,
    QualitySamples,
    assess_quality,
    assess_translation,
    quality_samples,
)
from fairgen_core.generator.model import FairGenerator
from fairgen_core.metrics.translation import TranslationFidelity
from fairgen_core.runs.jobs import RunSummary, list_runs
from fairgen_core.runs.layout import MANIFEST, task_files
from fairgen_core.runs.process import JobState
from fairgen_core.runs.store import RunDir, RunManifest
from fairgen_core.runs.tasks import read_partial

TRAIN_PAGE = "../pages/train.py"  # relative to the entry point, dashboard/app.py


def _mtime(path: Path) -> float:
    return path.stat().st_mtime if path.exists() else 0.0


def require_run() -> RunDir | None:
    """The current run folder with a trained model, or None after telling the user how to get one.

    Without a current run (a second tab or a reload of this workspace), the workspace's latest run with a
    trained model becomes the current one, with a note saying so.
    """
    path = state.current_run() or _latest_trained_run(list_runs(state.runs_root()))
    if path is None:
        st.page_link(TRAIN_PAGE, label="Go to Train generator", icon=":material/model_training:")
        return None
    run = RunDir(path)
    if not (path / MANIFEST).exists() or not run.model_path.exists():
        st.info("This run has no model yet: wait for its first epoch on the **Train generator** page.")
        st.page_link(TRAIN_PAGE, label="Go to Train generator", icon=":material/model_training:")
        return None
    return run


def _latest_trained_run(runs: list[RunSummary]) -> Path | None:
    """The newest finished (or stopped) run of ``runs`` with a model, made current; None after saying what there is."""
    trained = next((r for r in runs if r.status.state in (JobState.FINISHED, JobState.STOPPED)
                    and r.job.model_path.is_file()), None)
    if trained is not None:
        state.set_current_run(trained.job.path)
        st.caption(f"Showing **{trained.name}** (run `{trained.job.path.name}`), this workspace's latest trained run. "
                   "Choose another on the **Train generator** page.")
        return trained.job.path
    if runs:
        listed = "; ".join(f"**{r.name}** ({r.status.state.value})" for r in runs)
        st.info(f"No run of this workspace has a trained model yet: choose a run on the **Train generator** page "
                f"once one has finished. Runs here: {listed}.")
    else:
        st.info("No trained generator yet: train one on the **Train generator** page (or pick an earlier run "
                "there), then come back.")
    return None


@st.cache_data(max_entries=4, show_spinner="Re-reading the run's data…")
def _data(run: str, manifest_mtime: float) -> DataSource:
    return RunDir(run).open_data()


@st.cache_resource(max_entries=4, show_spinner="Loading the generator…")
def _model(run: str, model_mtime: float) -> FairGenerator:
    return FairGenerator.load(RunDir(run).model_path)


@st.cache_data(max_entries=16, show_spinner="Comparing synthetic with real rows…")
def _quality(run: str, model_mtime: float, manifest_mtime: float, sigma: float, seed: int) -> GeneratorQuality:
    path = RunDir(run)
    return assess_quality(_model(run, model_mtime), _data(run, manifest_mtime).frame, path.read_manifest().split,
                          sigma=sigma, seed=seed)


@st.cache_data(max_entries=8, show_spinner="Translating the test rows…")
def _translation(run: str, model_mtime: float, manifest_mtime: float, pairs: str, seed: int) -> TranslationFidelity:
    return assess_translation(_model(run, model_mtime), _data(run, manifest_mtime).frame,
                              RunDir(run).read_manifest().split, pairs=pairs, seed=seed)


@st.cache_data(max_entries=4, show_spinner="Drawing synthetic rows…")
def _samples(run: str, model_mtime: float, manifest_mtime: float, seed: int) -> QualitySamples:
    return quality_samples(_model(run, model_mtime), _data(run, manifest_mtime).frame,
                           RunDir(run).read_manifest().split, seed=seed)


@st.cache_data(max_entries=16, show_spinner=False)
def _manifest(run: str, manifest_mtime: float) -> RunManifest:
    return RunDir(run).read_manifest()


def run_manifest(run: RunDir) -> RunManifest | None:
    """The run's manifest (cached), or None when the folder has none or it cannot be read."""
    try:
        return _manifest(str(run.path), _mtime(run.path / MANIFEST))
    except FairGenError:
        return None


def run_data(run: RunDir) -> DataSource | None:
    """The run's data, re-read and hash-checked (None after showing why it cannot be read)."""
    try:
        return _data(str(run.path), _mtime(run.path / MANIFEST))
    except FairGenError as error:
        st.error(str(error))
        return None


def run_model(run: RunDir) -> FairGenerator:
    """The run's trained generator."""
    return _model(str(run.path), _mtime(run.model_path))


def run_quality(run: RunDir, *, sigma: float, seed: int = 0) -> GeneratorQuality:
    """:func:`~fairgen_core.generator.evaluation.assess_quality` of the run's model (cached)."""
    return _quality(str(run.path), _mtime(run.model_path), _mtime(run.path / MANIFEST), float(sigma), int(seed))


def run_translation(run: RunDir, *, pairs: str = "counterfactual", seed: int = 0) -> TranslationFidelity:
    """:func:`~fairgen_core.generator.evaluation.assess_translation` of the run's model (cached)."""
    return _translation(str(run.path), _mtime(run.model_path), _mtime(run.path / MANIFEST), pairs, int(seed))


def run_samples(run: RunDir, *, seed: int = 0) -> QualitySamples:
    """The test rows and the synthetic rows the quality numbers compare (cached)."""
    return _samples(str(run.path), _mtime(run.model_path), _mtime(run.path / MANIFEST), int(seed))


@st.cache_data(max_entries=16, show_spinner=False)
def _table(run: str, name: str, modified: float) -> pd.DataFrame | None:
    return RunDir(run).read_table(name)


def run_table(run: RunDir, name: str) -> pd.DataFrame | None:
    """The results table ``name`` (``sweep.csv`` or ``methods.csv``) of ``run``, or None when not computed."""
    return _table(str(run.path), name, _mtime(run.path / name)) if (run.path / name).exists() else None


@st.cache_data(max_entries=8, show_spinner=False)
def _partial(run: str, name: str, modified: float) -> pd.DataFrame | None:
    return read_partial(run, name)


def run_partial(run: RunDir, name: str) -> pd.DataFrame | None:
    """The rows of the cells analysis ``name`` ("sweep" or "compare") of ``run`` has finished so far, or None when
    there are none (:func:`~fairgen_core.runs.tasks.read_partial`; cached until the partial table changes)."""
    path = task_files(run.path, name).partial
    return _partial(str(run.path), name, _mtime(path)) if path.exists() else None
