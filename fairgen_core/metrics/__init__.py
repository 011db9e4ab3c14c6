"""Metrics: synthetic-data quality (FID against a noise baseline, marginals) and privacy (DCR)."""

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
    "PrivacyReport",
    "QualityReport",
    "closest_record_distances",
    "correlation_difference",
    "frechet_distance",
    "marginal_comparison",
    "noise_baseline",
    "quality_report",
]
