"""The real:synthetic ratio sweep the trade-off chart (and the dashboard's slider) reads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from fairgen_core.classifier.selection import (
    DEFAULT_SELECTION,
    Candidate,
    EpochRecorder,
    Validation,
    check_selection,
    select,
)
from fairgen_core.classifier.stacked import (
    StackHook,
    StackJob,
    finetune_job,
    pretrain_stack,
    real_only_job,
    stack_recording,
    train_stack,
)
from fairgen_core.classifier.thresholds import threshold_candidates
from fairgen_core.classifier.training import balanced_weights, downsampled_rows, encode_rows, synthetic_pairs
from fairgen_core.config import ClassifierConfig
from fairgen_core.data.spec import assign_domains
from fairgen_core.data.splits import Split
from fairgen_core.devices import resolve_device
from fairgen_core.generator.model import FairGenerator
from fairgen_core.metrics.fairness import fairness_report
from fairgen_core.results.table import (
    COLUMNS,
    DOWNSAMPLED,
    NO_TL,
    TABLE_METRICS,
    TRANSFER,
    TRANSFER_CHOSEN_RATIO,
    TRANSFER_THRESHOLDS,
    at_ratio,
)

DEFAULT_RATIOS: tuple[float, ...] = tuple(round(r, 1) for r in np.linspace(0.0, 1.0, 11))
#: Told how far an analysis is: ``(cells done, cells in all, the cell just done)``, once with 0 done at the start
#: (``"starting"``) and then after every cell, e.g. ``(3, 26, "transfer at ratio 0.2, repetition 1 of 2")``.
ProgressCallback = Callable[[int, int, str], None]
#: Told the new tidy rows (:data:`~fairgen_core.results.table.COLUMNS`) of every cell of an analysis as it
#: finishes, before the :data:`ProgressCallback` counts it: the rows of all calls together are the returned table's.
RowsCallback = Callable[[pd.DataFrame], object]


class CellCounter:
    """Counts the finished cells of an analysis (a model trained and selected) for a :data:`ProgressCallback`.

    Parameters
    ----------
    total : int
        Cells in all.
    progress : ProgressCallback or None
        Told at once (0 done) and after every :meth:`done`; None: nobody listens.

    Examples
    --------
    >>> seen = []
    >>> cells = CellCounter(2, lambda *told: seen.append(told))
    >>> cells.done("baseline, repetition 1 of 2")
    >>> seen
    [(0, 2, 'starting'), (1, 2, 'baseline, repetition 1 of 2')]
    """

    def __init__(self, total: int, progress: ProgressCallback | None) -> None:
        self.total, self.finished, self._progress = total, 0, progress
        if progress is not None:
            progress(0, total, "starting")

    def done(self, what: str) -> None:
        """Count one more finished cell, described by ``what``."""
        self.finished += 1
        if self._progress is not None:
            self._progress(self.finished, self.total, what)


def test_metrics(y: np.ndarray, predictions: np.ndarray, groups: np.ndarray,
                 group_names: Sequence[str]) -> dict[str, float]:
    """Every metric of :data:`TABLE_METRICS` for 0/1 test predictions (signed ones NaN beyond two groups)."""
    report = fairness_report(y, predictions, groups, group_names)
    values = {"balanced_accuracy": report.overall["balanced_accuracy"], **report.absolute, **report.differences}
    return {metric: float(values.get(metric, np.nan)) for metric in TABLE_METRICS}


def ratio_sweep(generator: FairGenerator, frame: pd.DataFrame, split: Split, *,
                ratios: Sequence[float] = DEFAULT_RATIOS, repetitions: int = 1,
                config: ClassifierConfig | None = None, downsampled_ratio: float | None = 0.5,
                thresholds_ratio: float | None = None,
                selections: Sequence[str] = (DEFAULT_SELECTION,),
                progress: ProgressCallback | None = None, on_rows: RowsCallback | None = None) -> pd.DataFrame:
    """Test-split fairness and balanced accuracy of the classifier fine-tuned at every real:synthetic ratio.

    Each repetition pre-trains C once on balanced synthetic rows (seed ``config.seed + repetition``) and
    fine-tunes a copy at every ratio on the real training rows and their synthetic pairs (``config.pairs``);
    it also trains the "no TL" reference (real rows only, no pre-training) with the same seed. With
    ``config.balance_domains`` (the default, as in the paper) the real rows and the pairs are weighted so that
    every (group, label) domain counts the same. The paper's down-sampling ablation (:data:`DOWNSAMPLED`)
    fine-tunes the same pre-trained C at ``downsampled_ratio`` on real rows down-sampled to the smallest
    domain's count and their pairs. Every model's epoch — for fine-tuning, epoch 0 is the pre-trained C — is
    chosen on the validation rows by each rule of ``selections``
    (:func:`~fairgen_core.classifier.selection.select`). The pre-trainings of every repetition train together
    in one stack, and then every fine-tuned, "no TL" and down-sampled network of every repetition in another
    (:func:`~fairgen_core.classifier.stacked.train_stack`: the same networks as training them one by one, in a
    fraction of the time).

    Parameters
    ----------
    generator : FairGenerator
        The fitted translator (its encoder, spec and pairs).
    frame : pandas.DataFrame
        The whole table.
    split : Split
        Train rows fine-tune, validation rows select, test rows are measured.
    ratios : sequence of float
        Real shares of the fine-tuning batches, each in [0, 1] (default 0, 0.1, ..., 1).
    repetitions : int
        Classifier seeds per ratio.
    config : ClassifierConfig, optional
        Defaults to ``ClassifierConfig()``.
    downsampled_ratio : float or None
        Real share of the down-sampling ablation's batches (None: leave the ablation out).
    thresholds_ratio : float or None
        Also report :data:`TRANSFER_THRESHOLDS`: the model fine-tuned at this ratio with group-specific
        thresholds fitted on validation (None: leave it out; the ratio must be one of ``ratios``).
        With more than one ratio, :data:`TRANSFER_CHOSEN_RATIO` is reported too: the (ratio, epoch) the
        selection rule chooses among all the fine-tuned candidates.
    selections : sequence of str
        Selection rules (``"accuracy"``, ``"fair"``); each gives its own rows.
    progress : ProgressCallback, optional
        Told at the start (0 cells done) and as each cell's network stops training: each fine-tuning ratio,
        "no TL" and the down-sampling ablation, per repetition. It does not change the results.
    on_rows : RowsCallback, optional
        Told each cell's rows as its network stops, before ``progress`` counts it; the rows of
        :data:`TRANSFER_THRESHOLDS` come with those of the thresholds ratio, and those of
        :data:`TRANSFER_CHOSEN_RATIO` with the last ratio of the repetition to finish. All the rows told, in
        whatever order, are the returned table's. It does not change the results.

    Returns
    -------
    pandas.DataFrame
        Tidy rows of :data:`~fairgen_core.results.table.COLUMNS`: ``method`` (:data:`TRANSFER`,
        :data:`TRANSFER_CHOSEN_RATIO`, :data:`NO_TL`, :data:`DOWNSAMPLED` or :data:`TRANSFER_THRESHOLDS`), ``ratio``
        (NaN but for :data:`TRANSFER` and the thresholds), ``repetition``, ``seed``, ``selection``, ``metric`` (one
        of :data:`TABLE_METRICS`), ``value`` and ``note`` (what was chosen, e.g. ``epoch=3, ratio=0.5``).
    """
    config = config or ClassifierConfig()
    selections = [check_selection(rule) for rule in selections]
    x_train, y_train, d_train = encode_rows(generator, frame, split.train)
    x_val, y_val, d_val = encode_rows(generator, frame, split.val)
    x_test, y_test, d_test = encode_rows(generator, frame, split.test)
    group_names = assign_domains(frame, generator.spec).group_names
    validation = Validation(y_val, d_val // 2, tuple(group_names))
    cells = CellCounter(repetitions * (len(ratios) + 1 + (downsampled_ratio is not None)), progress)
    seeded = [replace(config, seed=config.seed + repetition) for repetition in range(repetitions)]
    bases = pretrain_stack(generator, x_val, y_val, seeded)
    jobs: list[StackJob] = []
    cell_names: list[str] = []
    trained: list[tuple[int, str, float, EpochRecorder]] = []

    def recorded(repetition: int, method: str, ratio: float, name: str) -> StackHook:
        record = EpochRecorder(validation, [])
        cell_names.append(f"{name}, repetition {repetition + 1} of {repetitions}")
        trained.append((repetition, method, ratio, record))
        return stack_recording(record, **({"ratio": ratio} if method == TRANSFER else {}))

    for repetition, (rep_config, base) in enumerate(zip(seeded, bases)):
        x_pairs, y_pairs, d_pairs = synthetic_pairs(generator, x_train, d_train, rep_config.seed,
                                                    pairs=rep_config.pairs)
        w_real, w_pairs = balanced_weights(rep_config, d_train, d_pairs)
        for ratio in ratios:
            jobs.append(finetune_job(base, x_train, y_train, x_pairs, y_pairs, x_val, ratio=ratio, config=rep_config,
                                     x_test=x_test, sample_weight=w_real, pair_weight=w_pairs,
                                     on_epoch=recorded(repetition, TRANSFER, float(ratio),
                                                       f"{TRANSFER} at ratio {ratio:g}")))
        jobs.append(real_only_job(x_train, y_train, x_val, rep_config, x_test=x_test, sample_weight=w_real,
                                  on_epoch=recorded(repetition, NO_TL, float("nan"), NO_TL)))
        if downsampled_ratio is not None:
            kept = downsampled_rows(d_train, rep_config.seed)
            jobs.append(finetune_job(base, x_train[kept], y_train[kept], x_pairs[kept], y_pairs[kept], x_val,
                                     ratio=downsampled_ratio, config=rep_config, x_test=x_test,
                                     on_epoch=recorded(repetition, DOWNSAMPLED, float("nan"), DOWNSAMPLED)))

    def tidy(repetition: int, method: str, ratio: float, options: list[Candidate]) -> list[dict[str, object]]:
        return _selected_rows(options, selections, y_test, d_test // 2, group_names, method=method, ratio=ratio,
                              repetition=repetition, seed=seeded[repetition].seed)

    cell_rows: list[list[dict[str, object]]] = [[] for _ in jobs]
    chosen_rows: list[list[dict[str, object]]] = [[] for _ in seeded]
    transfers_left = [len(ratios)] * repetitions

    def finished(index: int) -> None:
        """Select the rows of job ``index``'s cell, and those of the cells its network completes; tell them."""
        repetition, method, ratio, record = trained[index]
        new = tidy(repetition, method, ratio, record.candidates)
        if method == TRANSFER and thresholds_ratio is not None and at_ratio(ratio, thresholds_ratio):
            new += tidy(repetition, TRANSFER_THRESHOLDS, ratio, threshold_candidates(
                validation, record.val_probabilities, [c.test_scores for c in record.candidates], d_test // 2,
                [c.chosen for c in record.candidates], seed=seeded[repetition].seed))
        cell_rows[index] = new
        if method == TRANSFER:
            transfers_left[repetition] -= 1
            if not transfers_left[repetition] and len(ratios) > 1:
                chosen_rows[repetition] = tidy(repetition, TRANSFER_CHOSEN_RATIO, float("nan"), [
                    c for rep, kind, _, transfer in trained if rep == repetition and kind == TRANSFER
                    for c in transfer.candidates])
                new = new + chosen_rows[repetition]
        if on_rows is not None:
            on_rows(pd.DataFrame(new, columns=list(COLUMNS)))
        cells.done(cell_names[index])

    train_stack(jobs, y_val, device=resolve_device(config.device), on_done=lambda index, _result: finished(index))
    rows = [row for repetition in range(repetitions)
            for cell in [*(cell_rows[i] for i, job in enumerate(trained) if job[0] == repetition),
                         chosen_rows[repetition]]
            for row in cell]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _selected_rows(options: Sequence[Candidate], selections: Sequence[str], y_test: np.ndarray,
                   group_test: np.ndarray, group_names: Sequence[str], *, method: str, ratio: float, repetition: int,
                   seed: int) -> list[dict[str, object]]:
    """Tidy rows of one cell: per selection rule, every test metric of the candidate it chooses."""
    rows: list[dict[str, object]] = []
    for rule in selections:
        chosen = options[select(options, rule)]
        note = ", ".join(f"{k}={v:g}" for k, v in chosen.chosen.items())
        metrics = test_metrics(y_test, chosen.test_predictions, group_test, group_names)
        rows += [{"method": method, "ratio": ratio, "repetition": repetition, "seed": seed, "selection": rule,
                  "metric": metric, "value": value, "note": note} for metric, value in metrics.items()]
    return rows
