"""Quality of a trained generator on held-out rows: FID with noise baselines, marginals, privacy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch

from fairgen_core.data.schema import ColumnKind
from fairgen_core.data.spec import assign_domains
from fairgen_core.data.splits import Split
from fairgen_core.generator.model import FairGenerator
from fairgen_core.metrics.quality import (
    PrivacyReport,
    QualityReport,
    closest_record_distances,
    correlation_difference,
    marginal_comparison,
    quality_report,
)

DEFAULT_SIGMA = 0.25


@dataclass(frozen=True)
class GeneratorQuality:
    """Everything the quality page and the ``quality`` command show."""

    quality: QualityReport
    privacy: PrivacyReport
    marginals: pd.DataFrame
    correlation_difference: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        per_domain = self.quality.per_domain.astype(object).where(self.quality.per_domain.notna(), None)
        return {
            "fid": self.quality.fid, "noise_baseline": self.quality.noise_baseline, "sigma": self.quality.sigma,
            "beats_baseline": self.quality.beats_baseline, "verdict": self.quality.verdict(),
            "per_domain": per_domain.to_dict(orient="records"),
            "correlation_difference": self.correlation_difference,
            "marginals": self.marginals.to_dict(orient="records"),
            "privacy": {"synthetic_median": self.privacy.synthetic_median,
                        "holdout_median": self.privacy.holdout_median,
                        "exact_copy_share": self.privacy.exact_copy_share, "verdict": self.privacy.verdict()},
        }


def assess_quality(model: FairGenerator, frame: pd.DataFrame, split: Split, *, sigma: float = DEFAULT_SIGMA,
                   seed: int = 0) -> GeneratorQuality:
    """Compare synthetic rows with the held-out test rows.

    Synthetic rows are drawn with the test split's domain counts, so overall and per-domain distances
    compare like with like; the baseline is the test rows against themselves plus N(0, sigma²) noise.
    """
    test = frame.iloc[split.test]
    domains = assign_domains(test, model.spec).domain
    valid = domains >= 0
    test, domains = test[valid], domains[valid]
    real = model.encoder.transform(test)
    synthetic = model.decode_prior(domains, torch.Generator(device=model.device).manual_seed(seed)).cpu().numpy()
    report = quality_report(real, synthetic, real_domains=domains, synthetic_domains=domains,
                            domain_names=model.domain_names, sigma=sigma, seed=seed)
    train = model.encoder.transform(frame.iloc[split.train])
    privacy = closest_record_distances(synthetic, train, real, seed=seed)
    decoded = model.encoder.inverse_transform(synthetic)
    schema = model.encoder.schema
    numeric = [c for c in model.encoder.columns if schema.kind(c) is ColumnKind.NUMERIC]
    categorical = [c for c in model.encoder.columns if schema.kind(c) is not ColumnKind.NUMERIC]
    marginals = marginal_comparison(test[list(model.encoder.columns)].reset_index(drop=True), decoded,
                                    numeric, categorical)
    return GeneratorQuality(report, privacy, marginals, float(correlation_difference(real, synthetic)))

