"""The field's standard measures of synthetic tabular data, overall and per (group, label) domain.

Every score lies in [0, 1] and higher is better, except the efficacy gaps, which are differences:

* **Column shapes**: per column, 1 − KS statistic (numeric columns, missing values ignored) or 1 − total
  variation distance of the category frequencies (other columns; a missing value is a category of its own),
  computed by :func:`~fairgen_core.metrics.quality.marginal_comparison`; the score is their mean.
* **Column-pair trends**: per pair of columns, 1 − |ρ_real − ρ_synthetic| / 2 with Pearson's ρ for two numeric
  columns (rows where both are present; NaN when either side is constant), else 1 − total variation distance
  of the two columns' joint frequencies (contingency tables), numeric columns binned at the real rows' deciles
  (:data:`NUMERIC_BINS`; a missing value is a bin of its own). With more than :data:`MAX_PAIRS` pairs (wide
  tables: more than 25 columns), a seeded random subset of that many pairs is scored, the same for every domain.
  The score is the mean over scored pairs.
* **Detection**: scikit-learn's ``HistGradientBoostingClassifier`` learns to tell the real (held-out) rows from
  the synthetic ones; its stratified :data:`DETECTION_FOLDS`-fold cross-validated ROC AUC is reported as
  1 − 2·max(AUC − 0.5, 0): 1 when the two cannot be told apart, 0 when every row can. At most
  :data:`MAX_DETECTION_ROWS` rows per side are used (a seeded subsample).
* **Machine-learning efficacy**: the same classifier trained on synthetic rows (TSTR) and on real training rows
  (TRTR), both tested on the real held-out rows (at most :data:`MAX_TRAIN_ROWS` training rows each, seeded):
  balanced accuracy of each, and the fairness of each model
  (:func:`~fairgen_core.metrics.fairness.fairness_report`: ``abs_equal_opportunity_difference`` and
  ``average_abs_odds_difference``) — does the synthetic data alone give a fairer model?
* **Distance to the closest record** per domain: the median Euclidean distance (encoded space, as the overall
  check :func:`~fairgen_core.metrics.quality.closest_record_distances`) from the domain's synthetic rows and from
  its held-out real rows to the nearest of all training rows, at most :data:`MAX_DCR_ROWS` of each (seeded); a
  synthetic median clearly below the held-out one hints at memorisation.

Per domain, the table also gives the domain's real (held-out) and synthetic row counts, an interval for its
detection score (from the AUC's standard error) and a Wilson interval for each model's accuracy on the domain's
rows, all at :data:`ACCURACY_CONFIDENCE`: small domains (German has 20–60 test rows in some) are scored on few rows,
and their scores say less.

:data:`VERDICT_THRESHOLDS` is the one place where a measure is called good, fair or poor. On Adult (about 7,000
test rows) the whole set takes a few seconds on one core.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import balanced_accuracy_score, pairwise_distances_argmin_min, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from fairgen_core.errors import FairGenError
from fairgen_core.metrics.fairness import fairness_report
from fairgen_core.metrics.quality import marginal_comparison

#: Numeric columns are cut at this many quantiles of the real rows for the contingency tables of mixed pairs.
NUMERIC_BINS = 10
#: At most this many column pairs are scored for the trends (a seeded random subset beyond it).
MAX_PAIRS = 300
#: Folds of the detection classifier's cross-validation.
DETECTION_FOLDS = 3
#: At most this many real and this many synthetic rows are used for detection overall ...
MAX_DETECTION_ROWS = 3000
#: ... and within each domain.
MAX_DOMAIN_DETECTION_ROWS = 1000
#: At most this many rows train each efficacy model (TSTR and TRTR alike).
MAX_TRAIN_ROWS = 5000
#: At most this many synthetic and held-out rows per domain are compared for the distances to the closest record.
MAX_DCR_ROWS = 500
#: Domains with fewer real or synthetic rows than this get NaN scores.
MIN_DOMAIN_ROWS = 10
#: Confidence of the per-domain intervals (detection; accuracy, Wilson score intervals over the domain's test rows).
ACCURACY_CONFIDENCE = 0.95
#: Boosting rounds and histogram bins of the classifier of detection and efficacy (early stopping off: the same
#: rows give the same model). Fewer than scikit-learn's defaults (100, 255) for speed: on Adult's encoded rows the
#: detection score of real against real rows stays above 0.97.
BOOSTING_ROUNDS = 50
BOOSTING_BINS = 64
#: The fairness gaps of the efficacy models.
FAIRNESS_GAPS = ("abs_equal_opportunity_difference", "average_abs_odds_difference")

Verdict = Literal["good", "fair", "poor"]
#: The measures that get a verdict, in the order they are shown.
MEASURES = ("shapes", "trends", "detection", "tstr", "tstr_fairness")
#: Per measure, (good at least, fair at least) of its judged value: the score for shapes, trends and detection
#: (detection 0.8 is a ROC AUC of 0.6, 0.5 an AUC of 0.75); TSTR − TRTR balanced accuracy for ``tstr``; for
#: ``tstr_fairness`` the smaller of TRTR's gap − TSTR's gap over :data:`FAIRNESS_GAPS` (negative: the TSTR model is
#: less fair). A value below the second bound is poor.
VERDICT_THRESHOLDS: Mapping[str, tuple[float, float]] = MappingProxyType({
    "shapes": (0.95, 0.90), "trends": (0.95, 0.90), "detection": (0.80, 0.50),
    "tstr": (-0.03, -0.08), "tstr_fairness": (-0.02, -0.05),
})
#: What each measure is, for the front ends.
MEASURE_LABELS: Mapping[str, str] = MappingProxyType({
    "shapes": "Column shapes", "trends": "Column-pair trends", "detection": "Detection",
    "tstr": "Train on synthetic, test on real", "tstr_fairness": "Fairness of the TSTR model",
})
#: What each measure's judged value is (higher is better for every one), for the front ends' tables.
MEASURE_JUDGED_AS: Mapping[str, str] = MappingProxyType({
    "shapes": "score (1: same shapes)", "trends": "score (1: same trends)", "detection": "score (1: indistinguishable)",
    "tstr": "TSTR − TRTR balanced accuracy", "tstr_fairness": "TRTR gap − TSTR gap (positive: TSTR fairer)",
})
#: Columns of :attr:`FidelityReport.per_domain`.
DOMAIN_COLUMNS = ("domain", "n_real", "n_synthetic", "shape", "trend", "detection", "detection_low", "detection_high",
                  "tstr_accuracy", "tstr_accuracy_low", "tstr_accuracy_high",
                  "trtr_accuracy", "trtr_accuracy_low", "trtr_accuracy_high",
                  "dcr_synthetic_median", "dcr_holdout_median")
#: The score columns of :data:`DOMAIN_COLUMNS` (the others are the domain's name and its row counts).
_DOMAIN_SCORES = DOMAIN_COLUMNS[3:]


def judge(measure: str, value: float) -> Verdict | None:
    """Good, fair or poor by :data:`VERDICT_THRESHOLDS`; None for a NaN value.

    Examples
    --------
    >>> judge("shapes", 0.97), judge("detection", 0.6), judge("tstr", -0.1), judge("trends", float("nan"))
    ('good', 'fair', 'poor', None)
    """
    if math.isnan(value):
        return None
    good, fair = VERDICT_THRESHOLDS[measure]
    return "good" if value >= good else "fair" if value >= fair else "poor"


# -- column shapes and pair trends -----------------------------------------------------------------
def column_shapes(real: pd.DataFrame, synthetic: pd.DataFrame, numeric: Sequence[str],
                  categorical: Sequence[str]) -> pd.DataFrame:
    """Per column, 1 − KS statistic (numeric) or 1 − total variation distance (categorical).

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        Decoded rows with the named columns.
    numeric, categorical : sequence of str
        The columns of each kind.

    Returns
    -------
    pandas.DataFrame
        ``column``, ``kind`` and ``score`` in [0, 1] (NaN when a side has no values).

    Examples
    --------
    >>> real = pd.DataFrame({"age": [20, 30, 40, 50], "sex": ["F", "M", "F", "M"]})
    >>> column_shapes(real, real.assign(sex=["F", "F", "F", "M"]), ["age"], ["sex"])["score"].tolist()
    [1.0, 0.75]
    """
    marginals = marginal_comparison(real, synthetic, numeric, categorical)
    return pd.DataFrame({"column": marginals["column"], "kind": marginals["kind"], "score": 1.0 - marginals["value"]})


@dataclass(frozen=True)
class _Columns:
    """The columns of two tables prepared once for every pair: numeric values and category/bin codes."""

    names: tuple[str, ...]
    numeric: tuple[bool, ...]
    real_values: tuple[np.ndarray, ...]
    synthetic_values: tuple[np.ndarray, ...]
    real_codes: tuple[np.ndarray, ...]
    synthetic_codes: tuple[np.ndarray, ...]
    n_codes: tuple[int, ...]


def _prepare(real: pd.DataFrame, synthetic: pd.DataFrame, numeric: Sequence[str],
             categorical: Sequence[str]) -> _Columns:
    names, kinds, values_r, values_s, codes_r, codes_s, sizes = [], [], [], [], [], [], []
    for column in (*numeric, *categorical):
        is_numeric = column in numeric
        if is_numeric:
            x = pd.to_numeric(real[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            y = pd.to_numeric(synthetic[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            present = x[np.isfinite(x)]
            edges = np.unique(np.quantile(present, np.linspace(0, 1, NUMERIC_BINS + 1)[1:-1])) if len(present) \
                else np.empty(0)
            cr, cs = (np.where(np.isfinite(v), np.searchsorted(edges, v, side="right"), len(edges) + 1)
                      for v in (x, y))
            size = len(edges) + 2
        else:
            x = y = np.empty(0)
            both = pd.concat([real[column], synthetic[column]], ignore_index=True).astype(object)
            codes, uniques = pd.factorize(both, use_na_sentinel=True)
            codes = np.where(codes < 0, len(uniques), codes)
            cr, cs, size = codes[:len(real)], codes[len(real):], len(uniques) + 1
        names.append(column)
        kinds.append(is_numeric)
        values_r.append(x)
        values_s.append(y)
        codes_r.append(np.asarray(cr, dtype=np.int64))
        codes_s.append(np.asarray(cs, dtype=np.int64))
        sizes.append(int(size))
    return _Columns(tuple(names), tuple(kinds), tuple(values_r), tuple(values_s), tuple(codes_r), tuple(codes_s),
                    tuple(sizes))


def _pairs(n_columns: int, max_pairs: int, seed: int) -> np.ndarray:
    first, second = np.triu_indices(n_columns, k=1)
    pairs = np.column_stack([first, second])
    if len(pairs) > max_pairs:
        keep = np.sort(np.random.default_rng(seed).choice(len(pairs), size=max_pairs, replace=False))
        pairs = pairs[keep]
    return pairs


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    both = np.isfinite(x) & np.isfinite(y)
    x, y = x[both], y[both]
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(np.clip(np.corrcoef(x, y)[0, 1], -1.0, 1.0))


def _pair_scores(columns: _Columns, pairs: np.ndarray, real_rows: np.ndarray | slice = slice(None),
                 synthetic_rows: np.ndarray | slice = slice(None)) -> list[float]:
    scores = []
    for a, b in pairs:
        if columns.numeric[a] and columns.numeric[b]:
            rho_r = _pearson(columns.real_values[a][real_rows], columns.real_values[b][real_rows])
            rho_s = _pearson(columns.synthetic_values[a][synthetic_rows], columns.synthetic_values[b][synthetic_rows])
            scores.append(1.0 - abs(rho_r - rho_s) / 2.0)
            continue
        cells = columns.n_codes[a] * columns.n_codes[b]
        joint_r = columns.real_codes[a][real_rows] * columns.n_codes[b] + columns.real_codes[b][real_rows]
        joint_s = columns.synthetic_codes[a][synthetic_rows] * columns.n_codes[b] + \
            columns.synthetic_codes[b][synthetic_rows]
        if not len(joint_r) or not len(joint_s):
            scores.append(math.nan)
            continue
        p = np.bincount(joint_r, minlength=cells) / len(joint_r)
        q = np.bincount(joint_s, minlength=cells) / len(joint_s)
        scores.append(1.0 - 0.5 * float(np.abs(p - q).sum()))
    return scores


def column_pair_trends(real: pd.DataFrame, synthetic: pd.DataFrame, numeric: Sequence[str],
                       categorical: Sequence[str], *, max_pairs: int = MAX_PAIRS, seed: int = 0) -> pd.DataFrame:
    """Per pair of columns, 1 − |Δ Pearson ρ| / 2 (two numeric columns) or 1 − TVD of the contingency table.

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        Decoded rows with the named columns.
    numeric, categorical : sequence of str
        The columns of each kind; numeric columns in a mixed pair are cut at the real rows' deciles.
    max_pairs : int
        At most this many pairs are scored (a random subset drawn with ``seed`` beyond it).
    seed : int
        Seed of that subset.

    Returns
    -------
    pandas.DataFrame
        ``column_a``, ``column_b``, ``kind`` (``correlation`` or ``contingency``) and ``score`` in [0, 1] (NaN
        for a numeric pair with a constant side).

    Examples
    --------
    >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1.0, 2.0, 3.0, 4.0], "c": ["a", "a", "b", "b"]})
    >>> flipped = real.assign(y=[4.0, 3.0, 2.0, 1.0])  # correlation +1 becomes -1
    >>> column_pair_trends(real, flipped, ["x", "y"], ["c"])["score"].tolist()
    [0.0, 1.0, 0.0]
    """
    columns = _prepare(real, synthetic, numeric, categorical)
    pairs = _pairs(len(columns.names), max_pairs, seed)
    return _trend_table(columns, pairs, _pair_scores(columns, pairs))


def _trend_table(columns: _Columns, pairs: np.ndarray, scores: list[float]) -> pd.DataFrame:
    return pd.DataFrame({
        "column_a": [columns.names[a] for a, _ in pairs], "column_b": [columns.names[b] for _, b in pairs],
        "kind": ["correlation" if columns.numeric[a] and columns.numeric[b] else "contingency" for a, b in pairs],
        "score": np.asarray(scores, dtype=float)})


# -- detection and efficacy ------------------------------------------------------------------------
def _classifier(seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(max_iter=BOOSTING_ROUNDS, max_bins=BOOSTING_BINS, early_stopping=False,
                                          random_state=seed)


def _subsample(n: int, cap: int, rng: np.random.Generator) -> np.ndarray:
    return np.arange(n) if n <= cap else np.sort(rng.choice(n, size=cap, replace=False))


def detection_score(real: np.ndarray, synthetic: np.ndarray, *, max_rows: int = MAX_DETECTION_ROWS,
                    seed: int = 0) -> float:
    """1 − 2·max(AUC − 0.5, 0) of a gradient-boosted classifier telling real from synthetic rows.

    Parameters
    ----------
    real, synthetic : numpy.ndarray
        Encoded rows with the same columns (real rows held out from the generator's training).
    max_rows : int
        At most this many rows of each side (a subsample drawn with ``seed``).
    seed : int
        Seed of the subsample, the folds and the classifier.

    Returns
    -------
    float
        In [0, 1]; 1 = indistinguishable. The AUC is that of the out-of-fold scores of a stratified
        :data:`DETECTION_FOLDS`-fold cross-validation; NaN with fewer than :data:`DETECTION_FOLDS` rows a side.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(300, 2))
    >>> round(detection_score(real, rng.normal(size=(300, 2)) + 10), 2)  # told apart
    0.0
    >>> detection_score(real, rng.normal(size=(300, 2))) > 0.8  # the same distribution
    True
    """
    return detection_with_interval(real, synthetic, max_rows=max_rows, seed=seed)[0]


def detection_with_interval(real: np.ndarray, synthetic: np.ndarray, *, max_rows: int = MAX_DETECTION_ROWS,
                            seed: int = 0, confidence: float = ACCURACY_CONFIDENCE) -> tuple[float, float, float]:
    """:func:`detection_score` and an interval from the AUC's standard error (Hanley & McNeil, 1982).

    The AUC's interval, AUC ± z·SE clipped to [0, 1], is mapped through 1 − 2·max(AUC − 0.5, 0). It counts the
    uncertainty of few rows (17 real and 17 synthetic rows give an AUC standard error of about 0.1, so a score of
    1.000 may be as low as 0.6), not that of refitting the classifier.

    Returns
    -------
    tuple of float
        The score, the lower and the upper end (all NaN with fewer than :data:`DETECTION_FOLDS` rows a side).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> score, low, high = detection_with_interval(rng.normal(size=(20, 2)), rng.normal(size=(20, 2)))
    >>> low < 0.8 and high == 1.0
    True
    """
    rng = np.random.default_rng(seed)
    a, b = real[_subsample(len(real), max_rows, rng)], synthetic[_subsample(len(synthetic), max_rows, rng)]
    if min(len(a), len(b)) < DETECTION_FOLDS:
        return math.nan, math.nan, math.nan
    x = np.vstack([a, b])
    y = np.r_[np.zeros(len(a), dtype=np.int64), np.ones(len(b), dtype=np.int64)]
    scores = np.empty(len(y))
    for train, test in StratifiedKFold(DETECTION_FOLDS, shuffle=True, random_state=seed).split(x, y):
        scores[test] = _classifier(seed).fit(x[train], y[train]).predict_proba(x[test])[:, 1]
    auc = float(roc_auc_score(y, scores))
    half = float(stats.norm.ppf(0.5 + confidence / 2)) * _auc_standard_error(auc, len(b), len(a))
    return _detection(auc), _detection(min(auc + half, 1.0)), _detection(max(auc - half, 0.0))


def _detection(auc: float) -> float:
    return 1.0 - 2.0 * max(auc - 0.5, 0.0)


def _auc_standard_error(auc: float, n_positive: int, n_negative: int) -> float:
    """Hanley & McNeil's (1982) standard error of an AUC from ``n_positive`` and ``n_negative`` rows."""
    q1, q2 = auc / (2.0 - auc), 2.0 * auc * auc / (1.0 + auc)
    variance = (auc * (1.0 - auc) + (n_positive - 1) * (q1 - auc * auc)
                + (n_negative - 1) * (q2 - auc * auc)) / (n_positive * n_negative)
    return math.sqrt(max(variance, 0.0))


@dataclass(frozen=True)
class Efficacy:
    """Train on synthetic, test on real (TSTR) against train on real, test on real (TRTR).

    Attributes
    ----------
    tstr, trtr : float
        Balanced accuracy on the real test rows of the model trained on synthetic / real training rows.
    tstr_fairness, trtr_fairness : mapping
        :data:`FAIRNESS_GAPS` of each model on the real test rows (lower is fairer).
    tstr_predictions, trtr_predictions : numpy.ndarray
        Each model's 0/1 predictions of the test rows (for per-domain accuracies).
    """

    tstr: float
    trtr: float
    tstr_fairness: Mapping[str, float]
    trtr_fairness: Mapping[str, float]
    tstr_predictions: np.ndarray = field(repr=False, compare=False)
    trtr_predictions: np.ndarray = field(repr=False, compare=False)

    @property
    def gap(self) -> float:
        """TSTR − TRTR balanced accuracy (negative: the synthetic rows teach less)."""
        return self.tstr - self.trtr

    @property
    def fairness_gain(self) -> float:
        """The smallest TRTR gap − TSTR gap over :data:`FAIRNESS_GAPS` (positive: the TSTR model is fairer on all)."""
        return min(self.trtr_fairness[m] - self.tstr_fairness[m] for m in FAIRNESS_GAPS)


def ml_efficacy(train: np.ndarray, train_labels: np.ndarray, synthetic: np.ndarray, synthetic_labels: np.ndarray,
                test: np.ndarray, test_labels: np.ndarray, test_groups: np.ndarray, group_names: Sequence[str], *,
                max_rows: int = MAX_TRAIN_ROWS, seed: int = 0) -> Efficacy:
    """Balanced accuracy and fairness on real test rows of the same classifier trained on synthetic and real rows.

    Parameters
    ----------
    train, train_labels : numpy.ndarray
        Encoded real training rows and their 0/1 labels (TRTR).
    synthetic, synthetic_labels : numpy.ndarray
        Encoded synthetic rows and their 0/1 labels (TSTR).
    test, test_labels, test_groups : numpy.ndarray
        Encoded real held-out rows, their labels and group indices.
    group_names : sequence of str
        Names of the groups, by index.
    max_rows : int
        At most this many rows train each model (the same seeded subsample rule for both, so real rows passed as
        synthetic give TRTR exactly).
    seed : int
        Seed of the subsamples and the classifier.

    Returns
    -------
    Efficacy

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(400, 3)); y = (x[:, 0] > 0).astype(int); g = rng.integers(0, 2, 400)
    >>> result = ml_efficacy(x[:200], y[:200], x[:200], y[:200], x[200:], y[200:], g[200:], ["a", "b"])
    >>> result.tstr == result.trtr, result.gap
    (True, 0.0)
    """
    def fit_predict(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        rows = _subsample(len(x), max_rows, np.random.default_rng(seed))
        if len(np.unique(y[rows])) < 2:
            raise FairGenError("the efficacy models need training rows of both labels; these have one label only.")
        return _classifier(seed).fit(x[rows], y[rows]).predict(test).astype(np.int64)

    predictions = [fit_predict(synthetic, synthetic_labels), fit_predict(train, train_labels)]
    accuracy = [float(balanced_accuracy_score(test_labels, p)) for p in predictions]
    fairness = [{m: float(fairness_report(test_labels, p, test_groups, group_names).absolute[m]) for m in FAIRNESS_GAPS}
                for p in predictions]
    return Efficacy(accuracy[0], accuracy[1], fairness[0], fairness[1], predictions[0], predictions[1])


def closest_distance_median(rows: np.ndarray, train: np.ndarray, *, max_rows: int = MAX_DCR_ROWS,
                            seed: int = 0) -> float:
    """Median Euclidean distance from ``rows`` (at most ``max_rows``, seeded) to their nearest row of ``train``.

    Examples
    --------
    >>> train = np.array([[0.0, 0.0], [3.0, 4.0]])
    >>> closest_distance_median(np.array([[0.0, 0.0], [0.0, 1.0], [3.0, 0.0]]), train)
    1.0
    """
    if not len(rows):
        return math.nan
    sample = rows[_subsample(len(rows), max_rows, np.random.default_rng(seed))]
    return float(np.median(pairwise_distances_argmin_min(sample, train)[1]))


# -- the report ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FidelityReport:
    """The standard measures overall, per column, per pair and per domain (see the module's docstring).

    Attributes
    ----------
    shapes, trends, detection : float
        The overall scores in [0, 1] (higher is better).
    efficacy : Efficacy
        TSTR against TRTR, accuracy and fairness.
    columns : pandas.DataFrame
        :func:`column_shapes`' table.
    pairs : pandas.DataFrame
        :func:`column_pair_trends`' table.
    per_domain : pandas.DataFrame
        :data:`DOMAIN_COLUMNS`: per domain its held-out real and synthetic row counts, its shape, trend and
        detection scores (detection with an :data:`ACCURACY_CONFIDENCE` interval, :func:`detection_with_interval`),
        the TSTR and TRTR models' accuracy on its test rows with :data:`ACCURACY_CONFIDENCE` Wilson intervals, and
        the median distance to the closest training record of its synthetic and of its held-out real rows. Scores
        are NaN where a domain has fewer than :data:`MIN_DOMAIN_ROWS` rows a side.
    """

    shapes: float
    trends: float
    detection: float
    efficacy: Efficacy
    columns: pd.DataFrame = field(compare=False)
    pairs: pd.DataFrame = field(compare=False)
    per_domain: pd.DataFrame = field(compare=False)

    def values(self) -> dict[str, float]:
        """The judged value of every measure of :data:`MEASURES` (see :data:`VERDICT_THRESHOLDS`)."""
        return {"shapes": self.shapes, "trends": self.trends, "detection": self.detection,
                "tstr": self.efficacy.gap, "tstr_fairness": self.efficacy.fairness_gain}

    def verdicts(self) -> dict[str, Verdict | None]:
        """Good, fair or poor per measure (None where it could not be computed)."""
        return {measure: judge(measure, value) for measure, value in self.values().items()}

    def poor(self) -> tuple[str, ...]:
        """The measures judged poor."""
        return tuple(measure for measure, verdict in self.verdicts().items() if verdict == "poor")

    def weakest_domain(self) -> str | None:
        """The domain with the lowest mean of its shape, trend and detection scores (None if none was scored)."""
        mean = self.per_domain[["shape", "trend", "detection"]].mean(axis=1, skipna=True)
        return None if mean.isna().all() else str(self.per_domain.loc[mean.idxmin(), "domain"])

    def worst_columns(self, n: int = 3) -> pd.DataFrame:
        """The ``n`` columns with the lowest shape scores, lowest first."""
        return self.columns.dropna(subset=["score"]).sort_values("score", kind="stable").head(n)

    def summary(self) -> str:
        """One plain-language paragraph: every measure with its verdict, the weakest domain, the worst columns.

        Examples
        --------
        >>> efficacy = Efficacy(0.78, 0.80, {m: 0.05 for m in FAIRNESS_GAPS}, {m: 0.10 for m in FAIRNESS_GAPS},
        ...                     np.zeros(1), np.zeros(1))
        >>> columns = pd.DataFrame({"column": ["age", "sex"], "kind": ["numeric", "categorical"], "score": [0.8, 1.0]})
        >>> domains = pd.DataFrame([["a", 0.9, 0.9, 0.5], ["b", 0.95, 0.9, 0.7]],
        ...                        columns=["domain", "shape", "trend", "detection"])
        >>> print(FidelityReport(0.9, 0.96, 0.3, efficacy, columns, columns, domains).summary())
        ... # doctest: +ELLIPSIS
        Column shapes 0.900 (fair), column-pair trends 0.960 (good), detection 0.300 (poor), ...
        The weakest domain is 'a'. The columns modelled worst are age (0.80), sex (1.00).
        """
        values, verdicts = self.values(), self.verdicts()
        efficacy = self.efficacy
        parts = [f"{MEASURE_LABELS[m].lower() if i else MEASURE_LABELS[m]} {values[m]:.3f} ({verdicts[m] or 'n/a'})"
                 for i, m in enumerate(("shapes", "trends", "detection"))]
        parts.append(f"balanced accuracy trained on synthetic rows {efficacy.tstr:.3f} vs on real rows "
                     f"{efficacy.trtr:.3f} ({verdicts['tstr'] or 'n/a'})")
        gaps = ", ".join(f"{m} {efficacy.tstr_fairness[m]:.3f} vs {efficacy.trtr_fairness[m]:.3f}"
                         for m in FAIRNESS_GAPS)
        parts.append(f"fairness of that model {gaps} ({verdicts['tstr_fairness'] or 'n/a'})")
        text = ", ".join(parts) + "."
        weakest = self.weakest_domain()
        if weakest is not None:
            text += f" The weakest domain is '{weakest}'."
        worst = self.worst_columns()
        if not worst.empty:
            text += " The columns modelled worst are " + ", ".join(
                f"{c.column} ({c.score:.2f})" for c in worst.itertuples(index=False)) + "."
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready measures (``quality --json``'s ``shapes``, ``trends``, ``detection``, ``tstr``,
        ``tstr_fairness``, ``verdicts``, ``weakest_domain``, ``worst_columns``; NaN as None)."""
        def number(value: float) -> float | None:
            return None if math.isnan(value) else float(value)

        efficacy, verdicts = self.efficacy, self.verdicts()
        return {
            "shapes": number(self.shapes), "trends": number(self.trends), "detection": number(self.detection),
            "tstr": {"tstr_balanced_accuracy": efficacy.tstr, "trtr_balanced_accuracy": efficacy.trtr,
                     "gap": efficacy.gap},
            "tstr_fairness": {"tstr": dict(efficacy.tstr_fairness), "trtr": dict(efficacy.trtr_fairness),
                              "gain": efficacy.fairness_gain},
            "verdicts": verdicts, "thresholds": {m: list(VERDICT_THRESHOLDS[m]) for m in MEASURES},
            "weakest_domain": self.weakest_domain(), "worst_columns": self.worst_columns()["column"].tolist(),
            "summary": self.summary(),
            "columns": [{**r, "score": number(r["score"])} for r in self.columns.to_dict(orient="records")],
        }


@dataclass(frozen=True)
class FidelityInputs:
    """The rows :func:`fidelity_report` compares.

    Attributes
    ----------
    real, synthetic : pandas.DataFrame
        Decoded feature columns of the held-out real rows and of the synthetic rows.
    real_encoded, synthetic_encoded : numpy.ndarray
        The same rows encoded.
    real_domains, synthetic_domains : numpy.ndarray
        Domain index per row (``2 * group + label``).
    train_encoded, train_domains : numpy.ndarray
        The generator's real training rows, encoded, and their domains (TRTR, distances to the closest record).
    numeric, categorical : tuple of str
        The feature columns of each kind.
    domain_names, group_names : tuple of str
        Names by index.
    """

    real: pd.DataFrame
    synthetic: pd.DataFrame
    real_encoded: np.ndarray
    synthetic_encoded: np.ndarray
    real_domains: np.ndarray
    synthetic_domains: np.ndarray
    train_encoded: np.ndarray
    train_domains: np.ndarray
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    domain_names: tuple[str, ...]
    group_names: tuple[str, ...]


def fidelity_report(inputs: FidelityInputs, *, seed: int = 0) -> FidelityReport:
    """Every measure of the module's docstring, overall and per domain.

    Parameters
    ----------
    inputs : FidelityInputs
        The real held-out, synthetic and real training rows.
    seed : int
        Seed of every subsample, fold split and classifier.

    Returns
    -------
    FidelityReport
    """
    real, synthetic = inputs.real, inputs.synthetic
    columns = column_shapes(real, synthetic, inputs.numeric, inputs.categorical)
    prepared = _prepare(real, synthetic, inputs.numeric, inputs.categorical)
    pairs = _pairs(len(prepared.names), MAX_PAIRS, seed)
    trends = _trend_table(prepared, pairs, _pair_scores(prepared, pairs))
    efficacy = ml_efficacy(inputs.train_encoded, inputs.train_domains % 2, inputs.synthetic_encoded,
                           inputs.synthetic_domains % 2, inputs.real_encoded, inputs.real_domains % 2,
                           inputs.real_domains // 2, inputs.group_names, seed=seed)
    test_labels = inputs.real_domains % 2
    rows = []
    for index, name in enumerate(inputs.domain_names):
        in_real, in_synthetic = inputs.real_domains == index, inputs.synthetic_domains == index
        counts = (int(in_real.sum()), int(in_synthetic.sum()))
        if min(counts) < MIN_DOMAIN_ROWS:
            rows.append((name, *counts, *[math.nan] * len(_DOMAIN_SCORES)))
            continue
        shape = column_shapes(real[in_real], synthetic[in_synthetic], inputs.numeric, inputs.categorical)["score"]
        trend = np.asarray(_pair_scores(prepared, pairs, np.flatnonzero(in_real), np.flatnonzero(in_synthetic)))
        detection = detection_with_interval(inputs.real_encoded[in_real], inputs.synthetic_encoded[in_synthetic],
                                            max_rows=MAX_DOMAIN_DETECTION_ROWS, seed=seed)
        dcr = [closest_distance_median(x, inputs.train_encoded, seed=seed)
               for x in (inputs.synthetic_encoded[in_synthetic], inputs.real_encoded[in_real])]
        rows.append((name, *counts, _mean(shape.to_numpy()), _mean(trend), *detection,
                     *accuracy_with_interval(efficacy.tstr_predictions[in_real] == test_labels[in_real]),
                     *accuracy_with_interval(efficacy.trtr_predictions[in_real] == test_labels[in_real]),
                     *dcr))
    per_domain = pd.DataFrame(rows, columns=list(DOMAIN_COLUMNS)).astype(
        {"n_real": "int64", "n_synthetic": "int64", **{c: "float64" for c in _DOMAIN_SCORES}})
    return FidelityReport(_mean(columns["score"].to_numpy()), _mean(trends["score"].to_numpy()),
                          detection_score(inputs.real_encoded, inputs.synthetic_encoded, seed=seed), efficacy,
                          columns, trends, per_domain)


def accuracy_with_interval(correct: np.ndarray, confidence: float = ACCURACY_CONFIDENCE
                           ) -> tuple[float, float, float]:
    """The share of correct predictions and its Wilson score interval (:func:`scipy.stats.binomtest`).

    Parameters
    ----------
    correct : numpy.ndarray of bool
        One entry per row: was it predicted right.
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    tuple of float
        Accuracy, lower and upper end (all NaN for no rows).

    Examples
    --------
    >>> [round(v, 3) for v in accuracy_with_interval(np.array([True] * 40 + [False] * 10))]
    [0.8, 0.67, 0.888]
    """
    n = len(correct)
    if not n:
        return math.nan, math.nan, math.nan
    hits = int(np.sum(correct))
    interval = stats.binomtest(hits, n).proportion_ci(confidence_level=confidence, method="wilson")
    return hits / n, float(interval.low), float(interval.high)


def _mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else math.nan
