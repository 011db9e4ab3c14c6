"""Every file and folder name of run folders, queues, workspaces and experiment folders: the one place they are typed.

Torch-free and light (the dashboard's session state and housekeeping import it on every page)::

    BASE/                          the runs base (:func:`~fairgen_core.config.default_runs_base`)
      .fairgen-queue/              the training queue: TIME-RUN.wait tickets, slot-N.lock slots
      .fairgen-analyses/           the analyses' slot-N.lock slots
      WORKSPACE/
        .session/                  the dashboard's kept upload and choices: upload.bin, upload.json,
                                   choices.json, current.json
        RUN/                       a run folder
    RUN/
      manifest.json                data source and hash, spec, generator config, split, versions
      progress.jsonl               one JSON line per epoch
      model.pt                     best model + resumable training state
      sweep.csv, methods.csv       the results tables of the ratio sweep and of the comparison methods
      job.json, data.csv           a training job's description and its table's original bytes
      status.json, STOP            the job's state (heartbeat) and its stop request
      worker.log                   the training worker's output
      NAME.task.json, NAME.log, NAME.progress.json
                                   an analysis (NAME: sweep or compare): process, output, cells done
      NAME.partial.csv             the finished cells' rows while it runs (kept if it is stopped or fails)
      model_audit.json             the user's prediction columns in the run's data (the report audits them)
    OUT/                           an experiment
      manifest.json, results.csv, summary.csv, paired.csv, translation.csv
      fig2_methods.html/.png, fig3_ratio.html/.png
                                   the figures (FIGURE.png.txt says why in place of a PNG that could not be drawn)
      rep{i}/translation.json, rep{i}/generator.done, rep{i}/generator/ (the repetition's run folder)
      rep{i}/STAGE.failed.txt      why a cell (STAGE: generator, sweep or methods) failed on a cluster
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fairgen_core.errors import FairGenError

# -- a run folder ---------------------------------------------------------------------------------------------
MANIFEST = "manifest.json"
PROGRESS = "progress.jsonl"
MODEL = "model.pt"
SWEEP = "sweep.csv"
METHODS = "methods.csv"
#: The results tables a run folder may hold.
RESULT_TABLES: tuple[str, ...] = (SWEEP, METHODS)
#: The user's prediction columns recorded with the run (:mod:`fairgen_core.model_audit.run_models`).
RECORDED_MODELS = "model_audit.json"

# -- a training job's files in its run folder -----------------------------------------------------------------
JOB = "job.json"
DATA = "data.csv"
STATUS = "status.json"
STOP = "STOP"
WORKER_LOG = "worker.log"
#: A folder holding one of these is a run folder.
RUN_MARKERS: tuple[str, ...] = (JOB, MANIFEST)

# -- an analysis's files in its run folder ----------------------------------------------------------------------
#: The analyses of a run and the results table each writes.
TASK_TABLES: dict[str, str] = {"sweep": SWEEP, "compare": METHODS}
TASK_MARKER_SUFFIX = ".task.json"
TASK_LOG_SUFFIX = ".log"
TASK_PROGRESS_SUFFIX = ".progress.json"
TASK_PARTIAL_SUFFIX = ".partial.csv"

# -- queues ---------------------------------------------------------------------------------------------------
TRAINING_QUEUE = ".fairgen-queue"
ANALYSIS_QUEUE = ".fairgen-analyses"
TICKET_SUFFIX = ".wait"

# -- a dashboard workspace ------------------------------------------------------------------------------------
#: A workspace's kept upload and choices (for a page reload): pruned by age and size like a finished run.
SESSION_FOLDER = ".session"
UPLOAD_BYTES = "upload.bin"
UPLOAD_META = "upload.json"
CHOICES = "choices.json"
CURRENT = "current.json"

# -- an experiment folder -------------------------------------------------------------------------------------
EXPERIMENT_MANIFEST = MANIFEST
RESULTS = "results.csv"
SUMMARY = "summary.csv"
PAIRED = "paired.csv"
TRANSLATION_TABLE = "translation.csv"
TRANSLATION = "translation.json"
GENERATOR_DONE = "generator.done"
CELL_FAILED_SUFFIX = ".failed.txt"
FIGURE_METHODS = "fig2_methods"
FIGURE_RATIO = "fig3_ratio"
#: An experiment's figures, each written as a page, an image, and a note in place of an image that failed.
FIGURES: tuple[str, ...] = (FIGURE_METHODS, FIGURE_RATIO)
FIGURE_PAGE_SUFFIX = ".html"
FIGURE_IMAGE_SUFFIX = ".png"
FIGURE_NOTE_SUFFIX = ".png.txt"
_REPETITION_RUN = "generator"


@dataclass(frozen=True)
class TaskFiles:
    """The files of one analysis in its run folder.

    Attributes
    ----------
    marker : pathlib.Path
        ``NAME.task.json``: process id, start time and options.
    log : pathlib.Path
        ``NAME.log``: the analysis's output.
    progress : pathlib.Path
        ``NAME.progress.json``: queued, or cells done and in all.
    table : pathlib.Path
        The results table it writes (``sweep.csv`` or ``methods.csv``).
    partial : pathlib.Path
        ``NAME.partial.csv``: the rows of the cells finished so far, until the results table replaces it.
    """

    marker: Path
    log: Path
    progress: Path
    table: Path
    partial: Path


def task_files(run_dir: Path, name: str) -> TaskFiles:
    """The files of analysis ``name`` in ``run_dir``.

    Raises
    ------
    FairGenError
        If ``name`` is not an analysis (:data:`TASK_TABLES`).

    Examples
    --------
    >>> task_files(Path("run"), "sweep").progress.name
    'sweep.progress.json'
    >>> task_files(Path("run"), "compare").partial.name
    'compare.partial.csv'
    """
    if name not in TASK_TABLES:
        raise FairGenError(f"unknown analysis '{name}': use one of {', '.join(TASK_TABLES)}.")
    return TaskFiles(run_dir / f"{name}{TASK_MARKER_SUFFIX}", run_dir / f"{name}{TASK_LOG_SUFFIX}",
                     run_dir / f"{name}{TASK_PROGRESS_SUFFIX}", run_dir / TASK_TABLES[name],
                     run_dir / f"{name}{TASK_PARTIAL_SUFFIX}")


@dataclass(frozen=True)
class FigureFiles:
    """The files of one figure in an experiment folder.

    Attributes
    ----------
    page : pathlib.Path
        ``FIGURE.html``: the interactive figure, plotly.js inlined.
    image : pathlib.Path
        ``FIGURE.png``: the static image.
    note : pathlib.Path
        ``FIGURE.png.txt``: why the image could not be drawn, written in its place.
    """

    page: Path
    image: Path
    note: Path


def figure_files(out: Path, figure: str) -> FigureFiles:
    """The files of figure ``figure`` (one of :data:`FIGURES`) in the experiment folder ``out``.

    Raises
    ------
    FairGenError
        If ``figure`` is not an experiment's figure.

    Examples
    --------
    >>> figure_files(Path("out"), FIGURE_RATIO).page.as_posix()
    'out/fig3_ratio.html'
    >>> figure_files(Path("out"), FIGURE_METHODS).note.name
    'fig2_methods.png.txt'
    """
    if figure not in FIGURES:
        raise FairGenError(f"unknown figure '{figure}': use one of {', '.join(FIGURES)}.")
    return FigureFiles(out / f"{figure}{FIGURE_PAGE_SUFFIX}", out / f"{figure}{FIGURE_IMAGE_SUFFIX}",
                       out / f"{figure}{FIGURE_NOTE_SUFFIX}")


def slot_lock(queue: Path, slot: int) -> Path:
    """The lock file of slot ``slot`` in ``queue``.

    Examples
    --------
    >>> slot_lock(Path(".fairgen-analyses"), 0).name
    'slot-0.lock'
    """
    return queue / f"slot-{slot}.lock"


def queue_ticket(queue_dir: Path, run_name: str, created: float) -> Path:
    """The ticket holding the place of run ``run_name`` (submitted at Unix time ``created``) in a training queue.

    Tickets sort by submission time.

    Examples
    --------
    >>> queue_ticket(Path("runs"), "adult", 1.5).name
    '00000000000001500000-adult.wait'
    """
    return queue_dir / TRAINING_QUEUE / f"{round(created * 1e6):020d}-{run_name}{TICKET_SUFFIX}"


def repetition_dir(out: Path, repetition: int) -> Path:
    """An experiment's folder for repetition ``repetition``.

    Examples
    --------
    >>> repetition_dir(Path("out"), 2).as_posix()
    'out/rep2'
    """
    return out / f"rep{repetition}"


def repetition_run(out: Path, repetition: int) -> Path:
    """The run folder of an experiment's repetition (its generator, sweep and comparison methods).

    Examples
    --------
    >>> repetition_run(Path("out"), 0).as_posix()
    'out/rep0/generator'
    """
    return repetition_dir(out, repetition) / _REPETITION_RUN


def cell_failure(out: Path, repetition: int, stage: str) -> Path:
    """The note of why an experiment's cell failed (its reason, read back into the results table).

    Examples
    --------
    >>> cell_failure(Path("out"), 1, "sweep").as_posix()
    'out/rep1/sweep.failed.txt'
    """
    return repetition_dir(out, repetition) / f"{stage}{CELL_FAILED_SUFFIX}"
