"""The paper's VAE-GAN cross-domain translator: networks, losses, training, generation and its evaluation."""

from fairgen_core.generator.evaluation import GeneratorQuality, assess_quality, assess_translation
from fairgen_core.generator.loss_terms import GeneratorTerms, LossTerms
from fairgen_core.generator.model import FairGenerator, draw_targets
from fairgen_core.generator.training import EpochReport, ProgressCallback, fit_generator

__all__ = [
    "EpochReport",
    "FairGenerator",
    "GeneratorQuality",
    "GeneratorTerms",
    "LossTerms",
    "ProgressCallback",
    "assess_quality",
    "assess_translation",
    "draw_targets",
    "fit_generator",
]
