"""Audit the user's own model: per-group rates, differences with bootstrap intervals, verdicts.

An auditor arrives with a model that already exists: its 0/1 decisions, or its scores in [0, 1] and a
threshold, one per data row. This module checks those columns (:func:`model_inputs`, or
:func:`join_predictions` for a second file), and :func:`audit_model` reports

* per group (the intersectional groups of :func:`fairgen_core.data.spec.assign_domains`): the confusion
  counts, selection rate, TPR, FPR, FNR, precision and balanced accuracy, and for scores the Brier score and
  a reliability curve;
* the differences between the unprivileged group (index 0: unprivileged on every sensitive attribute) and
  the privileged group (the last index), listed in :data:`DIFFERENCE_METRICS`, each with a bootstrap
  interval and a verdict from :data:`VERDICTS`.

The signed differences equal aif360's ``ClassificationMetric`` methods of the same names
(``statistical_parity_difference``, ``disparate_impact``, ``equal_opportunity_difference``,
``average_abs_odds_difference``; the predictive parity difference is the difference of its
``positive_predictive_value``). The *absolute* average odds difference is reported rather than the signed
one, so that a TPR gap and an opposite FPR gap cannot cancel into "within tolerance".

**Bootstrap.** Every metric depends on the rows only through the counts of the four confusion cells
(TP, FP, TN, FN) of each group. The bootstrap is stratified by group: each group keeps its size ``n_g``
and a resample of its rows is a draw of cell counts from the multinomial distribution with ``n_g`` trials
and the group's observed cell shares, which is exactly the distribution of the counts of ``n_g`` rows drawn
with replacement from that group. All draws and metrics are vectorised, so the cost does not grow with the
number of rows. The interval is the percentile interval: the empirical ``(1 - confidence) / 2`` and
``(1 + confidence) / 2`` quantiles of the resampled values (order statistics without interpolation, so an
infinite resampled ratio stays well defined); resamples in which a metric is undefined (e.g. no selected
row) are left out of its quantiles.

**Verdicts.** A difference is *within tolerance* when its whole interval lies within
``[-tolerance, tolerance]`` (disparate impact: within ``[t, 1/t]``, the four-fifths rule with ``t = 0.8``),
a *disparity* when its whole interval lies beyond, and *insufficient evidence* otherwise (the interval
spans a bound). It is also *insufficient evidence*, whatever the interval, when one of the two compared
groups has fewer than ``min_positives`` cases in a denominator of the metric: rows (statistical parity,
disparate impact), rows with the favourable label (equal opportunity; and rows with the unfavourable label
too for average odds), or selected rows (predictive parity). The note then says how many rows that group
would need: its current size scaled by ``min_positives / count`` (the same share of cases, enough of
them). When the interval spans a bound, the note estimates the rows the two groups together would need
for the interval to clear it, assuming its width shrinks as ``1 / sqrt(n)`` around the same estimate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from fairgen_core.data.spec import DatasetSpec, assign_domains, require_column
from fairgen_core.errors import FairGenError, PredictionError
from fairgen_core.metrics.fairness import cell_counts, confusion_rates

WITHIN = "within tolerance"
DISPARITY = "disparity"
INSUFFICIENT = "insufficient evidence"
#: The three verdicts of a difference.
VERDICTS = (WITHIN, DISPARITY, INSUFFICIENT)

#: Difference metrics (unprivileged vs privileged) and their readable names, in report order.
DIFFERENCE_METRICS: Mapping[str, str] = MappingProxyType({
    "statistical_parity_difference": "statistical parity difference (selection rate)",
    "disparate_impact": "disparate impact (selection-rate ratio)",
    "equal_opportunity_difference": "equal opportunity difference (TPR)",
    "average_abs_odds_difference": "average absolute odds difference (TPR and FPR)",
    "predictive_parity_difference": "predictive parity difference (precision)",
})
#: Columns of :attr:`ModelAudit.per_group` (``brier`` for scores only).
PER_GROUP_COLUMNS = (
    "group", "n", "positives", "negatives", "tp", "fp", "tn", "fn", "selection_rate", "tpr", "fpr", "fnr",
    "precision", "balanced_accuracy",
)
#: Columns of :attr:`ModelAudit.differences`.
DIFFERENCE_COLUMNS = ("metric", "value", "ci_low", "ci_high", "tolerance", "verdict", "note")
#: Columns of :attr:`ModelAudit.calibration`.
CALIBRATION_COLUMNS = ("group", "bin", "bin_low", "bin_high", "mean_score", "observed_rate", "n")

# Which counts each difference needs enough of, in each compared group: (count name, what it is).
_SUPPORT = {
    "statistical_parity_difference": (("n", "rows"),),
    "disparate_impact": (("n", "rows"),),
    "equal_opportunity_difference": (("positives", "rows with the favourable label"),),
    "average_abs_odds_difference": (("positives", "rows with the favourable label"),
                                    ("negatives", "rows with the unfavourable label")),
    "predictive_parity_difference": (("selected", "selected rows (decision 1)"),),
}


def _whole(value: object) -> bool:
    """A whole number (not a bool); used by the configs' checks, defined before their default instances."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


@dataclass(frozen=True)
class Tolerances:
    """How large a difference may be before it counts as a disparity.

    Parameters
    ----------
    statistical_parity : float
        Largest acceptable |difference in selection rate| (default 0.1).
    disparate_impact : float
        The four-fifths rule: a selection-rate ratio below this (default 0.8) or above its inverse (1.25)
        is a disparity. In (0, 1).
    equal_opportunity : float
        Largest acceptable |TPR difference| (default 0.1).
    average_odds : float
        Largest acceptable mean of |TPR difference| and |FPR difference| (default 0.1).
    predictive_parity : float
        Largest acceptable |precision difference| (default 0.1).
    min_positives : int
        Fewest cases a compared group needs in each denominator of a metric (rows, positives, negatives
        or selected rows; default 30); fewer gives "insufficient evidence".
    """

    statistical_parity: float = 0.1
    disparate_impact: float = 0.8
    equal_opportunity: float = 0.1
    average_odds: float = 0.1
    predictive_parity: float = 0.1
    min_positives: int = 30

    def __post_init__(self) -> None:
        for name in ("statistical_parity", "equal_opportunity", "average_odds", "predictive_parity"):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise FairGenError(f"the {name.replace('_', ' ')} tolerance must lie in (0, 1), e.g. 0.1, not "
                                   f"{value!r}.")
        if not 0 < self.disparate_impact < 1:
            raise FairGenError(f"the disparate impact tolerance is the lowest acceptable ratio, in (0, 1) (the "
                               f"four-fifths rule: 0.8), not {self.disparate_impact!r}.")
        if not _whole(self.min_positives) or self.min_positives < 1:
            raise FairGenError(f"min_positives must be a positive whole number (e.g. 30), not {self.min_positives!r}.")

    def for_metric(self, metric: str) -> float:
        """The tolerance of one of :data:`DIFFERENCE_METRICS`."""
        return {
            "statistical_parity_difference": self.statistical_parity,
            "disparate_impact": self.disparate_impact,
            "equal_opportunity_difference": self.equal_opportunity,
            "average_abs_odds_difference": self.average_odds,
            "predictive_parity_difference": self.predictive_parity,
        }[metric]


@dataclass(frozen=True)
class ModelAuditConfig:
    """How a model is audited.

    Parameters
    ----------
    threshold : float
        For scores: decision = ``score >= threshold`` (default 0.5). Ignored for 0/1 decisions.
    group_thresholds : tuple of float, optional
        For scores: one threshold per group index (overrides ``threshold``).
    bootstrap : int
        Bootstrap resamples per model (default 1000).
    seed : int
        Seed of the resampling; every model gets a generator seeded with it.
    confidence : float
        Coverage of the intervals, in (0, 1) (default 0.95).
    tolerances : Tolerances
        When a difference is a disparity.
    calibration_bins : int
        Equal-width score bins of the reliability curve (default 10).
    """

    threshold: float = 0.5
    group_thresholds: tuple[float, ...] | None = None
    bootstrap: int = 1000
    seed: int = 0
    confidence: float = 0.95
    tolerances: Tolerances = field(default_factory=Tolerances)
    calibration_bins: int = 10

    def __post_init__(self) -> None:
        for value in (self.threshold, *(self.group_thresholds or ())):
            if not 0 <= value <= 1:
                raise FairGenError(f"a threshold applies to scores in [0, 1], so it must lie in [0, 1], not {value!r}.")
        if not _whole(self.bootstrap) or self.bootstrap < 1:
            raise FairGenError(f"bootstrap must be a positive number of resamples (e.g. 1000), not {self.bootstrap!r}.")
        if not 0 < self.confidence < 1:
            raise FairGenError(f"confidence must lie strictly between 0 and 1 (e.g. 0.95), not {self.confidence!r}.")
        if not _whole(self.calibration_bins) or self.calibration_bins < 1:
            raise FairGenError(f"calibration_bins must be a positive whole number, not {self.calibration_bins!r}.")


@dataclass(frozen=True, eq=False)
class ModelInput:
    """One model's outputs, aligned with the data rows.

    Attributes
    ----------
    name : str
        The model's name (its column).
    values : numpy.ndarray
        One value per data row: 0/1 decisions (1 = favourable) or scores in [0, 1].
    is_score : bool
        Whether ``values`` are scores (thresholded by the config) rather than decisions.
    """

    name: str
    values: np.ndarray
    is_score: bool


@dataclass(frozen=True, eq=False)
class ModelAudit:
    """The audit of one model (see :func:`audit_model`).

    Attributes
    ----------
    model : str
        The model's name.
    per_group : pandas.DataFrame
        One row per group (:data:`PER_GROUP_COLUMNS`, plus ``brier`` for scores); rates with a zero
        denominator are NaN.
    differences : pandas.DataFrame
        One row per metric of :data:`DIFFERENCE_METRICS` (:data:`DIFFERENCE_COLUMNS`): the value, the
        bootstrap interval, the tolerance (for disparate impact the lowest acceptable ratio), the verdict
        and a note (why the evidence is insufficient and how many rows would help; the direction of a
        disparity; empty otherwise).
    calibration : pandas.DataFrame or None
        For scores: the reliability curve per group (:data:`CALIBRATION_COLUMNS`, non-empty bins only).
    unprivileged, privileged : str
        The compared groups' names.
    is_score : bool
        Whether the model gave scores.
    thresholds : tuple of float or None
        For scores: the threshold of each group; None for decisions.
    n_rows : int
        Rows audited (those with a label and every sensitive value).
    confidence : float
        Coverage of the intervals.
    """

    model: str
    per_group: pd.DataFrame
    differences: pd.DataFrame
    calibration: pd.DataFrame | None
    unprivileged: str
    privileged: str
    is_score: bool
    thresholds: tuple[float, ...] | None
    n_rows: int
    confidence: float

    def to_dict(self) -> dict:
        """The audit as JSON-ready built-in types (non-finite numbers become None).

        Returns
        -------
        dict
            ``model``, ``is_score``, ``thresholds``, ``n_rows``, ``confidence``, ``unprivileged``,
            ``privileged``, and the tables ``per_group``, ``differences``, ``calibration`` as lists of
            records (``calibration`` None for decisions), plus ``summary``.
        """
        return {
            "model": self.model,
            "is_score": self.is_score,
            "thresholds": list(self.thresholds) if self.thresholds is not None else None,
            "n_rows": self.n_rows,
            "confidence": self.confidence,
            "unprivileged": self.unprivileged,
            "privileged": self.privileged,
            "per_group": _records(self.per_group),
            "differences": _records(self.differences),
            "calibration": _records(self.calibration) if self.calibration is not None else None,
            "summary": self.summary(),
        }

    @property
    def decision_rule(self) -> str:
        """How decisions were made: ``"decisions"``, ``"scores, threshold 0.5"`` or ``"scores, group thresholds …"``."""
        if self.thresholds is None:
            return "decisions"
        if len(set(self.thresholds)) == 1:
            return f"scores, threshold {self.thresholds[0]:g}"
        return "scores, group thresholds " + ", ".join(f"{t:g}" for t in self.thresholds)

    def summary(self) -> str:
        """One plain-language paragraph: what was compared and each metric's verdict.

        Returns
        -------
        str
            E.g. "Model 'score' (scores, threshold 0.5) on 1,000 rows, 'sex=Female' (unprivileged) compared
            with 'sex=Male' (privileged). Disparity: statistical parity difference -0.210 (95% interval -0.250
            to -0.170), the selection rate is lower for 'sex=Female' than for 'sex=Male'. Within tolerance: ...".
            Notes on insufficient evidence (how many rows would help) stay in :attr:`differences`.
        """
        sentences = [f"Model '{self.model}' ({self.decision_rule}) on {self.n_rows:,} rows, '{self.unprivileged}' "
                     f"(unprivileged) compared with '{self.privileged}' (privileged)."]
        for verdict in (DISPARITY, WITHIN, INSUFFICIENT):
            rows = self.differences[self.differences["verdict"] == verdict]
            if not rows.empty:
                described = "; ".join(self._describe(row, with_note=verdict == DISPARITY)
                                      for row in rows.itertuples(index=False))
                sentences.append(f"{verdict.capitalize()}: {described}.")
        if (self.differences["verdict"] == INSUFFICIENT).any():
            sentences.append("Insufficient evidence means the interval spans a tolerance or a group has too few cases; "
                             "the notes say how many rows would settle each.")
        return " ".join(sentences)

    def _describe(self, row: tuple, *, with_note: bool) -> str:
        text = f"{row.metric.replace('_', ' ')} {_fmt(row.value)}"
        if np.isfinite(row.ci_low) or np.isfinite(row.ci_high):
            text += f" ({self.confidence:.0%} interval {_fmt(row.ci_low)} to {_fmt(row.ci_high)})"
        return text + (f", {row.note}" if with_note and row.note else "")


@dataclass(frozen=True)
class EqualisingThresholds:
    """Per-group thresholds that equalise the TPR, and their cost in balanced accuracy.

    Attributes
    ----------
    threshold : float
        The single threshold the target comes from.
    target_tpr : float
        The overall TPR at ``threshold``, which every group's TPR is brought close to.
    thresholds : tuple of float
        The threshold of each group index (``threshold`` for a group without positives).
    tpr : tuple of float
        Each group's TPR at its threshold (NaN without positives).
    balanced_accuracy_single, balanced_accuracy_equalised : float
        Overall balanced accuracy at the single threshold and at the group thresholds.
    """

    threshold: float
    target_tpr: float
    thresholds: tuple[float, ...]
    tpr: tuple[float, ...]
    balanced_accuracy_single: float
    balanced_accuracy_equalised: float

    @property
    def cost(self) -> float:
        """Balanced accuracy lost by using the group thresholds (negative: gained)."""
        return self.balanced_accuracy_single - self.balanced_accuracy_equalised


# -- input -----------------------------------------------------------------------------------------
def model_inputs(
    frame: pd.DataFrame, columns: Sequence[str], *, scores: bool, rescale: bool = False
) -> list[ModelInput]:
    """Check prediction columns of ``frame`` and wrap them as models to audit.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data (or predictions aligned with it by :func:`join_predictions`).
    columns : sequence of str
        One column per model.
    scores : bool
        True: the columns hold scores in [0, 1] (thresholded later); False: 0/1 decisions (True/False too).
    rescale : bool
        For scores outside [0, 1]: min–max scale each column to [0, 1] (order kept) instead of refusing it.

    Returns
    -------
    list of ModelInput
        One per column, in order.

    Raises
    ------
    SpecError
        If a column is not in ``frame``.
    PredictionError
        If no column is given or one is given twice, or a column has missing or non-numeric values (the
        message names the first rows), a single value, decisions other than 0/1, or scores outside
        [0, 1] without ``rescale``.

    Examples
    --------
    >>> frame = pd.DataFrame({"p": [0, 1, 1], "s": [0.2, 0.9, 0.5]})
    >>> [(m.name, m.values.tolist()) for m in model_inputs(frame, ["s"], scores=True)]
    [('s', [0.2, 0.9, 0.5])]
    """
    if isinstance(columns, str) or not columns:
        raise PredictionError("choose at least one predictions column (a list of column names).")
    repeated = sorted({c for c in columns if list(columns).count(c) > 1})
    if repeated:
        raise PredictionError(f"predictions column(s) {', '.join(map(repr, repeated))} are listed twice: list each "
                              "model's column once.")
    models = []
    for column in columns:
        require_column(frame, column, "predictions")
        values = _numeric_predictions(frame[column], column, scores)
        values = _checked_scores(values, column, rescale) if scores else _checked_decisions(values, column)
        models.append(ModelInput(str(column), values, is_score=scores))
    return models


def join_predictions(frame: pd.DataFrame, predictions: pd.DataFrame, *, key: str | None = None) -> pd.DataFrame:
    """Align a second table of predictions with the rows of ``frame``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data.
    predictions : pandas.DataFrame
        One or more prediction columns (and the key column when ``key`` is given).
    key : str, optional
        A column in both tables identifying a row; each value once per table, every data row with a
        prediction and every prediction with a data row. Without it, rows are matched by order, and the
        two tables must have the same number of rows.

    Returns
    -------
    pandas.DataFrame
        The prediction columns (without the key), one row per row of ``frame``, with ``frame``'s index.

    Raises
    ------
    SpecError
        If ``key`` is not in ``frame``.
    PredictionError
        If ``key`` is not in ``predictions``, the row counts differ (by order), or key values are missing,
        repeated, or unmatched on either side (the message gives the count and examples).

    Examples
    --------
    >>> data = pd.DataFrame({"id": [1, 2, 3], "y": [0, 1, 1]})
    >>> preds = pd.DataFrame({"id": [3, 1, 2], "p": [1, 0, 1]})
    >>> join_predictions(data, preds, key="id")["p"].tolist()
    [0, 1, 1]
    """
    if key is None:
        if len(predictions) != len(frame):
            raise PredictionError(
                f"the predictions have {len(predictions):,} rows but the data has {len(frame):,}: matching by row "
                "order needs the same rows in the same order. Give a key column present in both files (--key "
                "COLUMN on the command line), or export the predictions for exactly the data's rows."
            )
        return predictions.set_axis(frame.index, axis=0)
    require_column(frame, key, "key")
    if key not in predictions.columns:
        raise PredictionError(f"key column '{key}' is not in the predictions (their columns: "
                              f"{', '.join(map(repr, predictions.columns[:10]))}): add it, or match by row order.")
    if predictions.shape[1] < 2:
        raise PredictionError(f"the predictions hold only the key column '{key}': add the models' prediction columns.")
    data_keys = _key_values(frame[key], predictions[key], "the data", key)
    prediction_keys = _key_values(predictions[key], frame[key], "the predictions", key)
    index = pd.Index(prediction_keys)
    _require_unique(data_keys, "the data", key)
    _require_unique(prediction_keys, "the predictions", key)
    positions = index.get_indexer(data_keys)
    _require_matched(data_keys[positions < 0], "data row(s) have no prediction", key,
                     "add their predictions, or drop those rows from the data")
    unused = ~index.isin(data_keys)
    _require_matched(prediction_keys[unused], "prediction(s) match no data row", key,
                     "check that both files use the same key values, or drop those predictions")
    return predictions.drop(columns=[key]).iloc[positions].set_axis(frame.index, axis=0)


# -- the audit -------------------------------------------------------------------------------------
def audit_model(
    frame: pd.DataFrame, spec: DatasetSpec, model: ModelInput, config: ModelAuditConfig = ModelAuditConfig()
) -> ModelAudit:
    """Audit one model's decisions or scores for group fairness.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data, with the label and sensitive columns of ``spec``.
    spec : DatasetSpec
        Label, favourable values and sensitive attributes; the groups are their intersections. Rows with a
        missing label or sensitive value are left out.
    model : ModelInput
        The model's values, one per row of ``frame`` (see :func:`model_inputs`).
    config : ModelAuditConfig
        Threshold(s), bootstrap, tolerances.

    Returns
    -------
    ModelAudit
        Per-group table, differences with intervals and verdicts (see the module notes), calibration.

    Raises
    ------
    FairGenError
        If the values do not have one entry per row or are not 0/1 decisions / scores in [0, 1], the group
        thresholds do not give one per group, or no row has a label and every sensitive value.

    Examples
    --------
    >>> from fairgen_core.data.spec import SensitiveAttribute
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"y": rng.integers(0, 2, 2000), "sex": rng.choice(["f", "m"], 2000)})
    >>> spec = DatasetSpec("y", (1,), (SensitiveAttribute("sex", ("m",)),))
    >>> audit = audit_model(frame, spec, ModelInput("copy", frame["y"].to_numpy(), is_score=False))
    >>> row = audit.differences.set_index("metric").loc["equal_opportunity_difference"]
    >>> float(row["value"]), row["verdict"]
    (0.0, 'within tolerance')
    """
    return audit_models(frame, spec, [model], config)[0]


def audit_models(
    frame: pd.DataFrame,
    spec: DatasetSpec,
    models: Sequence[ModelInput],
    config: ModelAuditConfig = ModelAuditConfig(),
) -> list[ModelAudit]:
    """Audit several models on the same rows (see :func:`audit_model`).

    Parameters
    ----------
    frame, spec, config
        As for :func:`audit_model`; the groups are assigned once.
    models : sequence of ModelInput
        The models, each audited with its own generator seeded with ``config.seed`` (so a model's
        intervals do not depend on the others).

    Returns
    -------
    list of ModelAudit
        One per model, in order.
    """
    assignment = assign_domains(frame, spec)
    valid = assignment.valid
    if not valid.any():
        raise FairGenError(f"no row has both a label ('{spec.label}') and every sensitive value "
                           f"({', '.join(spec.sensitive_columns)}): fill in those columns.")
    names = assignment.group_names
    if config.group_thresholds is not None and len(config.group_thresholds) != len(names):
        raise FairGenError(f"give one threshold per group: {len(config.group_thresholds)} given for the "
                           f"{len(names)} groups {', '.join(map(repr, names))}.")
    y, group = assignment.label[valid], assignment.group[valid]
    audits = []
    for model in models:
        values = _aligned_values(model, len(frame))[valid]
        audits.append(_audit_rows(model.name, y, values, group, names, model.is_score, config))
    return audits


def group_rates(
    y: np.ndarray,
    values: np.ndarray,
    group: np.ndarray,
    threshold: float | Sequence[float],
    group_names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per-group size, selection rate, TPR and FPR at a threshold: fast enough for a slider.

    Parameters
    ----------
    y : numpy.ndarray
        Binary labels (1 = favourable) of the rows, e.g. ``assign_domains(...).label[valid]``.
    values : numpy.ndarray
        Scores in [0, 1] (or 0/1 decisions, with any threshold in (0, 1]) of the same rows.
    group : numpy.ndarray
        Group index per row, e.g. ``assign_domains(...).group[valid]``.
    threshold : float or sequence of float
        One threshold for everybody, or one per group index; decision = ``value >= threshold``.
    group_names : sequence of str, optional
        Names of the groups (default: the indices; their number gives the number of groups).

    Returns
    -------
    pandas.DataFrame
        Index ``group``; columns ``threshold``, ``n``, ``positives``, ``negatives``, ``selection_rate``,
        ``tpr``, ``fpr`` (NaN with a zero denominator).

    Examples
    --------
    >>> table = group_rates(np.array([1, 0, 1, 0]), np.array([0.9, 0.6, 0.4, 0.2]), np.array([0, 0, 1, 1]),
    ...                     0.5, ["a", "b"])
    >>> table[["selection_rate", "tpr", "fpr"]].to_dict("list")
    {'selection_rate': [1.0, 0.0], 'tpr': [1.0, 0.0], 'fpr': [1.0, 0.0]}
    """
    y, values, group = (np.asarray(a) for a in (y, values, group))
    if not len(y) == len(values) == len(group):
        raise FairGenError(f"labels, values and groups must have one entry per row, but have {len(y):,}, "
                           f"{len(values):,} and {len(group):,}.")
    n_groups = len(group_names) if group_names is not None else int(group.max(initial=-1)) + 1
    thresholds = _group_threshold_array(threshold, n_groups)
    counts = cell_counts(y.astype(np.int64), (values >= thresholds[group]).astype(np.int64), group, n_groups)
    rates = confusion_rates(counts)
    return pd.DataFrame(
        {
            "threshold": thresholds,
            "n": counts.sum(axis=(1, 2)),
            "positives": counts[:, 1].sum(axis=1),
            "negatives": counts[:, 0].sum(axis=1),
            "selection_rate": rates["selection_rate"],
            "tpr": rates["tpr"],
            "fpr": rates["fpr"],
        },
        index=pd.Index(list(group_names) if group_names is not None else range(n_groups), name="group"),
    )


def equalising_thresholds(
    y: np.ndarray,
    scores: np.ndarray,
    group: np.ndarray,
    *,
    threshold: float = 0.5,
    grid: np.ndarray | None = None,
) -> EqualisingThresholds:
    """Per-group thresholds that equalise the TPR (the post-processing anchor), and their cost.

    Parameters
    ----------
    y : numpy.ndarray
        Binary labels (1 = favourable).
    scores : numpy.ndarray
        Scores in [0, 1] of the same rows.
    group : numpy.ndarray
        Group index per row (``0 .. n_groups - 1``).
    threshold : float
        The single threshold; the target TPR is the overall TPR there.
    grid : numpy.ndarray, optional
        Candidate thresholds (default ``0, 0.01, ..., 1``). Each group gets the candidate whose TPR is
        closest to the target (ties: the candidate closest to ``threshold``).

    Returns
    -------
    EqualisingThresholds
        The thresholds, the TPR each reaches, and the overall balanced accuracy at the single threshold
        and at the group thresholds (``cost`` is their difference).

    Examples
    --------
    >>> y = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    >>> s = np.array([0.9, 0.7, 0.4, 0.1, 0.45, 0.35, 0.2, 0.1])
    >>> result = equalising_thresholds(y, s, np.array([0, 0, 0, 0, 1, 1, 1, 1]), threshold=0.5)
    >>> result.target_tpr, result.tpr, result.thresholds
    (0.5, (0.5, 0.5), (0.71, 0.45))
    """
    y, scores, group = (np.asarray(a) for a in (y, scores, group))
    grid = np.round(np.linspace(0, 1, 101), 10) if grid is None else np.sort(np.asarray(grid, dtype=float))
    n_groups = int(group.max(initial=-1)) + 1
    positive = y == 1
    target = float(np.mean(scores[positive] >= threshold)) if positive.any() else math.nan
    chosen, reached = [], []
    for g in range(n_groups):
        ranked = np.sort(scores[positive & (group == g)])
        if not ranked.size or math.isnan(target):
            chosen.append(float(threshold))
            reached.append(math.nan)
            continue
        tpr = 1 - np.searchsorted(ranked, grid, side="left") / ranked.size
        error = np.abs(tpr - target)
        ties = np.flatnonzero(error <= error.min() + 1e-12)
        best = ties[np.argmin(np.abs(grid[ties] - threshold))]
        chosen.append(float(grid[best]))
        reached.append(float(tpr[best]))
    return EqualisingThresholds(
        threshold=float(threshold),
        target_tpr=target,
        thresholds=tuple(chosen),
        tpr=tuple(reached),
        balanced_accuracy_single=_balanced_accuracy(y, scores >= threshold),
        balanced_accuracy_equalised=_balanced_accuracy(y, scores >= np.asarray(chosen)[group]),
    )


# -- input checks ----------------------------------------------------------------------------------
def _rows(mask: np.ndarray, limit: int = 5) -> str:
    """The first rows where ``mask`` holds, 1-based (row 1 = the first data row under the header)."""
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(r + 1) for r in rows[:limit])
    more = f" and {rows.size - limit:,} more" if rows.size > limit else ""
    return f"row{'s' if rows.size > 1 else ''} {shown}{more} (row 1 = the first data row)"


def _numeric_predictions(series: pd.Series, column: str, scores: bool) -> np.ndarray:
    """The column as floats, refusing missing and non-numeric values (naming rows)."""
    missing = series.isna().to_numpy()
    if missing.any():
        raise PredictionError(
            f"predictions column '{column}' has {int(missing.sum()):,} missing value(s), at {_rows(missing)}: every "
            "audited row needs the model's output. Fill them in, or drop those rows from the data."
        )
    if pd.api.types.is_bool_dtype(series):
        return series.to_numpy().astype(float)
    numbers = pd.to_numeric(series, errors="coerce")
    bad = numbers.isna().to_numpy()
    if bad.any():
        distinct = pd.unique(series.astype(str))
        if not scores and len(distinct) == 2:
            first, second = sorted(distinct)
            raise PredictionError(
                f"predictions column '{column}' holds the values '{first}' and '{second}', not 0/1: map the "
                f"favourable decision to 1 and the other to 0 (e.g. 1 for '{second}', 0 for '{first}')."
            )
        raise PredictionError(
            f"predictions column '{column}' has non-numeric value(s) such as {series[bad].iloc[0]!r}, at "
            f"{_rows(bad)}: give {'scores as numbers in [0, 1]' if scores else '0/1 decisions'} in that column."
        )
    values = numbers.to_numpy(dtype=float)
    infinite = ~np.isfinite(values)
    if infinite.any():
        raise PredictionError(f"predictions column '{column}' has infinite value(s), at {_rows(infinite)}: give "
                              "finite numbers.")
    return values


def _single_value(values: np.ndarray, column: str, what: str) -> None:
    if values.size and (values == values[0]).all():
        raise PredictionError(
            f"predictions column '{column}' holds a single value ({values[0]:g}) in all {values.size:,} rows: a "
            f"model giving everybody the same {what} treats every group alike by construction, so there is "
            "nothing to audit. Check that this is the model's output column."
        )


def _checked_decisions(values: np.ndarray, column: str) -> np.ndarray:
    distinct = np.unique(values)
    if np.isin(distinct, (0, 1)).all():
        _single_value(values, column, "decision")
        return values.astype(np.int8)
    if distinct.size == 2:
        raise PredictionError(
            f"predictions column '{column}' holds the values {distinct[0]:g} and {distinct[1]:g}, not 0/1: map the "
            f"favourable decision to 1 and the other to 0 (e.g. 1 for {distinct[1]:g}), or audit the column as "
            "scores (--scores) if it is a score."
        )
    shown = ", ".join(f"{v:g}" for v in distinct[:5])
    raise PredictionError(
        f"predictions column '{column}' holds {distinct.size:,} distinct values ({shown}"
        f"{', …' if distinct.size > 5 else ''}), not 0/1 decisions: if they are scores or probabilities, audit "
        "them as scores (--scores, with --threshold)."
    )


def _checked_scores(values: np.ndarray, column: str, rescale: bool) -> np.ndarray:
    _single_value(values, column, "score")
    outside = (values < 0) | (values > 1)
    if not outside.any():
        return values
    if rescale:
        low, high = values.min(), values.max()
        return (values - low) / (high - low)
    raise PredictionError(
        f"scores column '{column}' has values outside [0, 1] (from {values.min():g} to {values.max():g}; at "
        f"{_rows(outside)}): give probabilities in [0, 1], rescale the column yourself, or let FairGen min–max "
        "scale it to [0, 1] (--rescale-scores on the command line; the order of the scores is kept, the "
        "threshold then applies to the scaled scores)."
    )


def _key_values(series: pd.Series, other: pd.Series, side: str, key: str) -> np.ndarray:
    """Key values comparable with the other table's: numbers as numbers, anything else as text."""
    missing = series.isna().to_numpy()
    if missing.any():
        raise PredictionError(f"key '{key}' is missing in {int(missing.sum()):,} row(s) of {side}, at "
                              f"{_rows(missing)}: every row needs its key to be matched.")
    both_numeric = all(pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) for s in (series, other))
    return series.to_numpy(dtype=float) if both_numeric else series.astype(str).str.strip().to_numpy(dtype=object)


def _examples(values: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(repr(_plain(v)) for v in values[:limit])
    return shown + (", …" if len(values) > limit else "")


def _plain(value: object) -> object:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _require_unique(keys: np.ndarray, side: str, key: str) -> None:
    counts = pd.Series(keys).value_counts()
    repeated = counts[counts > 1]
    if not repeated.empty:
        raise PredictionError(
            f"key '{key}' repeats in {side}: {len(repeated):,} value(s) occur more than once (e.g. "
            f"{_examples(repeated.index.to_numpy())}), so a row cannot be matched to one prediction. Remove the "
            "duplicate rows, or choose a key that identifies each row."
        )


def _require_matched(unmatched: np.ndarray, what: str, key: str, fix: str) -> None:
    if len(unmatched):
        raise PredictionError(f"{len(unmatched):,} {what} (key '{key}' e.g. {_examples(unmatched)}): {fix}.")


def _aligned_values(model: ModelInput, n_rows: int) -> np.ndarray:
    values = np.asarray(model.values)
    if values.ndim != 1 or len(values) != n_rows:
        raise PredictionError(f"model '{model.name}' has {values.size:,} value(s) but the data has {n_rows:,} rows: "
                              "give one prediction per data row (join_predictions aligns a second file).")
    if model.is_score:
        if not (np.isfinite(values).all() and ((values >= 0) & (values <= 1)).all()):
            raise PredictionError(f"model '{model.name}' must hold scores in [0, 1] without missing values: "
                                  "check them with model_inputs(..., scores=True).")
    elif not np.isin(values, (0, 1)).all():
        raise PredictionError(f"model '{model.name}' must hold 0/1 decisions: check them with "
                              "model_inputs(..., scores=False), or mark the model's values as scores.")
    return values


# -- computing the audit ---------------------------------------------------------------------------
def _audit_rows(
    name: str,
    y: np.ndarray,
    values: np.ndarray,
    group: np.ndarray,
    names: tuple[str, ...],
    is_score: bool,
    config: ModelAuditConfig,
) -> ModelAudit:
    n_groups = len(names)
    thresholds = None
    if is_score:
        thresholds = tuple(float(t) for t in _group_threshold_array(
            config.group_thresholds if config.group_thresholds is not None else config.threshold, n_groups))
        decisions = values >= np.asarray(thresholds)[group]
    else:
        decisions = values
    counts = cell_counts(y, decisions.astype(np.int64), group, n_groups)
    per_group = _per_group(counts, names)
    calibration = None
    if is_score:
        per_group["brier"] = _brier(y, values, group, n_groups)
        calibration = _calibration(y, values, group, names, config.calibration_bins)
    draws = _bootstrap_counts(counts, config.bootstrap, np.random.default_rng(config.seed))
    differences = _differences_table(counts, draws, names, config)
    return ModelAudit(
        model=name, per_group=per_group, differences=differences, calibration=calibration,
        unprivileged=names[0], privileged=names[-1], is_score=is_score, thresholds=thresholds,
        n_rows=len(y), confidence=config.confidence,
    )


def _group_threshold_array(threshold: float | Sequence[float], n_groups: int) -> np.ndarray:
    thresholds = np.broadcast_to(np.asarray(threshold, dtype=float), (n_groups,)) if np.ndim(threshold) == 0 \
        else np.asarray(threshold, dtype=float)
    if thresholds.shape != (n_groups,):
        raise FairGenError(f"give one threshold, or one per group ({n_groups}), not {len(thresholds)}.")
    return thresholds


def _per_group(counts: np.ndarray, names: tuple[str, ...]) -> pd.DataFrame:
    rates = confusion_rates(counts)
    tn, fp, fn, tp = counts[:, 0, 0], counts[:, 0, 1], counts[:, 1, 0], counts[:, 1, 1]
    return pd.DataFrame({
        "group": list(names), "n": tp + fp + tn + fn, "positives": tp + fn, "negatives": tn + fp,
        "tp": tp, "fp": fp, "tn": tn, "fn": fn,
        **{column: rates[column] for column in PER_GROUP_COLUMNS[8:]},
    })


def _brier(y: np.ndarray, scores: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Mean squared difference between score and label, per group (NaN for an empty group)."""
    n = np.bincount(group, minlength=n_groups)
    total = np.bincount(group, weights=(scores - y) ** 2, minlength=n_groups)
    return np.divide(total, n, out=np.full(n_groups, np.nan), where=n > 0)


def _calibration(y: np.ndarray, scores: np.ndarray, group: np.ndarray, names: tuple[str, ...], bins: int
                 ) -> pd.DataFrame:
    """Reliability curve per group: equal-width score bins (the last one includes 1), non-empty bins only."""
    index = np.minimum((scores * bins).astype(np.int64), bins - 1)
    cell = group * bins + index
    size = len(names) * bins
    n = np.bincount(cell, minlength=size)
    score_sum = np.bincount(cell, weights=scores, minlength=size)
    label_sum = np.bincount(cell, weights=y, minlength=size)
    kept = np.flatnonzero(n)
    g, b = np.divmod(kept, bins)
    return pd.DataFrame({
        "group": [names[i] for i in g], "bin": b, "bin_low": b / bins, "bin_high": (b + 1) / bins,
        "mean_score": score_sum[kept] / n[kept], "observed_rate": label_sum[kept] / n[kept], "n": n[kept],
    })


def _bootstrap_counts(counts: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Resampled cell counts, shape ``(n_boot, n_groups, 2, 2)``, stratified by group (see the module notes)."""
    draws = np.zeros((n_boot, *counts.shape), dtype=np.int64)
    for g, cells in enumerate(counts):
        n = int(cells.sum())
        if n:
            draws[:, g] = rng.multinomial(n, cells.ravel() / n, size=n_boot).reshape(n_boot, 2, 2)
    return draws


def _difference_values(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Every difference metric, group 0 vs the last group, for counts of shape ``(..., n_groups, 2, 2)``."""
    rates = confusion_rates(counts)

    def gap(metric: str) -> np.ndarray:
        return rates[metric][..., 0] - rates[metric][..., -1]

    unprivileged, privileged = rates["selection_rate"][..., 0], rates["selection_rate"][..., -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        impact = np.where(privileged > 0, unprivileged / privileged,
                          np.where(unprivileged > 0, np.inf, np.nan))
    return {
        "statistical_parity_difference": gap("selection_rate"),
        "disparate_impact": impact,
        "equal_opportunity_difference": gap("tpr"),
        "average_abs_odds_difference": (np.abs(gap("tpr")) + np.abs(gap("fpr"))) / 2,
        "predictive_parity_difference": gap("precision"),
    }


def _differences_table(counts: np.ndarray, draws: np.ndarray, names: tuple[str, ...], config: ModelAuditConfig
                       ) -> pd.DataFrame:
    estimates = _difference_values(counts)
    resampled = _difference_values(draws)
    alpha = (1 - config.confidence) / 2
    compared = counts[[0, -1]]
    rows = []
    for metric in DIFFERENCE_METRICS:
        value = float(estimates[metric])
        low, high = _percentiles(resampled[metric], alpha)
        tolerance = config.tolerances.for_metric(metric)
        bounds = (tolerance, 1 / tolerance) if metric == "disparate_impact" else (-tolerance, tolerance)
        verdict = _interval_verdict(value, low, high, bounds)
        short = _support_note(metric, compared, (names[0], names[-1]), config.tolerances.min_positives)
        if short:
            verdict, note = INSUFFICIENT, short
        else:
            note = _verdict_note(metric, verdict, value, (low, high), bounds, int(compared.sum()),
                                 (names[0], names[-1]))
        rows.append((metric, value, low, high, tolerance, verdict, note))
    return pd.DataFrame(rows, columns=list(DIFFERENCE_COLUMNS))


def _percentiles(values: np.ndarray, alpha: float) -> tuple[float, float]:
    defined = values[~np.isnan(values)]
    if not defined.size:
        return math.nan, math.nan
    low, high = np.quantile(defined, [alpha, 1 - alpha], method="inverted_cdf")
    return float(low), float(high)


def _interval_verdict(value: float, low: float, high: float, bounds: tuple[float, float]) -> str:
    if math.isnan(value) or math.isnan(low) or math.isnan(high):
        return INSUFFICIENT
    lower, upper = bounds
    if high < lower or low > upper:
        return DISPARITY
    if lower <= low and high <= upper:
        return WITHIN
    return INSUFFICIENT


def _support_counts(cells: np.ndarray) -> dict[str, int]:
    return {"n": int(cells.sum()), "positives": int(cells[1].sum()), "negatives": int(cells[0].sum()),
            "selected": int(cells[:, 1].sum())}


def _support_note(metric: str, compared: np.ndarray, names: tuple[str, str], minimum: int) -> str:
    """Why a compared group has too few cases for ``metric``, and the rows it would need; '' if enough."""
    for cells, name in zip(compared, names):
        have = _support_counts(cells)
        for count, what in _SUPPORT[metric]:
            if have[count] >= minimum:
                continue
            if have[count] == 0:
                need = f"it needs at least {minimum} such rows"
            else:
                need = (f"at its current share that takes about {math.ceil(have['n'] * minimum / have[count]):,} "
                        f"rows of this group (now {have['n']:,})")
            return f"group '{name}' has {have[count]:,} {what}, fewer than {minimum}: {need}"
    return ""


def _verdict_note(metric: str, verdict: str, value: float, interval: tuple[float, float],
                  bounds: tuple[float, float], n_compared: int, names: tuple[str, str]) -> str:
    if verdict == WITHIN:
        return ""
    if verdict == DISPARITY:
        parity = 1.0 if metric == "disparate_impact" else 0.0
        what = "selection rate" if metric in ("statistical_parity_difference", "disparate_impact") else \
            {"equal_opportunity_difference": "TPR", "predictive_parity_difference": "precision"}.get(metric)
        if what is None:
            return f"the TPR and FPR differ between '{names[0]}' and '{names[1]}'"
        return f"the {what} is {'lower' if value < parity else 'higher'} for '{names[0]}' than for '{names[1]}'"
    if math.isnan(value) or math.isnan(interval[0]):
        return "undefined: a compared group has no rows in a denominator of this metric"
    scale = _rows_factor(metric, value, interval, bounds)
    if scale is None:
        return "the estimate lies on the tolerance bound or the interval is unbounded: more rows are needed"
    return (f"the interval spans the tolerance: about {math.ceil(scale * n_compared):,} rows in the two compared "
            f"groups (now {n_compared:,}) would settle it (if the interval narrows as 1/√n around this estimate)")


def _rows_factor(metric: str, value: float, interval: tuple[float, float], bounds: tuple[float, float]
                 ) -> float | None:
    """How many times the rows would shrink the interval (width ∝ 1/√n) to clear the nearer bound, or None."""
    transform = np.log if metric == "disparate_impact" else (lambda v: v)
    with np.errstate(divide="ignore"):
        v, low, high = (float(transform(x)) for x in (value, *interval))
        lower, upper = (float(transform(x)) for x in bounds)
    if not all(map(math.isfinite, (v, low, high))):
        return None
    if lower < v < upper:  # shrink until inside: both half-widths must fit
        shrink = min((upper - v) / (high - v) if high > v else math.inf,
                     (v - lower) / (v - low) if low < v else math.inf)
    elif v > upper:
        shrink = (v - upper) / (v - low)
    elif v < lower:
        shrink = (lower - v) / (high - v)
    else:
        return None
    return max(1.0, 1 / shrink**2)


def _balanced_accuracy(y: np.ndarray, decisions: np.ndarray) -> float:
    rates = confusion_rates(cell_counts(y.astype(np.int64), decisions.astype(np.int64), np.zeros(len(y), np.int64), 1))
    return float(rates["balanced_accuracy"][0])


def _records(table: pd.DataFrame) -> list[dict]:
    """Rows as dicts of built-in types; NaN and infinities become None."""
    records = []
    for row in table.to_dict(orient="records"):
        records.append({k: _json_value(v) for k, v in row.items()})
    return records


def _json_value(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "undefined"
    return "∞" if math.isinf(value) else f"{value:.3f}"
