"""Calibrated equalised odds post-processing (Pleiss et al. 2017) of the baseline network's scores."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
from sklearn.linear_model import LogisticRegression

from fairgen_core.classifier.selection import Candidate, EpochRecorder, candidate
from fairgen_core.config import ClassifierConfig
from fairgen_core.errors import MethodUnavailableError
from fairgen_core.mitigations.aif import PRIVILEGED, UNPRIVILEGED, binary_label_dataset, require_two_groups
from fairgen_core.mitigations.base import Network, network_candidates
from fairgen_core.mitigations.data import MethodData

CostConstraint = Literal["fpr", "fnr", "weighted"]
COST_NAMES: dict[str, str] = {"fpr": "generalised false positive rates", "fnr": "generalised false negative rates",
                              "weighted": "weighted generalised error costs"}


def platt_scaling(probability: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """A logistic fit of the labels on the logits of ``probability``: a map to calibrated probabilities.

    Parameters
    ----------
    probability : numpy.ndarray
        A classifier's probabilities of the favourable label (e.g. on the validation rows).
    y : numpy.ndarray
        Their 0/1 labels.

    Returns
    -------
    callable
        Maps other probabilities of the same classifier to calibrated ones, keeping their order.

    Raises
    ------
    MethodUnavailableError
        If the labels are all equal, or the fitted slope is not positive (the scores do not rank the labels).
    """
    def logit(p: np.ndarray) -> np.ndarray:
        p = np.clip(np.asarray(p, dtype=np.float64), 1e-7, 1 - 1e-7)
        return np.log(p / (1 - p))

    if len(np.unique(y)) < 2:
        raise MethodUnavailableError("calibrating scores needs both labels among the validation rows of every group.")
    values = logit(probability)
    centre, scale = values.mean(), values.std() or 1.0
    model = LogisticRegression(C=1e4).fit(((values - centre) / scale)[:, None], y)
    if model.coef_[0, 0] <= 0:
        raise MethodUnavailableError("the classifier's validation scores do not rank the labels, so they cannot be "
                                     "calibrated for calibrated equalised odds.")
    return lambda p: model.predict_proba(((logit(p) - centre) / scale)[:, None])[:, 1]


@dataclass(frozen=True, eq=False)
class CeoFit:
    """Calibrated equalised odds applied to new scores.

    Attributes
    ----------
    scores : numpy.ndarray
        The new scores: some rows' scores replaced by their group's base rate.
    predictions : numpy.ndarray
        ``scores >= threshold``.
    privileged_mix_rate, unprivileged_mix_rate : float
        Share of each group's rows whose score is replaced (fitted on the validation rows).
    """

    scores: np.ndarray
    predictions: np.ndarray
    privileged_mix_rate: float
    unprivileged_mix_rate: float


def calibrated_equalized_odds(val_scores: np.ndarray, y_val: np.ndarray, group_val: np.ndarray,
                              scores: np.ndarray, group: np.ndarray, *, cost_constraint: CostConstraint = "weighted",
                              threshold: float = 0.5, seed: int = 0) -> CeoFit:
    """Fit aif360's ``CalibratedEqOddsPostprocessing`` on validation scores and apply it to other scores.

    The group whose generalised cost (false-negative and/or false-positive rate of the scores) is lower
    gets a share of its scores replaced by its base rate, which raises its cost to the other group's
    while keeping the scores calibrated.

    Parameters
    ----------
    val_scores, y_val, group_val : numpy.ndarray
        Validation scores (calibrated probabilities of the favourable label), 0/1 labels and 0/1 groups.
    scores, group : numpy.ndarray
        Scores to post-process (the test rows) and their groups; their labels are not used.
    cost_constraint : {"fpr", "fnr", "weighted"}
        Which generalised rate to equalise; ``weighted`` balances both by the base rates.
    threshold : float
        The new scores at or above it are predicted favourable.
    seed : int
        Seed of the random choice of replaced rows (aif360 seeds NumPy's global generator with it).

    Raises
    ------
    MethodUnavailableError
        If the costs cannot be equalised on the validation rows: a mixing rate outside [0, 1] (aif360 returns it
        unchecked; above 1, even replacing every score of the cheaper group by its base rate leaves it cheaper).
    """
    from aif360.algorithms.postprocessing import CalibratedEqOddsPostprocessing

    postprocessor = CalibratedEqOddsPostprocessing(privileged_groups=PRIVILEGED, unprivileged_groups=UNPRIVILEGED,
                                                   cost_constraint=cost_constraint, seed=seed)
    no_features = np.zeros((len(y_val), 0))
    postprocessor.fit(binary_label_dataset(no_features, y_val, group_val),
                      binary_label_dataset(no_features, y_val, group_val, scores=val_scores))
    _require_feasible(float(postprocessor.priv_mix_rate), float(postprocessor.unpriv_mix_rate), cost_constraint)
    placeholder_labels = np.zeros(len(scores))
    out = postprocessor.predict(binary_label_dataset(np.zeros((len(scores), 0)), placeholder_labels, group,
                                                     scores=scores), threshold=threshold)
    return CeoFit(out.scores.ravel(), out.labels.ravel().astype(np.int64), float(postprocessor.priv_mix_rate),
                  float(postprocessor.unpriv_mix_rate))


def _require_feasible(privileged_rate: float, unprivileged_rate: float, cost_constraint: CostConstraint) -> None:
    """Refuse mixing rates outside [0, 1]: the groups' costs cannot be equalised by mixing in base rates."""
    for group, rate in (("privileged", privileged_rate), ("unprivileged", unprivileged_rate)):
        if not 0.0 <= rate <= 1.0:
            raise MethodUnavailableError(
                f"calibrated equalised odds cannot equalise the groups' {COST_NAMES[cost_constraint]} on the "
                f"validation rows: the {group} group's mixing rate would be {rate:.2f}, outside [0, 1] (even "
                "replacing all of its scores by its base rate does not reach the other group's cost).")


@dataclass(frozen=True)
class CalibratedEqOdds:
    """The baseline network, its scores post-processed by calibrated equalised odds; every epoch a candidate.

    The method needs scores calibrated within each group, and the network's are not (class-balanced loss,
    dropout, early stopping on balanced accuracy, and no group input), so they are first Platt-scaled per
    group on the validation rows (:func:`platt_scaling`); the mixing rates are then fitted on the same
    validation rows. With ``config.balance_classes`` the new scores are thresholded at the training share
    of favourable labels (the balanced-accuracy-optimal threshold for calibrated scores), otherwise at 0.5.
    Calibrated equalised odds equalises the groups' generalised costs, not their true positive rates, so
    it can widen the |equal opportunity difference|.

    Parameters
    ----------
    cost_constraint : {"fpr", "fnr", "weighted"}
        See :func:`calibrated_equalized_odds`; ``weighted`` (aif360's default) balances both error rates.
    """

    name: ClassVar[str] = "calibrated_eq_odds"
    cost_constraint: CostConstraint = "weighted"

    def networks(self, data: MethodData, config: ClassifierConfig) -> list[Network]:
        """The baseline's plain network C."""
        require_two_groups(data, self.name)
        return [Network.plain(data)]

    def candidates(self, data: MethodData, config: ClassifierConfig) -> list[Candidate]:
        """Train the baseline, then :meth:`from_networks`."""
        return network_candidates(self, data, config)

    def from_networks(self, data: MethodData, config: ClassifierConfig,
                      trained: Sequence[EpochRecorder]) -> list[Candidate]:
        """Every epoch whose scores can be calibrated and equalised, post-processed, as a candidate.

        The mixing rates are fitted on the validation rows' calibrated scores and applied to the validation and
        test rows together (one random draw of the replaced rows).
        """
        (recorder,) = trained
        threshold = float(np.mean(data.y_train)) if config.balance_classes else 0.5
        groups = np.concatenate([data.group_val, data.group_test])
        out, reasons = [], []
        for val_probability, epoch in zip(recorder.val_probabilities, recorder.candidates):
            n_val = len(val_probability)
            try:
                scores = self._calibrated(data, val_probability, epoch.test_scores)
                fit = calibrated_equalized_odds(scores[:n_val], data.y_val, data.group_val, scores, groups,
                                                cost_constraint=self.cost_constraint, threshold=threshold,
                                                seed=config.seed)
            except MethodUnavailableError as error:
                reasons.append(str(error))
                continue
            out.append(candidate(data.validation, fit.predictions[:n_val], fit.scores[n_val:],
                                 test_predictions=fit.predictions[n_val:], **epoch.chosen, threshold=threshold,
                                 privileged_mix_rate=fit.privileged_mix_rate,
                                 unprivileged_mix_rate=fit.unprivileged_mix_rate))
        if not out:
            raise MethodUnavailableError(reasons[-1] if reasons else f"{self.name}: the network trained no epoch.")
        return out

    @staticmethod
    def _calibrated(data: MethodData, val_probability: np.ndarray, test_probability: np.ndarray) -> np.ndarray:
        """Validation then test probabilities, Platt-scaled per group on the validation rows."""
        val_scores, test_scores = np.zeros(len(val_probability)), np.zeros(len(test_probability))
        for group in (0, 1):
            in_val, in_test = data.group_val == group, data.group_test == group
            calibrate = platt_scaling(val_probability[in_val], data.y_val[in_val])
            val_scores[in_val] = calibrate(val_probability[in_val])
            test_scores[in_test] = calibrate(test_probability[in_test])
        return np.concatenate([val_scores, test_scores])
