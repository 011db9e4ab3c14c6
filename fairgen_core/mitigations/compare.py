"""Every comparison method on the same split, as the tidy table the ratio sweep also produces."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from fairgen_core.classifier.selection import DEFAULT_SELECTION
from fairgen_core.classifier.sweep import CellCounter, ProgressCallback, RowsCallback, test_metrics
from fairgen_core.config import ClassifierConfig
from fairgen_core.data.splits import Split
from fairgen_core.generator.model import FairGenerator
from fairgen_core.mitigations.base import Method, MethodResult
from fairgen_core.mitigations.data import MethodData, method_data
from fairgen_core.mitigations.registry import METHODS, evaluate_methods
from fairgen_core.results.table import COLUMNS, TABLE_METRICS


def method_metrics(result: MethodResult, data: MethodData) -> dict[str, float]:
    """Test-split balanced accuracy and fairness metrics (:data:`TABLE_METRICS`) of a result.

    All NaN when the method was skipped.
    """
    if result.predictions is None:
        return dict.fromkeys(TABLE_METRICS, float("nan"))
    return test_metrics(data.y_test, result.predictions, data.group_test, data.group_names)


def results_table(results: Sequence[tuple[int, int, MethodResult]], data: MethodData) -> pd.DataFrame:
    """Tidy rows of :data:`~fairgen_core.results.table.COLUMNS` for ``(repetition, seed, result)`` triples.

    ``ratio`` is NaN (no real:synthetic ratio applies), ``value`` is NaN for a skipped method, ``selection``
    is the rule the result was chosen by, and ``note`` holds the skipped reason or the chosen
    hyper-parameters (:attr:`MethodResult.note`).
    """
    rows = [{"method": result.method, "ratio": np.nan, "repetition": repetition, "seed": seed,
             "selection": result.selection, "metric": metric, "value": value, "note": result.note}
            for repetition, seed, result in results for metric, value in method_metrics(result, data).items()]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def compare_methods(generator: FairGenerator, frame: pd.DataFrame, split: Split, *,
                    methods: Sequence[str | Method] = tuple(METHODS), config: ClassifierConfig | None = None,
                    repetitions: int = 1, selections: Sequence[str] = (DEFAULT_SELECTION,),
                    progress: ProgressCallback | None = None, on_rows: RowsCallback | None = None) -> pd.DataFrame:
    """Test-split fairness and balanced accuracy of every comparison method, repeated with several seeds.

    Parameters
    ----------
    generator : FairGenerator
        The fitted generator: its encoder gives the features (:func:`method_data`); nothing is generated.
    frame : pandas.DataFrame
        The whole table.
    split : Split
        Train rows fit, validation rows choose (epochs, repair levels, thresholds) by the selection rule,
        test rows are measured.
    methods : sequence of str or Method
        Names in :data:`METHODS` or method instances (default: all registered methods).
    config : ClassifierConfig, optional
        Shared network and training settings (default ``ClassifierConfig()``).
    repetitions : int
        Seeds per method: repetition ``r`` uses ``config.seed + r``.
    selections : sequence of str
        Selection rules; each method is trained once and selected by every rule.
    progress : ProgressCallback, optional
        Told at the start (0 cells done) and after every method of every repetition, in the order they finish; it
        does not change the results. The networks C of the baseline, reweighing, the disparate impact remover,
        calibrated equalised odds and group thresholds of every repetition train together first, each of these
        methods finished as soon as its networks stop
        (:func:`~fairgen_core.mitigations.registry.evaluate_methods`).
    on_rows : RowsCallback, optional
        Told the rows of every method of every repetition as it finishes, before ``progress`` counts it. All the
        rows told, in whatever order, are the returned table's. It does not change the results.

    Returns
    -------
    pandas.DataFrame
        The layout of :func:`~fairgen_core.classifier.ratio_sweep` (``method``, ``ratio`` — NaN here —,
        ``repetition``, ``seed``, ``selection``, ``metric``, ``value``, ``note``): a skipped method has NaN
        values and its reason in ``note``.
    """
    config = config or ClassifierConfig()
    data = method_data(generator, frame, split)
    cells = CellCounter(repetitions * len(methods), progress)
    seeds = [config.seed + repetition for repetition in range(repetitions)]

    def done(repetition: int, name: str, results: list[MethodResult]) -> None:
        if on_rows is not None:
            on_rows(results_table([(repetition, seeds[repetition], result) for result in results], data))
        cells.done(f"{name}, repetition {repetition + 1} of {repetitions}")

    per_seed = evaluate_methods(methods, data, config, seeds=seeds, selections=selections, on_done=done)
    return results_table([(repetition, seeds[repetition], result) for repetition, per_method in enumerate(per_seed)
                          for per_rule in per_method for result in per_rule], data)
