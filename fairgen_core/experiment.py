"""The paper's experimental protocol: repeated random splits, the generator, the ratio sweep and the baselines.

```
OUT/
  manifest.json          versions, seeds, configs, data hash, spec, per-cell timings
  results.csv            tidy: dataset, method, ratio, repetition, seed, selection, metric, value, note
  summary.csv            mean ± std over repetitions per (selection, method, ratio, metric)
  translation.csv        per repetition: translation fidelity of its generator on its test rows
  paired.csv             per (selection, method, ratio, metric): the mean paired difference against the
                         Baseline on the same splits, its 95% bootstrap interval (ci_low, ci_high), a verdict
  fig2_methods.html/png  Fig. 2: every method's fairness and balanced accuracy (.png.txt: why no PNG)
  fig3_ratio.html/png    Fig. 3: the metrics against the real share of the fine-tuning batches
  rep{i}/generator/      the repetition's run folder (manifest, progress, model.pt, sweep.csv, methods.csv)
```

Every cell (one repetition's generator, sweep or comparison methods) is written as soon as it finishes and is
skipped when the same experiment is run again, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pandas as pd

from fairgen_core.classifier.selection import SELECTION_RULES, check_selection
from fairgen_core.classifier.sweep import DEFAULT_RATIOS, ratio_sweep
from fairgen_core.config import ClassifierConfig, GeneratorConfig, _Serialisable, thread_budget
from fairgen_core.data.spec import DatasetSpec, spec_to_dict
from fairgen_core.data.splits import Split, default_split
from fairgen_core.devices import apply_thread_budget, library_versions
from fairgen_core.errors import FairGenError
from fairgen_core.generator.evaluation import assess_translation
from fairgen_core.generator.model import FairGenerator
from fairgen_core.generator.training import fit_generator
from fairgen_core.metrics.paired import paired_differences
from fairgen_core.mitigations import METHODS, compare_methods
from fairgen_core.results import charts
from fairgen_core.results.table import BASELINE, COLUMNS, NO_TL, TRANSFER, at_ratio, summarise
from fairgen_core.runs import layout
from fairgen_core.runs.store import RunDir, frame_hash, new_manifest

STAGES: tuple[str, ...] = ("generator", "sweep", "methods")


@dataclass(frozen=True)
class ExperimentConfig(_Serialisable):
    """What an experiment runs.

    Parameters
    ----------
    repetitions : int
        Random 70/15/15 splits (repetition ``i`` uses seed ``seed + i`` for the split, the generator and C).
    ratios : tuple of float
        Real shares of the fine-tuning batches swept for the transfer-learned classifier.
    methods : tuple of str
        Comparison methods (names in :data:`fairgen_core.mitigations.METHODS`); empty for none.
    seed : int
        Base seed.
    highlight_ratio : float
        The ratio shown beside the comparison methods in Fig. 2 (the paper's 50:50); "transfer + thresholds"
        is measured at it.
    selections : tuple of str
        Selection rules every method is chosen by on the validation rows (each gives its own rows); the
        first one is drawn in the figures.
    """

    repetitions: int = 10
    ratios: tuple[float, ...] = DEFAULT_RATIOS
    methods: tuple[str, ...] = tuple(METHODS)
    seed: int = 0
    highlight_ratio: float = 0.5
    selections: tuple[str, ...] = SELECTION_RULES

    def __post_init__(self) -> None:
        if self.repetitions <= 0:
            raise FairGenError(f"the number of repetitions must be positive, got {self.repetitions}.")
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown:
            raise FairGenError(f"unknown method(s) {unknown}: choose from {', '.join(METHODS)}.")
        if not self.ratios or any(not 0.0 <= r <= 1.0 for r in self.ratios):
            raise FairGenError(f"ratios must be a non-empty list of numbers in [0, 1], got {list(self.ratios)}.")
        object.__setattr__(self, "ratios", tuple(float(r) for r in self.ratios))
        object.__setattr__(self, "methods", tuple(self.methods))
        object.__setattr__(self, "selections", tuple(check_selection(r) for r in self.selections))
        if not self.selections:
            raise FairGenError("give at least one selection rule (accuracy, fair).")
        if not any(at_ratio(r, self.highlight_ratio) for r in self.ratios):
            raise FairGenError(f"the highlighted ratio {self.highlight_ratio} must be one of the swept ratios "
                               f"{list(self.ratios)}.")


@dataclass(frozen=True)
class CellDone:
    """One finished cell, as reported to the progress callback."""

    stage: str
    repetition: int
    seconds: float
    cached: bool
    finished: int
    total: int


@dataclass(frozen=True)
class ExperimentResult:
    """What :func:`run_experiment` wrote.

    Attributes
    ----------
    out : pathlib.Path
        The results folder.
    results, summary : pandas.DataFrame
        The tidy results and their mean ± std over repetitions.
    figures : dict of str to pathlib.Path
        Every figure's page by the figure's name (:data:`~fairgen_core.runs.layout.FIGURES`), and its image by
        the name plus ``_png`` when it could be drawn.
    """

    out: Path
    results: pd.DataFrame
    summary: pd.DataFrame
    figures: dict[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class _Task:
    """Everything one cell needs, picklable for a worker process."""

    stage: str
    repetition: int
    frame: pd.DataFrame
    spec: DatasetSpec
    data_name: str
    experiment: ExperimentConfig
    generator: GeneratorConfig
    classifier: ClassifierConfig
    out: Path
    threads: int
    keep_leaks: tuple[str, ...] = ()


def _cell_output(task_out: Path, stage: str, repetition: int) -> Path:
    run = layout.repetition_run(task_out, repetition)
    return {"generator": layout.repetition_dir(task_out, repetition) / layout.GENERATOR_DONE,
            "sweep": run / layout.SWEEP, "methods": run / layout.METHODS}[stage]


def _run_cell(task: _Task) -> float:
    """Compute one cell and write its output; returns the seconds it took."""
    apply_thread_budget(task.threads)
    started = time.perf_counter()
    seed = task.experiment.seed + task.repetition
    split = default_split(task.frame, task.spec, seed=task.experiment.seed, repetition=task.repetition)
    run = RunDir(layout.repetition_run(task.out, task.repetition))
    if task.stage == "generator":
        config = replace(task.generator, seed=seed)
        run.write_manifest(new_manifest(task.data_name, None, task.frame, task.spec, config, split))
        model = fit_generator(task.frame, task.spec, config=config, split=split, checkpoint_path=run.model_path,
                              keep_leaks=task.keep_leaks)
        _write_translation(task, model, split)
        _cell_output(task.out, "generator", task.repetition).write_text("done\n")
        return time.perf_counter() - started
    generator = FairGenerator.load(run.model_path, device=task.classifier.device)
    classifier = replace(task.classifier, seed=seed)
    if task.stage == "sweep":
        table = ratio_sweep(generator, task.frame, split, ratios=task.experiment.ratios, config=classifier,
                            thresholds_ratio=task.experiment.highlight_ratio, selections=task.experiment.selections)
        run.write_table(layout.SWEEP, table.assign(repetition=task.repetition))
    else:
        table = compare_methods(generator, task.frame, split, methods=task.experiment.methods, config=classifier,
                                selections=task.experiment.selections)
        run.write_table(layout.METHODS, table.assign(repetition=task.repetition))
    return time.perf_counter() - started


def _write_translation(task: _Task, model: FairGenerator, split: Split) -> None:
    """Translation fidelity of the repetition's generator on its test rows, as ``rep{i}/translation.json``."""
    fidelity = assess_translation(model, task.frame, split, pairs=task.classifier.pairs,
                                  seed=task.experiment.seed + task.repetition)
    path = layout.repetition_dir(task.out, task.repetition) / layout.TRANSLATION
    path.write_text(json.dumps(fidelity.to_dict(), indent=1))


def _fill_translation(task: _Task) -> None:
    """Measure the translation fidelity of a cached generator that was trained before it was recorded."""
    if not (layout.repetition_dir(task.out, task.repetition) / layout.TRANSLATION).exists():
        model = FairGenerator.load(RunDir(layout.repetition_run(task.out, task.repetition)).model_path,
                                   device=task.classifier.device)
        split = default_split(task.frame, task.spec, seed=task.experiment.seed, repetition=task.repetition)
        _write_translation(task, model, split)


def _fingerprint(frame: pd.DataFrame, spec: DatasetSpec, experiment: ExperimentConfig, generator: GeneratorConfig,
                 classifier: ClassifierConfig, keep_leaks: tuple[str, ...]) -> dict[str, Any]:
    """What the results depend on (kept leaking columns only when there are some: older folders have none)."""
    return {"data_sha256": frame_hash(frame), "spec": spec_to_dict(spec), "experiment": experiment.to_dict(),
            "generator": generator.to_dict(), "classifier": classifier.to_dict(),
            **({"keep_leaks": list(keep_leaks)} if keep_leaks else {})}


def _check_out(out: Path, fingerprint: dict[str, Any]) -> None:
    """Refuse to mix cells of a different experiment into ``out``."""
    manifest = out / layout.EXPERIMENT_MANIFEST
    if not manifest.exists():
        return
    previous = json.loads(manifest.read_text()).get("fingerprint")
    if previous != json.loads(json.dumps(fingerprint)):
        raise FairGenError(f"'{out}' holds results of a different experiment (other data, spec, seeds or "
                           "settings): choose a new results folder, or delete the old results in it first.")


def run_experiment(frame: pd.DataFrame, spec: DatasetSpec, out: str | Path, *, data_name: str,
                   experiment: ExperimentConfig = ExperimentConfig(),
                   generator: GeneratorConfig = GeneratorConfig(),
                   classifier: ClassifierConfig = ClassifierConfig(), jobs: int = 1,
                   progress: Callable[[CellDone], None] | None = None,
                   keep_leaks: Sequence[str] = ()) -> ExperimentResult:
    """Run the paper's protocol and write the results folder (see the module docstring).

    Parameters
    ----------
    frame : pandas.DataFrame
        The whole table.
    spec : DatasetSpec
        Label and sensitive attributes.
    out : str or pathlib.Path
        Results folder; finished cells found there are reused.
    data_name : str
        Dataset name recorded in the table and the manifests (a built-in name or the file's name).
    experiment, generator, classifier
        Protocol, generator and classifier settings (each repetition offsets the seeds by its index).
    jobs : int
        Cells run in parallel in worker processes (1: in this process); each gets ``$FAIRGEN_THREADS`` threads,
        else the available cores divided by ``jobs`` (:func:`~fairgen_core.config.thread_budget`).
    progress : callable, optional
        Called with a :class:`CellDone` after every cell.
    keep_leaks : sequence of str
        Columns that leak the label or a sensitive attribute but stay the models' inputs (every other leaking
        column is left out: :func:`~fairgen_core.generator.training.fit_generator`).

    Returns
    -------
    ExperimentResult
        The tidy results and their summary, and the figure files.

    Raises
    ------
    FairGenError
        If ``out`` holds a different experiment, or ``jobs`` is not positive.
    """
    if jobs <= 0:
        raise FairGenError(f"the number of parallel jobs must be positive, got {jobs}.")
    out = Path(out)
    keep_leaks = tuple(keep_leaks)
    fingerprint = _fingerprint(frame, spec, experiment, generator, classifier, keep_leaks)
    _check_out(out, fingerprint)
    out.mkdir(parents=True, exist_ok=True)
    threads = thread_budget(jobs)
    total = experiment.repetitions * (3 if experiment.methods else 2)
    timings: dict[str, float] = {}
    finished = 0

    def task(stage: str, repetition: int) -> _Task:
        return _Task(stage, repetition, frame, spec, data_name, experiment, generator, classifier, out, threads,
                     keep_leaks)

    def record(stage: str, repetition: int, seconds: float, cached: bool) -> None:
        nonlocal finished
        finished += 1
        timings[f"rep{repetition}.{stage}"] = round(seconds, 2)
        if progress is not None:
            progress(CellDone(stage, repetition, seconds, cached, finished, total))

    followers = ["sweep", "methods"] if experiment.methods else ["sweep"]
    pending: list[tuple[str, int]] = []
    for repetition in range(experiment.repetitions):
        for stage in ["generator", *followers]:
            if _cell_output(out, stage, repetition).exists():
                if stage == "generator":
                    _fill_translation(task(stage, repetition))
                record(stage, repetition, 0.0, cached=True)
            else:
                pending.append((stage, repetition))
    _run_pending(pending, task, record, jobs)
    results = _collect(out, experiment, data_name)
    summary = summarise(results)
    results.to_csv(out / layout.RESULTS, index=False)
    summary.to_csv(out / layout.SUMMARY, index=False)
    if BASELINE in experiment.methods:
        paired_differences(results).to_csv(out / layout.PAIRED, index=False)
    _translation_table(out, experiment).to_csv(out / layout.TRANSLATION_TABLE, index=False)
    figures = _write_figures(out, results[results["selection"] == experiment.selections[0]],
                             experiment.highlight_ratio)
    _write_manifest(out, fingerprint, data_name, experiment, timings)
    return ExperimentResult(out, results, summary, figures)


def _run_pending(pending: list[tuple[str, int]], task: Callable[[str, int], _Task],
                 record: Callable[[str, int, float, bool], None], jobs: int) -> None:
    """Run the missing cells; a repetition's sweep and methods start once its generator is there."""
    training = {r for s, r in pending if s == "generator"}
    ready = [(s, r) for s, r in pending if s == "generator" or r not in training]
    waiting = [cell for cell in pending if cell not in ready]

    def unlocked_by(repetition: int) -> list[tuple[str, int]]:
        cells = [cell for cell in waiting if cell[1] == repetition]
        for cell in cells:
            waiting.remove(cell)
        return cells

    if jobs == 1:
        while ready:
            stage, repetition = ready.pop(0)
            record(stage, repetition, _run_cell(task(stage, repetition)), False)
            if stage == "generator":
                ready += unlocked_by(repetition)
        return
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        running: dict[Future[float], tuple[str, int]] = {pool.submit(_run_cell, task(*cell)): cell for cell in ready}
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                stage, repetition = running.pop(future)
                record(stage, repetition, future.result(), False)
                if stage == "generator":
                    running |= {pool.submit(_run_cell, task(*cell)): cell for cell in unlocked_by(repetition)}


def _collect(out: Path, experiment: ExperimentConfig, data_name: str) -> pd.DataFrame:
    tables = []
    for repetition in range(experiment.repetitions):
        run = RunDir(layout.repetition_run(out, repetition))
        for name in layout.RESULT_TABLES if experiment.methods else (layout.SWEEP,):
            table = run.read_table(name)
            if table is None:
                raise FairGenError(f"'{run.path / name}' is missing: re-run the experiment to compute it.")
            tables.append(table)
    results = pd.concat(tables, ignore_index=True)
    if "note" not in results.columns:
        results["note"] = ""
    results["note"] = results["note"].astype(object).fillna("").astype(str)
    results.insert(0, "dataset", data_name)
    return results[["dataset", *COLUMNS]].sort_values(["selection", "method", "ratio", "repetition", "metric"],
                                                      kind="stable", ignore_index=True)


def _translation_table(out: Path, experiment: ExperimentConfig) -> pd.DataFrame:
    """One row per repetition: the translation fidelity of its generator on its test rows."""
    rows = []
    for repetition in range(experiment.repetitions):
        path = layout.repetition_dir(out, repetition) / layout.TRANSLATION
        if path.exists():
            values = json.loads(path.read_text())
            rows.append({"repetition": repetition, **{k: v for k, v in values.items() if k != "per_domain"}})
    return pd.DataFrame(rows)


def figure_tables(results: pd.DataFrame, highlight_ratio: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of Fig. 2 (methods, "no TL" and transfer at ``highlight_ratio``) and of Fig. 3 (the sweep)."""
    transfer = results["method"] == TRANSFER
    sweep = results[transfer | (results["method"] == NO_TL)]
    return results[~transfer | at_ratio(results["ratio"], highlight_ratio)], sweep


def _write_figures(out: Path, results: pd.DataFrame, highlight_ratio: float) -> dict[str, Path]:
    methods_rows, sweep_rows = figure_tables(results, highlight_ratio)
    baseline = results[results["method"] == BASELINE]
    figures = {
        layout.FIGURE_METHODS: charts.method_bars_figure(methods_rows.dropna(subset=["value"])),
        layout.FIGURE_RATIO: charts.tradeoff_figure(sweep_rows, selected_ratio=highlight_ratio,
                                                    references=baseline if len(baseline) else None),
    }
    written: dict[str, Path] = {}
    for name, figure in figures.items():
        files = layout.figure_files(out, name)
        figure.write_html(files.page, include_plotlyjs=True)
        written[name] = files.page
        try:
            figure.write_image(files.image, width=1100, height=figure.layout.height or 500, scale=1)
            written[f"{name}_png"] = files.image
        except Exception as error:  # images need Chromium (kaleido); the page is always written
            files.note.write_text(f"PNG not written ({error}); install Chromium for images.\n")
    return written


def _write_manifest(out: Path, fingerprint: dict[str, Any], data_name: str, experiment: ExperimentConfig,
                    timings: dict[str, float]) -> None:
    manifest = {
        "data": data_name, "fingerprint": fingerprint,
        "seeds": {f"rep{r}": experiment.seed + r for r in range(experiment.repetitions)},
        "finished": datetime.now(UTC).isoformat(timespec="seconds"), "timings_s": timings,
        "versions": library_versions(),
    }
    (out / layout.EXPERIMENT_MANIFEST).write_text(json.dumps(manifest, indent=1))
