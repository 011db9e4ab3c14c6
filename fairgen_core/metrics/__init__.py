"""Metrics: synthetic-data quality (FID against a noise baseline, marginals), privacy (DCR) and group fairness."""

from fairgen_core.metrics.fairness import (
    FairnessReport,
    Gap,
    bootstrap_intervals,
    fairness_report,
    group_confusion,
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
    "FairnessReport",
    "Gap",
    "PrivacyReport",
    "QualityReport",
    "bootstrap_intervals",
    "closest_record_distances",
    "correlation_difference",
    "fairness_report",
    "frechet_distance",
    "group_confusion",
    "marginal_comparison",
    "noise_baseline",
    "quality_report",
]
