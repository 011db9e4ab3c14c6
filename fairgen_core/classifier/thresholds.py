"""Group-specific thresholds on a classifier's scores (fairlearn's ``ThresholdOptimizer``).

Cruz & Hardt (ICLR 2024, "Unprocessing seven years of algorithmic fairness") found that thresholding the most
accurate model per group dominates the fairness–accuracy frontier of every method they tested. Here the
thresholds are fitted on the validation rows' scores — for equal opportunity (equal true positive rates) and
for equalised odds — maximising balanced accuracy; each (epoch, constraint) of the scored network is one
candidate of the selection rule. The groups are needed at prediction time: a group-aware decision rule.
Fairlearn may mix two thresholds at random for a group; ``seed`` fixes that draw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from fairgen_core.classifier.selection import Candidate, Validation, candidate

#: The constraints tried, by the value ``chosen["equalized_odds"]`` records (0: equal opportunity).
CONSTRAINTS: tuple[str, ...] = ("true_positive_rate_parity", "equalized_odds")


class _GivenScores(ClassifierMixin, BaseEstimator):
    """A "classifier" whose single input column already is the probability of the favourable label."""

    def fit(self, x: np.ndarray, y: np.ndarray) -> _GivenScores:
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        p = np.asarray(x, dtype=np.float64)[:, 0]
        return np.column_stack([1 - p, p])

    def predict(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64)[:, 0] >= 0.5).astype(np.int64)


def group_threshold_predictions(val_probability: np.ndarray, y_val: np.ndarray, group_val: np.ndarray,
                                probabilities: Sequence[np.ndarray], groups: Sequence[np.ndarray], *,
                                constraint: str, seed: int = 0) -> list[np.ndarray]:
    """Fit per-group thresholds on validation scores and apply them to other scored rows.

    Parameters
    ----------
    val_probability, y_val, group_val : numpy.ndarray
        Validation probabilities of the favourable label, 0/1 labels and group indices.
    probabilities, groups : sequence of numpy.ndarray
        Scored rows to decide (e.g. the validation rows themselves and the test rows) and their groups.
    constraint : str
        One of :data:`CONSTRAINTS`.
    seed : int
        Seed of fairlearn's random choice between two thresholds.

    Returns
    -------
    list of numpy.ndarray
        0/1 decisions for each entry of ``probabilities``.

    Examples
    --------
    >>> y = np.array([1, 1, 0, 0, 1, 1, 0, 0]); g = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    >>> p = np.array([0.3, 0.2, 0.1, 0.0, 0.9, 0.8, 0.7, 0.6])  # ranks labels within each group
    >>> [d.tolist() for d in group_threshold_predictions(p, y, g, [p], [g], constraint="true_positive_rate_parity")]
    [[1, 1, 0, 0, 1, 1, 0, 0]]
    """
    from fairlearn.postprocessing import ThresholdOptimizer

    scores = _GivenScores().fit(np.zeros((2, 1)), np.array([0, 1]))
    optimiser = ThresholdOptimizer(estimator=scores, constraints=constraint, objective="balanced_accuracy_score",
                                   prefit=True, predict_method="predict_proba")
    optimiser.fit(np.asarray(val_probability, dtype=np.float64)[:, None], y_val, sensitive_features=group_val)
    return [np.asarray(optimiser.predict(np.asarray(p, dtype=np.float64)[:, None], sensitive_features=g,
                                         random_state=seed)).astype(np.int64)
            for p, g in zip(probabilities, groups)]


def threshold_candidates(validation: Validation, val_probabilities: Sequence[np.ndarray],
                         test_probabilities: Sequence[np.ndarray], group_test: np.ndarray,
                         chosen: Sequence[Mapping[str, float]], *, seed: int = 0) -> list[Candidate]:
    """Every scored network state (e.g. epoch) × every constraint, thresholded per group, as candidates.

    The test scores of a candidate are its 0/1 decisions (the thresholds already decided).
    """
    out = []
    for val_p, test_p, described in zip(val_probabilities, test_probabilities, chosen):
        for index, constraint in enumerate(CONSTRAINTS):
            val_decision, test_decision = group_threshold_predictions(
                val_p, validation.y, validation.group, [val_p, test_p], [validation.group, group_test],
                constraint=constraint, seed=seed)
            out.append(candidate(validation, val_decision, test_decision.astype(np.float64),
                                 test_predictions=test_decision, **described, equalized_odds=float(index)))
    return out
