"""The real:synthetic ratio sweep the trade-off chart (and the dashboard's slider) reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from fairgen_core.classifier.model import MLPClassifier
from fairgen_core.classifier.training import (
    balanced_weights,
    downsampled_rows,
    encode_rows,
    finetune,
    predict,
    pretrain,
    synthetic_pairs,
    train_real_only,
)
from fairgen_core.config import ClassifierConfig
from fairgen_core.data.spec import assign_domains
from fairgen_core.data.splits import Split
from fairgen_core.generator.model import FairGenerator
from fairgen_core.metrics.fairness import fairness_report

DOWNSAMPLED = "down-sampled TL"
DEFAULT_RATIOS: tuple[float, ...] = tuple(round(r, 1) for r in np.linspace(0.0, 1.0, 11))
SWEEP_METRICS: tuple[str, ...] = (
    "balanced_accuracy", "abs_equal_opportunity_difference", "average_abs_odds_difference",
    "abs_balanced_accuracy_difference", "abs_statistical_parity_difference",
)


def ratio_sweep(generator: FairGenerator, frame: pd.DataFrame, split: Split, *,
                ratios: Sequence[float] = DEFAULT_RATIOS, repetitions: int = 1,
                config: ClassifierConfig | None = None, downsampled_ratio: float | None = 0.5) -> pd.DataFrame:
    """Test-split fairness and balanced accuracy of the classifier fine-tuned at every real:synthetic ratio.

    Each repetition pre-trains C once on balanced synthetic rows (seed ``config.seed + repetition``) and
    fine-tunes a copy at every ratio; it also trains the "no TL" reference (real rows only, no
    pre-training) with the same seed. With ``config.balance_domains`` (the default, as in the paper) the
    real rows and the pairs are weighted so that every (group, label) domain counts the same. The paper's
    down-sampling ablation (:data:`DOWNSAMPLED`) fine-tunes the same pre-trained C at ``downsampled_ratio`` on
    real rows down-sampled to the smallest domain's count and their pairs.

    Parameters
    ----------
    generator : FairGenerator
        The fitted translator (its encoder, spec and pairs).
    frame : pandas.DataFrame
        The whole table.
    split : Split
        Train rows fine-tune, validation rows select the epoch, test rows are measured.
    ratios : sequence of float
        Real shares of the fine-tuning batches, each in [0, 1] (default 0, 0.1, ..., 1).
    repetitions : int
        Classifier seeds per ratio.
    config : ClassifierConfig, optional
        Defaults to ``ClassifierConfig()``.
    downsampled_ratio : float or None
        Real share of the down-sampling ablation's batches (None: leave the ablation out).

    Returns
    -------
    pandas.DataFrame
        Tidy rows: ``method`` ("transfer", "no TL" or :data:`DOWNSAMPLED`), ``ratio`` (NaN but for
        "transfer"), ``repetition``,
        ``seed``, ``metric`` (one of :data:`SWEEP_METRICS`) and ``value``.
    """
    config = config or ClassifierConfig()
    x_train, y_train, d_train = encode_rows(generator, frame, split.train)
    x_val, y_val, _ = encode_rows(generator, frame, split.val)
    x_test, y_test, _ = encode_rows(generator, frame, split.test)
    assignment = assign_domains(frame, generator.spec)
    groups, group_names = assignment.group[split.test], assignment.group_names
    rows: list[dict[str, object]] = []
    for repetition in range(repetitions):
        seeded = replace(config, seed=config.seed + repetition)
        x_pairs, y_pairs, d_pairs = synthetic_pairs(generator, x_train, d_train, seeded.seed)
        w_real, w_pairs = balanced_weights(seeded, d_train, d_pairs)
        base = pretrain(generator, x_val, y_val, seeded)
        candidates: list[tuple[str, float, MLPClassifier]] = [
            ("transfer", float(ratio), finetune(base, x_train, y_train, x_pairs, y_pairs, x_val, y_val, ratio=ratio,
                                                config=seeded, sample_weight=w_real, pair_weight=w_pairs))
            for ratio in ratios
        ]
        candidates.append(("no TL", float("nan"),
                           train_real_only(x_train, y_train, x_val, y_val, seeded, sample_weight=w_real)))
        if downsampled_ratio is not None:
            kept = downsampled_rows(d_train, seeded.seed)
            candidates.append((DOWNSAMPLED, float("nan"), finetune(
                base, x_train[kept], y_train[kept], x_pairs[kept], y_pairs[kept], x_val, y_val,
                ratio=downsampled_ratio, config=seeded)))
        for method, ratio, model in candidates:
            predicted = (predict(model, x_test) >= 0.5).astype(np.int64)
            report = fairness_report(y_test, predicted, groups, group_names)
            values = {"balanced_accuracy": report.overall["balanced_accuracy"], **report.absolute}
            rows += [{"method": method, "ratio": ratio, "repetition": repetition, "seed": seeded.seed,
                      "metric": metric, "value": float(values[metric])} for metric in SWEEP_METRICS]
    return pd.DataFrame(rows)
