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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from fairgen_core.classifier.selection import SELECTION_RULES, check_selection
from fairgen_core.classifier.sweep import DEFAULT_RATIOS, ratio_sweep
from fairgen_core.config import ClassifierConfig, GeneratorConfig, _Serialisable
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
from fairgen_core.results.table import BASELINE, COLUMNS, NO_TL, TABLE_METRICS, TRANSFER, at_ratio, summarise
from fairgen_core.runs import layout
from fairgen_core.runs.executor import Executor, ExecutorConfig, open_executor
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
    """One finished cell, as reported to the progress callback (``failure``: why it failed, else None)."""

    stage: str
    repetition: int
    seconds: float
    cached: bool
    finished: int
    total: int
    failure: str | None = None


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
    """Everything one cell needs but the table (handed to the workers once per experiment), picklable."""

    stage: str
    repetition: int
    spec: DatasetSpec
    data_name: str
    experiment: ExperimentConfig
    generator: GeneratorConfig
    classifier: ClassifierConfig
    out: Path
    threads: int
    keep_leaks: tuple[str, ...] = ()
    data_file: str | None = None


#: The results table each classifier stage writes into its repetition's run folder.
_TABLES: dict[str, str] = {"sweep": layout.SWEEP, "methods": layout.METHODS}


def _cell_output(task_out: Path, stage: str, repetition: int) -> Path:
    if stage == "generator":
        return layout.repetition_dir(task_out, repetition) / layout.GENERATOR_DONE
    return layout.repetition_run(task_out, repetition) / _TABLES[stage]


def _run_cell(frame: pd.DataFrame, task: _Task) -> float:
    """Compute one cell of ``frame`` and write its output; returns the seconds it took."""
    apply_thread_budget(task.threads)
    started = time.perf_counter()
    seed = task.experiment.seed + task.repetition
    split = default_split(frame, task.spec, seed=task.experiment.seed, repetition=task.repetition)
    run = RunDir(layout.repetition_run(task.out, task.repetition))
    if task.stage == "generator":
        config = replace(task.generator, seed=seed)
        run.write_manifest(new_manifest(task.data_name, task.data_file, frame, task.spec, config, split))
        model = fit_generator(frame, task.spec, config=config, split=split, checkpoint_path=run.model_path,
                              keep_leaks=task.keep_leaks)
        _write_translation(frame, task, model, split)
        _cell_output(task.out, "generator", task.repetition).write_text("done\n")
        return time.perf_counter() - started
    generator = FairGenerator.load(run.model_path, device=task.classifier.device)
    classifier = replace(task.classifier, seed=seed)
    if task.stage == "sweep":
        table = ratio_sweep(generator, frame, split, ratios=task.experiment.ratios, config=classifier,
                            thresholds_ratio=task.experiment.highlight_ratio, selections=task.experiment.selections)
        run.write_table(layout.SWEEP, table.assign(repetition=task.repetition))
    else:
        table = compare_methods(generator, frame, split, methods=task.experiment.methods, config=classifier,
                                selections=task.experiment.selections)
        run.write_table(layout.METHODS, table.assign(repetition=task.repetition))
    return time.perf_counter() - started


def _write_translation(frame: pd.DataFrame, task: _Task, model: FairGenerator, split: Split) -> None:
    """Translation fidelity of the repetition's generator on its test rows, as ``rep{i}/translation.json``."""
    fidelity = assess_translation(model, frame, split, pairs=task.classifier.pairs,
                                  seed=task.experiment.seed + task.repetition)
    path = layout.repetition_dir(task.out, task.repetition) / layout.TRANSLATION
    path.write_text(json.dumps(fidelity.to_dict(), indent=1))


def _fill_translation(frame: pd.DataFrame, task: _Task) -> None:
    """Measure the translation fidelity of a cached generator that was trained before it was recorded."""
    if not (layout.repetition_dir(task.out, task.repetition) / layout.TRANSLATION).exists():
        model = FairGenerator.load(RunDir(layout.repetition_run(task.out, task.repetition)).model_path,
                                   device=task.classifier.device)
        split = default_split(frame, task.spec, seed=task.experiment.seed, repetition=task.repetition)
        _write_translation(frame, task, model, split)


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
                   data_file: str | None = None, experiment: ExperimentConfig = ExperimentConfig(),
                   generator: GeneratorConfig = GeneratorConfig(),
                   classifier: ClassifierConfig = ClassifierConfig(), executor: ExecutorConfig | None = None,
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
    data_file : str, optional
        Where each repetition's run folder reads the table again (a CSV's absolute path; None for a built-in).
    experiment, generator, classifier
        Protocol, generator and classifier settings (each repetition offsets the seeds by its index).
    executor : ExecutorConfig, optional
        Where cells run (:mod:`fairgen_core.runs.executor`); default one at a time in this process. Local
        worker processes (``jobs``) get ``$FAIRGEN_THREADS`` threads each, else the available cores divided by
        ``jobs`` (:func:`~fairgen_core.config.thread_budget`); Ray tasks one CPU each. A cell whose Ray worker
        or node dies is retried, then recorded failed: NaN rows with the reason in ``note``, its repetition's
        later cells failed with it; the next run computes it again.
    progress : callable, optional
        Called with a :class:`CellDone` after every cell. An exception it raises (or Ctrl-C) cancels the cells
        still queued or running.
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
        If ``out`` holds a different experiment, or the executor's settings are wrong or its cluster unreachable.
    """
    out = Path(out)
    keep_leaks = tuple(keep_leaks)
    fingerprint = _fingerprint(frame, spec, experiment, generator, classifier, keep_leaks)
    _check_out(out, fingerprint)
    executor = executor or ExecutorConfig()
    out.mkdir(parents=True, exist_ok=True)
    total = experiment.repetitions * (3 if experiment.methods else 2)
    cells: dict[str, dict[str, Any]] = {"timings_s": {}, "nodes": {}, "failed": {}}
    finished = 0

    def record(stage: str, repetition: int, seconds: float, cached: bool, node: str = "",
               failure: str | None = None) -> None:
        """Count a finished cell; a failed one leaves its reason for :func:`_collect`, a computed one clears it."""
        nonlocal finished
        finished += 1
        name = f"rep{repetition}.{stage}"
        cells["timings_s"][name] = round(seconds, 2)
        if node:
            cells["nodes"][name] = node
        note = layout.cell_failure(out, repetition, stage)
        if failure is not None:
            cells["failed"][name] = failure
            note.parent.mkdir(parents=True, exist_ok=True)
            note.write_text(failure)
        elif not cached:
            note.unlink(missing_ok=True)
        if progress is not None:
            progress(CellDone(stage, repetition, seconds, cached, finished, total, failure))

    def task(stage: str, repetition: int, threads: int = 1) -> _Task:
        return _Task(stage, repetition, spec, data_name, experiment, generator, classifier, out, threads,
                     keep_leaks, data_file)

    followers = ["sweep", "methods"] if experiment.methods else ["sweep"]
    pending: list[tuple[str, int]] = []
    for repetition in range(experiment.repetitions):
        for stage in ["generator", *followers]:
            if _cell_output(out, stage, repetition).exists():
                if stage == "generator":
                    _fill_translation(frame, task(stage, repetition))
                record(stage, repetition, 0.0, cached=True)
            else:
                pending.append((stage, repetition))
    if pending:  # a finished experiment needs no workers (nor a cluster)
        with open_executor(executor) as cluster:
            _run_pending(pending, lambda stage, repetition: task(stage, repetition, cluster.threads), record,
                         cluster, cluster.share(frame), gpu=generator.device != "cpu" or classifier.device != "cpu")
    results = _collect(out, experiment, data_name)
    summary = summarise(results)
    results.to_csv(out / layout.RESULTS, index=False)
    summary.to_csv(out / layout.SUMMARY, index=False)
    if BASELINE in experiment.methods:
        paired_differences(results).to_csv(out / layout.PAIRED, index=False)
    _translation_table(out, experiment).to_csv(out / layout.TRANSLATION_TABLE, index=False)
    figures = _write_figures(out, results[results["selection"] == experiment.selections[0]],
                             experiment.highlight_ratio)
    _write_manifest(out, fingerprint, data_name, experiment, cells)
    return ExperimentResult(out, results, summary, figures)


def _run_pending(pending: list[tuple[str, int]], task: Callable[[str, int], _Task], record: Callable[..., None],
                 cluster: Executor, frame: Any, *, gpu: bool) -> None:
    """Run the missing cells on ``cluster``; a repetition's sweep and methods start once its generator is there.

    ``frame`` is the table as :meth:`Executor.share` handed it to the workers. A failed cell is recorded with its
    reason, and so are the cells waiting for its generator.
    """
    training = {r for s, r in pending if s == "generator"}
    waiting = [(s, r) for s, r in pending if s != "generator" and r in training]
    submitted: dict[int, tuple[str, int]] = {}

    def submit(cell: tuple[str, int]) -> None:
        submitted[cluster.submit(_run_cell, frame, task(*cell), gpu=gpu)] = cell

    def unlocked_by(repetition: int) -> list[tuple[str, int]]:
        cells = [cell for cell in waiting if cell[1] == repetition]
        for cell in cells:
            waiting.remove(cell)
        return cells

    for cell in pending:
        if cell not in waiting:
            submit(cell)
    while submitted:
        for ticket, outcome in cluster.wait_first():
            stage, repetition = submitted.pop(ticket)
            record(stage, repetition, outcome.value or 0.0, False, outcome.node, outcome.failure)
            if stage != "generator":
                continue
            for follower in unlocked_by(repetition):
                if outcome.failure is None:
                    submit(follower)
                else:
                    record(*follower, 0.0, False, "", f"its repetition's generator failed: {outcome.failure}")


def _failed_rows(experiment: ExperimentConfig, stage: str, repetition: int, reason: str) -> pd.DataFrame:
    """A failed cell's rows: its methods (the comparison methods, or transfer at every ratio and "no TL") with
    every selection rule and metric, NaN values and the reason in ``note``."""
    nan = float("nan")
    methods = ([(method, nan) for method in experiment.methods] if stage == "methods"
               else [*((TRANSFER, ratio) for ratio in experiment.ratios), (NO_TL, nan)])
    return pd.DataFrame([{"method": method, "ratio": ratio, "repetition": repetition,
                          "seed": experiment.seed + repetition, "selection": rule, "metric": metric, "value": nan,
                          "note": f"failed: {reason}"}
                         for method, ratio in methods for rule in experiment.selections for metric in TABLE_METRICS],
                        columns=list(COLUMNS))


def _collect(out: Path, experiment: ExperimentConfig, data_name: str) -> pd.DataFrame:
    tables = []
    for repetition in range(experiment.repetitions):
        run = RunDir(layout.repetition_run(out, repetition))
        for stage, name in list(_TABLES.items())[:2 if experiment.methods else 1]:
            table = run.read_table(name)
            failure = layout.cell_failure(out, repetition, stage)
            if table is None and failure.exists():
                table = _failed_rows(experiment, stage, repetition, failure.read_text())
            elif table is None:
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
    """Fig. 2 and Fig. 3; one whose rows have no value (every cell it draws failed) is left out."""
    methods_rows, sweep_rows = figure_tables(results, highlight_ratio)
    baseline = results[results["method"] == BASELINE]
    figures = {}
    if methods_rows["value"].notna().any():
        figures[layout.FIGURE_METHODS] = charts.method_bars_figure(methods_rows.dropna(subset=["value"]))
    if sweep_rows["value"].notna().any():
        figures[layout.FIGURE_RATIO] = charts.tradeoff_figure(sweep_rows, selected_ratio=highlight_ratio,
                                                              references=baseline if len(baseline) else None)
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
                    cells: dict[str, dict[str, Any]]) -> None:
    """``cells``: per cell (``rep{i}.STAGE``) its seconds (``timings_s``), the node that computed it (``nodes``)
    and why it failed (``failed``)."""
    manifest = {
        "data": data_name, "fingerprint": fingerprint,
        "seeds": {f"rep{r}": experiment.seed + r for r in range(experiment.repetitions)},
        "finished": datetime.now(UTC).isoformat(timespec="seconds"), **cells,
        "versions": library_versions(),
    }
    (out / layout.EXPERIMENT_MANIFEST).write_text(json.dumps(manifest, indent=1))
