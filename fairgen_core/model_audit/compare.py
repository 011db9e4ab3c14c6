"""The user's model next to a FairGen run's classifiers, on the run's test rows and with the same metrics.

A FairGen run measures its fair classifier (the ratio sweep's :data:`~fairgen_core.results.table.TRANSFER_CHOSEN_RATIO`)
and the comparison methods (``methods.csv``) on the test rows of its split, training each of them once per
repetition (seed ``seed + r``) on that same split. :func:`metrics_on_rows` scores the user's model on exactly those
rows with the results tables' metrics (:data:`COMPARED_METRICS`: the overall balanced accuracy, and the largest TPR
gap between any two of the run's groups) and a bootstrap interval over the rows
(:func:`~fairgen_core.metrics.fairness.bootstrap_intervals`, counts-based). :func:`comparison_table` sets it next to
each method's mean over repetitions with a Student-t interval (:func:`repetition_intervals`).

The two intervals answer different questions: the model's says how much its numbers would move on other test
rows like these; a method's says how much its mean moves with the training seed, on the same test rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from fairgen_core.data.spec import DatasetSpec, assign_domains
from fairgen_core.errors import FairGenError
from fairgen_core.metrics.fairness import bootstrap_intervals
from fairgen_core.model_audit.config import ModelAuditConfig
from fairgen_core.model_audit.inputs import ModelInput, aligned_values
from fairgen_core.model_audit.thresholds import model_decisions
from fairgen_core.results.table import TRANSFER_CHOSEN_RATIO, summarise

#: The metrics compared: higher balanced accuracy is better, a smaller |equal opportunity difference| fairer.
COMPARED_METRICS: tuple[str, ...] = ("balanced_accuracy", "abs_equal_opportunity_difference")
#: Where a row of :func:`comparison_table` comes from.
YOUR_MODEL, FAIRGEN_RUN = "your model", "FairGen run"
#: Columns of :func:`comparison_table` (``n``: test rows for the user's model, repetitions for a method).
COMPARISON_COLUMNS: tuple[str, ...] = ("method", "source", "metric", "value", "ci_low", "ci_high", "n")


def metrics_on_rows(frame: pd.DataFrame, spec: DatasetSpec, model: ModelInput, rows: Sequence[int] | np.ndarray,
                    config: ModelAuditConfig = ModelAuditConfig()) -> pd.DataFrame:
    """A model's :data:`COMPARED_METRICS` on some rows of the data, with bootstrap intervals.

    Parameters
    ----------
    frame : pandas.DataFrame
        The whole data; the groups are assigned on it with ``spec`` (as the run assigned them).
    spec : DatasetSpec
        The run's label and sensitive attributes.
    model : ModelInput
        The model's values, one per row of ``frame``.
    rows : sequence of int
        Row positions in ``frame``, e.g. a run's ``manifest.split.test``; rows without a label or a sensitive
        value are left out.
    config : ModelAuditConfig
        The threshold(s) for scores, and the bootstrap's resamples, seed and confidence.

    Returns
    -------
    pandas.DataFrame
        One row per metric of :data:`COMPARED_METRICS` with :data:`COMPARISON_COLUMNS`: ``method`` the model's
        name, ``source`` :data:`YOUR_MODEL`, the value on the rows, its percentile bootstrap interval and ``n``
        the rows scored.

    Raises
    ------
    FairGenError
        If no row is given, a position is outside the data, no given row has a label and every sensitive value,
        fewer than two groups are defined, or the model's values do not fit the data (see
        :func:`~fairgen_core.model_audit.audit_model`).

    Examples
    --------
    >>> from fairgen_core.data.spec import SensitiveAttribute
    >>> frame = pd.DataFrame({"y": [1, 0] * 50, "s": ["a"] * 50 + ["b"] * 50})
    >>> spec = DatasetSpec("y", (1,), (SensitiveAttribute("s", ("b",)),), min_domain_rows=1)
    >>> table = metrics_on_rows(frame, spec, ModelInput("copy", frame["y"].to_numpy(), False), range(0, 100, 5))
    >>> table[["metric", "value", "ci_low", "ci_high", "n"]].values.tolist()
    [['balanced_accuracy', 1.0, 1.0, 1.0, 20], ['abs_equal_opportunity_difference', 0.0, 0.0, 0.0, 20]]
    """
    values = aligned_values(model, len(frame))
    positions = np.asarray(rows, dtype=np.int64).ravel()
    if not positions.size:
        raise FairGenError("give the rows to score the model on (e.g. a run's test rows): none were given.")
    outside = (positions < 0) | (positions >= len(frame))
    if outside.any():
        raise FairGenError(f"row position {int(positions[outside][0])} is outside the data ({len(frame):,} rows): "
                           "the rows must come from a run trained on this same data.")
    assignment = assign_domains(frame, spec)
    kept = positions[assignment.valid[positions]]
    if not kept.size:
        raise FairGenError(f"none of the {positions.size:,} rows has both a label ('{spec.label}') and every "
                           f"sensitive value ({', '.join(spec.sensitive_columns)}).")
    names = assignment.group_names
    group = assignment.group[kept]
    decisions, _ = model_decisions(values[kept], group, len(names), is_score=model.is_score, config=config)
    intervals = bootstrap_intervals(assignment.label[kept], decisions, group, names, n_boot=config.bootstrap,
                                    seed=config.seed, level=config.confidence)
    return pd.DataFrame([(model.name, YOUR_MODEL, metric, *intervals.loc[metric, ["estimate", "lower", "upper"]],
                          int(kept.size)) for metric in COMPARED_METRICS], columns=list(COMPARISON_COLUMNS))


def fairgen_results(methods: pd.DataFrame, sweep: pd.DataFrame | None = None) -> pd.DataFrame:
    """A run's rows to set next to the user's model: every comparison method, and its fair classifier.

    Parameters
    ----------
    methods : pandas.DataFrame
        The run's ``methods.csv`` (tidy, :data:`~fairgen_core.results.table.COLUMNS`).
    sweep : pandas.DataFrame, optional
        The run's ``sweep.csv``; its :data:`~fairgen_core.results.table.TRANSFER_CHOSEN_RATIO` rows (the fair
        classifier with the real:synthetic ratio chosen on validation) are added when present.

    Returns
    -------
    pandas.DataFrame
        The methods' rows, then the fair classifier's.
    """
    if sweep is None or "method" not in sweep.columns:
        return methods
    return pd.concat([methods, sweep[sweep["method"] == TRANSFER_CHOSEN_RATIO]], ignore_index=True)


def repetition_intervals(summary: pd.DataFrame, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Student-t intervals of means over repetitions: ``mean ± t(n - 1) · std / √n``.

    Parameters
    ----------
    summary : pandas.DataFrame
        Columns ``mean``, ``std`` and ``n``, as :func:`~fairgen_core.results.table.summarise` gives them.
    confidence : float
        Coverage, in (0, 1).

    Returns
    -------
    ci_low, ci_high : numpy.ndarray
        NaN for a single repetition (no spread to estimate).

    Examples
    --------
    >>> low, high = repetition_intervals(pd.DataFrame({"mean": [0.7, 0.5], "std": [0.1, np.nan], "n": [4, 1]}))
    >>> np.round(low, 4).tolist(), np.round(high, 4).tolist()
    ([0.5409, nan], [0.8591, nan])
    """
    n = summary["n"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf((1 + confidence) / 2, n - 1) * summary["std"].to_numpy(dtype=float) / np.sqrt(n)
    half = np.where(n > 1, half, np.nan)
    mean = summary["mean"].to_numpy(dtype=float)
    return mean - half, mean + half


def comparison_table(yours: pd.DataFrame, results: pd.DataFrame, *, selection: str | None = None,
                     confidence: float = 0.95) -> pd.DataFrame:
    """The user's model(s) and a run's methods, metric by metric, each value with its interval.

    Parameters
    ----------
    yours : pandas.DataFrame
        :func:`metrics_on_rows` of one or more models (concatenated).
    results : pandas.DataFrame
        The run's tidy results (:func:`fairgen_results`); skipped methods (NaN values) are left out.
    selection : str, optional
        The selection rule whose rows are compared (default: the first in ``results``; ignored when the table
        has no ``selection`` column).
    confidence : float
        Coverage of the methods' intervals over repetitions (:func:`repetition_intervals`).

    Returns
    -------
    pandas.DataFrame
        :data:`COMPARISON_COLUMNS`: the user's rows, then one row per (method, metric) of
        :data:`COMPARED_METRICS`: ``source`` :data:`FAIRGEN_RUN`, ``value`` the mean over repetitions, its interval
        (NaN for one repetition) and ``n`` the repetitions.

    Raises
    ------
    FairGenError
        If ``selection`` is not a rule of ``results``.

    Examples
    --------
    >>> runs = pd.DataFrame({"method": "baseline", "ratio": np.nan, "repetition": [0, 1, 0, 1], "selection": "fair",
    ...                      "metric": [COMPARED_METRICS[0]] * 2 + [COMPARED_METRICS[1]] * 2,
    ...                      "value": [0.70, 0.72, 0.10, 0.12]})
    >>> yours = pd.DataFrame([("m", YOUR_MODEL, COMPARED_METRICS[0], 0.8, 0.75, 0.85, 300)],
    ...                      columns=list(COMPARISON_COLUMNS))
    >>> comparison_table(yours, runs)[["method", "source", "value", "n"]].round(3).values.tolist()
    [['m', 'your model', 0.8, 300], ['baseline', 'FairGen run', 0.71, 2], ['baseline', 'FairGen run', 0.11, 2]]
    """
    chosen = results[results["metric"].isin(COMPARED_METRICS) & results["value"].notna()]
    if "selection" in chosen.columns and len(chosen):
        rules = list(pd.unique(chosen["selection"]))
        selection = rules[0] if selection is None else selection
        if selection not in rules:
            raise FairGenError(f"the run's results have no rows chosen by the rule '{selection}': choose one of "
                               f"{', '.join(map(repr, rules))}.")
        chosen = chosen[chosen["selection"] == selection]
    summary = summarise(chosen.drop(columns=["selection"], errors="ignore"))
    low, high = repetition_intervals(summary, confidence)
    theirs = pd.DataFrame({"method": summary["method"], "source": FAIRGEN_RUN, "metric": summary["metric"],
                           "value": summary["mean"], "ci_low": low, "ci_high": high, "n": summary["n"]})
    parts = [part for part in (yours, theirs) if len(part)]
    table = pd.concat(parts, ignore_index=True) if parts else theirs
    return table[list(COMPARISON_COLUMNS)].astype({"value": float, "ci_low": float, "ci_high": float})
