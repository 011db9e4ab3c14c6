"""Metrics: synthetic-data quality (standard measures: shapes, trends, detection, efficacy; FID against a noise
baseline, marginals), privacy (DCR) and group fairness."""

from fairgen_core.metrics.fairness import (
    FairnessReport,
    Gap,
    bootstrap_intervals,
    fairness_report,
    group_confusion,
)
from fairgen_core.metrics.fidelity import (
    VERDICT_THRESHOLDS,
    Efficacy,
    FidelityInputs,
    FidelityReport,
    column_pair_trends,
    column_shapes,
    detection_score,
    detection_with_interval,
    fidelity_report,
    ml_efficacy,
)
from fairgen_core.metrics.quality import (
    PAPER_NOISE_SIGMA,
    PrivacyReport,
    QualityReport,
    closest_record_distances,
    correlation_difference,
    frechet_distance,
    marginal_comparison,
    noise_baseline,
    quality_report,
)

__all__ = [
    "PAPER_NOISE_SIGMA",
    "VERDICT_THRESHOLDS",
    "Efficacy",
    "FairnessReport",
    "FidelityInputs",
    "FidelityReport",
    "Gap",
    "PrivacyReport",
    "QualityReport",
    "bootstrap_intervals",
    "closest_record_distances",
    "column_pair_trends",
    "column_shapes",
    "correlation_difference",
    "detection_score",
    "detection_with_interval",
    "fairness_report",
    "fidelity_report",
    "frechet_distance",
    "group_confusion",
    "marginal_comparison",
    "ml_efficacy",
    "noise_baseline",
    "quality_report",
]
