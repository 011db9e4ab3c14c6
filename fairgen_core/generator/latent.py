"""Where sampled rows' latent codes come from: a Gaussian fitted to the training rows' codes.

The paper samples z ~ N(0, I). A VAE's encoder never fills that prior exactly: on Adult the training rows' codes
E(x, (a, y)) have a mean 1.5 away from the origin and correlated coordinates, so part of N(0, I) decodes rows no
real row resembles ("holes" in the aggregate posterior), and a classifier tells them apart. Drawing z from a
Gaussian fitted to the codes the encoder gives the training rows (ex-post density estimation, Ghosh et al.,
ICLR 2020) keeps samples where the decoder was trained. Each domain's Gaussian is its own codes' mean and
covariance shrunk towards the whole split's by :data:`PRIOR_ROWS` pseudo-rows (a small domain borrows from the
rest), and the covariance gets :data:`JITTER` on its diagonal.

One Gaussian per domain, not a mixture: on Adult, COMPAS and German mixtures of 10 and 30 components scored about
the same and come closer to the training rows (``docs/benchmarks.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

#: Pseudo-rows of the whole split's code distribution added to each domain's.
PRIOR_ROWS = 64.0
#: Added to the diagonal of every covariance (the codes' variance is about 1).
JITTER = 1e-4


@dataclass(frozen=True)
class LatentPrior:
    """A Gaussian over the latent codes per domain: ``z = mean[d] + scale_tril[d] @ ε``, ε ~ N(0, I).

    Attributes
    ----------
    mean : torch.Tensor
        ``(n_domains, latent_dim)``.
    scale_tril : torch.Tensor
        ``(n_domains, latent_dim, latent_dim)``: lower-triangular Cholesky factors of the covariances.
    """

    mean: torch.Tensor
    scale_tril: torch.Tensor

    @classmethod
    def standard(cls, n_domains: int, latent_dim: int) -> LatentPrior:
        """N(0, I) in every domain (the paper's prior).

        Examples
        --------
        >>> prior = LatentPrior.standard(2, 3)
        >>> prior.draw(torch.tensor([0, 1]), torch.Generator().manual_seed(0)).shape
        torch.Size([2, 3])
        """
        eye = torch.eye(latent_dim).expand(n_domains, latent_dim, latent_dim).clone()
        return cls(mean=torch.zeros(n_domains, latent_dim), scale_tril=eye)

    def to(self, device: torch.device) -> LatentPrior:
        """The same prior on ``device``."""
        return LatentPrior(self.mean.to(device), self.scale_tril.to(device))

    def draw(self, domains: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """One code per entry of ``domains`` (one ``randn`` call: the same draws as N(0, I) sampling uses)."""
        noise = torch.randn(len(domains), self.mean.shape[1], generator=generator, device=self.mean.device)
        return self.mean.index_select(0, domains) + torch.einsum(
            "nij,nj->ni", self.scale_tril.index_select(0, domains), noise)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Tensors only (``torch.load(weights_only=True)`` safe)."""
        return {"mean": self.mean.detach().cpu(), "scale_tril": self.scale_tril.detach().cpu()}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> LatentPrior:
        """Rebuild from :meth:`state_dict`."""
        return cls(mean=torch.as_tensor(state["mean"]), scale_tril=torch.as_tensor(state["scale_tril"]))


def fit_latent_prior(codes: torch.Tensor, domains: torch.Tensor, n_domains: int) -> LatentPrior:
    """Fit :class:`LatentPrior` to the training rows' codes ``codes`` (the encoder's means) and their domains.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> codes = torch.cat([torch.randn(4000, 2, generator=g) * 0.5 + 3, torch.randn(10, 2, generator=g)])
    >>> prior = fit_latent_prior(codes, torch.tensor([0] * 4000 + [1] * 10), 2)
    >>> prior.mean[0].round().tolist(), bool((prior.mean[1] > 2).all())  # domain 1 borrows from the split
    ([3.0, 3.0], True)
    """
    codes = codes.double()
    pooled_mean = codes.mean(dim=0)
    pooled_cov = torch.cov(codes.T, correction=0).reshape(codes.shape[1], codes.shape[1])
    means, scales = [], []
    for domain in range(n_domains):
        own = codes[domains == domain]
        n = float(len(own))
        own_mean = own.mean(dim=0) if n else pooled_mean
        own_cov = torch.cov(own.T, correction=0).reshape(pooled_cov.shape) if n > 1 else pooled_cov
        weight = n / (n + PRIOR_ROWS)
        mean = weight * own_mean + (1 - weight) * pooled_mean
        # the mixture's second moment, so that a shrunk domain is as spread as its two sources together
        cov = (weight * (own_cov + torch.outer(own_mean - mean, own_mean - mean))
               + (1 - weight) * (pooled_cov + torch.outer(pooled_mean - mean, pooled_mean - mean)))
        cov = cov + JITTER * torch.eye(len(cov), dtype=cov.dtype, device=cov.device)
        means.append(mean)
        scales.append(torch.linalg.cholesky(cov))
    return LatentPrior(mean=torch.stack(means).float(), scale_tril=torch.stack(scales).float())
