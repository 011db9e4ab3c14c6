"""Calibration of scores per group: the Brier score and the reliability curve."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Columns of :attr:`ModelAudit.calibration`.
CALIBRATION_COLUMNS = ("group", "bin", "bin_low", "bin_high", "mean_score", "observed_rate", "n")


def brier_scores(y: np.ndarray, scores: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Mean squared difference between score and label, per group (NaN for an empty group)."""
    n = np.bincount(group, minlength=n_groups)
    total = np.bincount(group, weights=(scores - y) ** 2, minlength=n_groups)
    return np.divide(total, n, out=np.full(n_groups, np.nan), where=n > 0)


def reliability_curve(y: np.ndarray, scores: np.ndarray, group: np.ndarray, names: tuple[str, ...], bins: int
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
