"""Celis et al.'s (2019) meta fair classifier, via aif360's ``MetaFairClassifier`` (its own model, not C)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np

from fairgen_core.classifier.selection import Candidate, candidate
from fairgen_core.config import ClassifierConfig
from fairgen_core.errors import MethodUnavailableError
from fairgen_core.mitigations.aif import binary_label_dataset, require_two_groups
from fairgen_core.mitigations.data import MethodData

if TYPE_CHECKING:
    from aif360.datasets import BinaryLabelDataset


def _features_only(x: np.ndarray, y: np.ndarray, group: np.ndarray) -> BinaryLabelDataset:
    """An aif360 dataset whose features leave out the group column.

    MetaFairClassifier fits one Gaussian to (features, label, group); with the group also among the
    features that Gaussian is singular, SciPy gives every sample density 0 and the fit fails. The network
    C never sees the group either.
    """
    dataset = binary_label_dataset(x, y, group)
    dataset.features = dataset.features[:, : x.shape[1]]
    return dataset


@dataclass(frozen=True)
class MetaFair:
    """aif360's ``MetaFairClassifier`` on the encoded features.

    Parameters
    ----------
    tau : float
        Fairness constraint in [0, 1] (aif360's default 0.8; 0 is unconstrained).
    metric : {"fdr", "sr"}
        Constrained quantity: false discovery rate ratio or statistical rate (disparate impact).
    max_train_rows : int
        The fit is slow on large tables (it evaluates Gaussian densities of every training row for every
        candidate constraint), so at most this many training rows, drawn at random with the seed, are used.

    Notes
    -----
    The predictions are ``t > 0`` of the fitted decision function ``t``; the scores are aif360's
    ``(t + 1) / 2`` (not a probability). NumPy floating-point warnings inside the fit are silenced: the
    algorithm divides densities that underflow for some candidates and skips those candidates.
    """

    name: ClassVar[str] = "meta_fair"
    tau: float = 0.8
    metric: Literal["fdr", "sr"] = "fdr"
    max_train_rows: int = 5000

    def candidates(self, data: MethodData, config: ClassifierConfig) -> list[Candidate]:
        """Fit on (a sample of) the training rows; the one candidate, scored on validation, predicts the test rows."""
        from aif360.algorithms.inprocessing import MetaFairClassifier

        require_two_groups(data, self.name)
        rows = np.arange(len(data.y_train))
        if len(rows) > self.max_train_rows:
            rows = np.sort(np.random.default_rng(config.seed).choice(rows, self.max_train_rows, replace=False))
        classifier = MetaFairClassifier(tau=self.tau, sensitive_attr="group", type=self.metric, seed=config.seed)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
            try:
                classifier.fit(_features_only(data.x_train[rows], data.y_train[rows], data.group_train[rows]))
            except TypeError as error:  # aif360 unpacks the parameters None when no candidate had a finite value
                raise MethodUnavailableError(f"{self.name} found no usable classifier: the Gaussian densities of the "
                                        "features underflowed for every candidate constraint.") from error
            val = classifier.predict(_features_only(data.x_val, np.zeros(len(data.y_val)), data.group_val))
            out = classifier.predict(_features_only(data.x_test, np.zeros(len(data.y_test)), data.group_test))
        return [candidate(data.validation, val.labels.ravel(), out.scores.ravel(),
                          test_predictions=out.labels.ravel().astype(np.int64), tau=self.tau, train_rows=len(rows))]
