"""Train generator page: start and stop a background training job, watch its losses live, reuse checkpoints.

Training runs in a worker process (:mod:`fairgen_core.runs.jobs`), so switching pages, reloading or closing the
tab does not stop it; the page only polls the run folder while the run is active.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import replace
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import state
from fairgen_core.config import NUMERIC_ENCODINGS, GeneratorConfig
from fairgen_core.data.sources import DataSource
from fairgen_core.data.spec import DatasetSpec, spec_to_dict
from fairgen_core.devices import describe_auto_device
from fairgen_core.errors import FairGenError
from fairgen_core.model_audit import RecordedModels, record_models
from fairgen_core.results.charts import fid_curve_figure, loss_figure, translation_curve_figure
from fairgen_core.runs.jobs import JobStatus, RunSummary, TrainingJob, import_checkpoint, list_runs, start_training
from fairgen_core.runs.layout import MANIFEST, MODEL
from fairgen_core.runs.process import JobState

REFRESH_S = 1.0
MAX_POINTS = 1_500  # per series: longer histories are thinned before drawing
RUNS_LABEL = "Runs in this workspace (newest first)"
STATE_LABELS = {  # Material icons: emoji render as empty boxes in some browsers (Debian's Chromium)
    JobState.QUEUED: ":material/hourglass_top: Queued — waiting for a free training slot",
    JobState.RUNNING: ":material/play_circle: Running",
    JobState.FINISHED: ":material/check_circle: Finished",
    JobState.STOPPED: ":material/stop_circle: Stopped",
    JobState.FAILED: ":material/error: Failed",
}
#: Why a finished run ended, by ``EpochReport.stopped``, for the progress bar.
END_REASONS = {"early-stopping": "early stopping", "completed": "epoch limit reached"}


def training_source(name: str) -> DataSource | None:
    """The table chosen on the Data page (with the user's column kinds); None, with a message, if it is gone."""
    source = state.current_data()
    if source is None or source.name != name:
        st.info("Open the **Data** page once more to reload the dataset, then come back.")
        return None
    return source


#: The numeric encodings in words, for the settings form.
_NUMERIC_ENCODING_WORDS = {"quantile": "quantile scores", "max-abs": "max-abs (paper)", "modes": "mixture modes"}


def settings_form(source: DataSource, spec: DatasetSpec) -> None:
    """Hyper-parameters and the Start button; a started job becomes the current run."""
    defaults = GeneratorConfig()
    with st.form("train.form", border=True):
        left, middle, right = st.columns(3)
        epochs = left.number_input("Epochs (at most)", min_value=1, max_value=100_000, value=defaults.epochs,
                                   key="train.epochs")
        patience = left.number_input("Early-stopping patience (0: never)", min_value=0, max_value=10_000,
                                     value=defaults.patience, key="train.patience",
                                     help="Epochs without a better validation FID before training stops.")
        batch_size = middle.number_input("Batch size", min_value=1, max_value=1_000_000, value=defaults.batch_size,
                                         key="train.batch_size",
                                         help="At most; small tables use smaller batches (16 steps per epoch).")
        lr = middle.number_input("Learning rate", min_value=1e-6, max_value=1.0, value=defaults.lr, step=1e-4,
                                 format="%.5f", key="train.lr")
        adversarial = right.selectbox("Adversarial loss", ["gan", "wgan-gp"], key="train.adversarial",
                                      index=["gan", "wgan-gp"].index(defaults.adversarial),
                                      format_func={"gan": "GAN (paper, Eq. 8)", "wgan-gp": "WGAN-GP"}.get)
        seed = right.number_input("Seed", min_value=0, max_value=2**31 - 1, value=defaults.seed, key="train.seed")
        numeric = right.selectbox("Numeric columns", NUMERIC_ENCODINGS, key="train.numeric_encoding",
                                  index=NUMERIC_ENCODINGS.index(defaults.encoding.numeric),
                                  format_func=_NUMERIC_ENCODING_WORDS.get,
                                  help="How numbers are encoded for the generator. Quantile scores (the default, "
                                       "chosen by measurement: docs/benchmarks.md) fit skewed and zero-inflated "
                                       "columns; max-abs is the paper's encoding.")
        calibrate = right.checkbox("Calibrate sampled rows", value=defaults.calibrated_sampling,
                                   key="train.calibrate",
                                   help="Match each (group, label) cell's column distributions to its training "
                                        "rows, keeping how columns go together (docs/benchmarks.md). Off: the "
                                        "decoder's own output, as in the paper.")
        device = st.radio("Device", ["auto", "cpu", "cuda"], horizontal=True, key="train.device",
                          index=["auto", "cpu", "cuda"].index(defaults.device))
        st.caption(describe_auto_device())
        submitted = st.form_submit_button("Start training", type="primary", key="train.start")
    if not submitted:
        return
    try:
        config = GeneratorConfig(epochs=int(epochs), patience=int(patience), batch_size=int(batch_size), lr=float(lr),
                                 adversarial=adversarial, seed=int(seed), device=device,
                                 encoding=replace(defaults.encoding, numeric=numeric),
                                 calibrated_sampling=bool(calibrate))
        job = start_training(state.runs_root(), source, spec, source.schema, config, name=source.name,
                             source_bytes=state.current_upload(), queue_dir=state.runs_root().parent)
    except (FairGenError, OSError) as error:
        st.error(f"Could not start the training: {error}")
        return
    marked = state.prediction_columns(source.name)
    if marked:  # the run's report audits the user's model too
        record_models(job.path, RecordedModels.for_columns(source.frame, marked))
    state.set_current_run(job.path)


def choose_run(runs: list[RunSummary]) -> None:
    """Pick the current run among this workspace's runs (to re-attach after a reload or from another tab)."""
    current = state.current_run()
    if current is None and (active := next((r for r in runs if r.status.state.is_active), None)) is not None:
        state.set_current_run(active.job.path)
        current = active.job.path
    if not runs:
        return
    labels = {str(r.job.path): f"{r.name} · {r.status.state.value} · "
              f"{datetime.fromtimestamp(r.status.created):%Y-%m-%d %H:%M:%S}" for r in runs}
    paths = list(labels)
    index = paths.index(str(current)) if current is not None and str(current) in labels else None
    # a new key whenever the current run or a label changes: the box then shows the current run and fresh states
    key = f"train.run.{zlib.crc32(repr((str(current), labels)).encode()):08x}"
    choice = st.selectbox(RUNS_LABEL, paths, index=index, format_func=labels.get,
                          placeholder="Choose a run to open", key=key)
    if choice is not None and choice != str(current):
        state.set_current_run(choice)
        st.rerun()


def describe_selection(name: str, spec: DatasetSpec) -> str:
    """A dataset with its label and sensitive attributes in words (markdown)."""
    return f"{name} — label `{spec.label}`, sensitive " + "; ".join(a.describe() for a in spec.sensitive)


def selection_note(job: TrainingJob, current: tuple[str, DatasetSpec] | None) -> None:
    """Warn when the run shown was trained on other data, label or sensitive attributes than the current selection."""
    if current is None:
        return
    try:
        name, spec = job.trained_on()
    except FairGenError:
        return  # the run view says what is wrong with the folder
    if name != current[0] or spec_to_dict(spec) != spec_to_dict(current[1]):
        st.warning(f"The run shown was trained on **{describe_selection(name, spec)}**, not on the current "
                   f"selection **{describe_selection(*current)}**: its curves and model are about the data it was "
                   "trained on. Start a training above for the current selection, or choose another run.")


def kept_positions(n: int) -> list[int]:
    """At most ``MAX_POINTS`` evenly spaced positions of ``n`` points, the last one kept."""
    step = max(math.ceil(n / MAX_POINTS), 1)
    return [*range(0, n - 1, step), n - 1] if step > 1 else list(range(n))


def thin(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`kept_positions` of a frame's rows."""
    return frame.iloc[kept_positions(len(frame))]


def thin_entries(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """:func:`kept_positions` of a list of progress entries."""
    return [entries[i] for i in kept_positions(len(entries))]


def loss_chart(frame: pd.DataFrame, x: str, title: str, key: str) -> None:
    """One small panel per loss term (their scales differ by orders of magnitude), titled in words."""
    st.plotly_chart(loss_figure(thin(frame), x, title), key=key)


def show_curves(progress: list[dict[str, Any]]) -> None:
    """Losses per epoch, the last epoch's per-step losses, the validation FID and translation fidelity."""
    if not progress:
        st.caption("The curves appear after the first epoch.")
        return
    per_epoch = pd.DataFrame([{"epoch": p["epoch"], **p["losses"]} for p in progress])
    loss_chart(per_epoch, "epoch", "Losses per epoch (mean over steps)", "train.loss_epochs")
    steps = progress[-1].get("step_losses") or {}
    if steps:
        per_step = pd.DataFrame(steps).rename_axis("step").reset_index()
        loss_chart(per_step, "step", f"Losses per step in epoch {progress[-1]['epoch']}", "train.loss_steps")
    evaluated = [p for p in progress if p.get("val_fid") is not None]
    if evaluated:
        st.plotly_chart(fid_curve_figure(thin_entries(evaluated)), key="train.fid")
    if any(p.get("val_translation") is not None for p in evaluated):
        st.plotly_chart(translation_curve_figure(thin_entries(evaluated)), key="train.translation")


def show_status(job: TrainingJob, status: JobStatus, progress: list[dict[str, Any]]) -> None:
    """State, progress bar, speed, ETA and the Stop button."""
    st.markdown(f"**{STATE_LABELS[status.state]}** — run `{job.path.name}`")
    if status.state is JobState.FAILED:
        st.error(status.message or "The training failed.")
    elif status.message and not status.state.is_active:
        st.caption(status.message)
    for notice in dict.fromkeys(p["notice"] for p in progress if p.get("notice")):
        st.warning(notice)
    last = progress[-1] if progress else None
    if last is not None:
        st.progress(*progress_bar(status.state, last))
        speed, left, fid = st.columns(3)
        speed.metric("Rows per second", f"{last['rows_per_s']:,.0f}")
        left.metric("At most left (epoch limit)", _duration(time_to_limit(last)) if status.state.is_active else "—",
                    help=time_left_help(last))
        fid.metric("Best validation FID", "—" if last.get("best_fid") is None else f"{last['best_fid']:.3f}")
    if not status.state.is_active:
        return
    if job.stop_requested:
        st.caption("Stopping: the run ends after the current batch and keeps its best model.")
    elif st.button("Stop training", key="train.stop"):
        try:
            job.request_stop()
        except OSError as error:
            st.error(f"Could not ask the run to stop: {error}")
        else:
            st.caption("Stopping: the run ends after the current batch and keeps its best model.")


def progress_bar(state: JobState, last: dict[str, Any]) -> tuple[float, str]:
    """The progress bar's fill and text: the epoch while active; once ended, where and why (a full bar)."""
    epoch, limit = last["epoch"], last["epochs"]
    if state.is_active:
        return min(epoch / limit, 1.0), f"Epoch {epoch} of at most {limit}"
    if state is JobState.FAILED:
        return min(epoch / limit, 1.0), f"Failed after epoch {epoch} of at most {limit}"
    reason = "on request" if state is JobState.STOPPED else END_REASONS.get(last.get("stopped"))
    return 1.0, f"{state.value.capitalize()} at epoch {epoch} of at most {limit}" + (f" ({reason})" if reason else "")


def time_to_limit(last: dict[str, Any]) -> float:
    """Seconds until the epoch limit at the speed so far: the most the run can still take."""
    return last["elapsed_s"] / max(last["epoch"], 1) * max(last["epochs"] - last["epoch"], 0)


def time_left_help(last: dict[str, Any]) -> str:
    """What the time left means, with the earlier end early stopping would bring."""
    text = f"Time to epoch {last['epochs']} (the limit) at the current speed."
    if last["eta_s"] < 0.99 * time_to_limit(last):
        text += (f" Early stopping ends the run sooner, after about {_duration(last['eta_s'])}, unless the "
                 "validation score improves again.")
    return text


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}" if minutes >= 60 else f"{minutes}:{secs:02d}"


def show_run(job: TrainingJob) -> None:
    """The live view (polled every ``REFRESH_S`` while active, static afterwards) and the downloads."""
    shown = job.status().state
    active = shown.is_active

    @st.fragment(run_every=REFRESH_S if active else None)
    def live() -> None:
        status, progress = job.status(), job.progress()
        if active and status.state is not shown:
            st.rerun()  # queued → running, or finished: redraw the page (run list, downloads; polling stops)
        show_status(job, status, progress)
        show_curves(progress)

    live()
    if active:
        return
    downloads = st.columns(2)
    if job.model_path.is_file():
        downloads[0].download_button(f"Download the model ({MODEL})", data=job.model_path.read_bytes,
                                     file_name=f"{job.path.name}.pt", mime="application/octet-stream",
                                     on_click="ignore", key="train.download_model")
    if (manifest := job.path / MANIFEST).is_file():
        downloads[1].download_button(f"Download the run manifest ({MANIFEST})", data=manifest.read_bytes,
                                     file_name=f"{job.path.name}-{MANIFEST}", mime="application/json",
                                     on_click="ignore", key="train.download_manifest")


def load_checkpoint(source: DataSource, spec: DatasetSpec) -> None:
    """Upload a ``.pt`` checkpoint; checked against the current dataset and spec, it becomes the current run."""
    with st.expander("Use a trained checkpoint instead"):
        upload = st.file_uploader("Generator checkpoint (.pt from this page or `fit`)", type=["pt"],
                                  key="train.checkpoint")
        if not st.button("Load the checkpoint", key="train.load", disabled=upload is None) or upload is None:
            return
        try:
            job = import_checkpoint(state.runs_root(), upload.getvalue(), source, spec, source.schema,
                                    name=upload.name, source_bytes=state.current_upload())
        except (FairGenError, OSError) as error:
            st.error(str(error))
            return
        state.set_current_run(job.path)
        st.success(f"Loaded '{upload.name}': it is now the current run.")


st.title("Train generator")
st.caption("Train the VAE-GAN translator on the chosen data. Training runs in the background: you can switch "
           "pages or reload and come back to it.")
current = state.current_spec()
source = None
if current is None:
    st.info("Choose a dataset, its label and its sensitive attribute(s) on the **Data** page first.")
else:
    name, spec = current
    st.markdown(f"**Data:** {describe_selection(name, spec)}")
    source = training_source(name)
    if source is not None:
        settings_form(source, spec)
st.subheader("Run")
choose_run(list_runs(state.runs_root()))
run_path = state.current_run()
if run_path is None:
    st.caption("No run yet: start one above.")
else:
    try:
        job = TrainingJob(run_path)
        selection_note(job, current)
        show_run(job)
    except FairGenError as error:
        st.error(str(error))
if source is not None and current is not None:
    load_checkpoint(source, current[1])
