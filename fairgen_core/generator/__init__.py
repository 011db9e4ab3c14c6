"""The paper's VAE-GAN cross-domain translator: networks, losses, training and generation."""

from fairgen_core.generator.model import FairGenerator, draw_targets
from fairgen_core.generator.training import EpochReport, ProgressCallback, fit_generator

__all__ = ["EpochReport", "FairGenerator", "ProgressCallback", "draw_targets", "fit_generator"]
