"""The paper's classifier C: pre-training on balanced synthetic rows, fine-tuning with synthetic pairs."""

from fairgen_core.classifier.model import MLPClassifier
from fairgen_core.classifier.sweep import DEFAULT_RATIOS, ratio_sweep
from fairgen_core.classifier.training import (
    FairClassifier,
    TrainResult,
    balanced_accuracy,
    balanced_synthetic,
    balanced_weights,
    domain_weights,
    encode_rows,
    finetune,
    fit_baseline,
    fit_fair_classifier,
    mixed_batches,
    predict,
    pretrain,
    synthetic_pairs,
    train_classifier,
    train_real_only,
)
from fairgen_core.config import ClassifierConfig

__all__ = [
    "DEFAULT_RATIOS",
    "ClassifierConfig",
    "FairClassifier",
    "MLPClassifier",
    "TrainResult",
    "balanced_accuracy",
    "balanced_synthetic",
    "balanced_weights",
    "domain_weights",
    "encode_rows",
    "finetune",
    "fit_baseline",
    "fit_fair_classifier",
    "mixed_batches",
    "predict",
    "pretrain",
    "ratio_sweep",
    "synthetic_pairs",
    "train_classifier",
    "train_real_only",
]
