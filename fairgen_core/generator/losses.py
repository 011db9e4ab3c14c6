"""The paper's loss terms, one function per equation (all return scalars averaged over the batch)."""

from __future__ import annotations

import torch
from torch.nn import functional as fn

from fairgen_core.generator.modules import Discriminator, OutputActivation


def prior_kl(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """One term of L_prior (Eq. 5): KL(N(mu, exp(log_var)) || N(0, I)), averaged over rows and latent dims.

    Averaging over the latent dimensions (as the authors' code does) keeps the published λ_prior = 0.1
    from collapsing the posterior; a sum over dimensions with the same weight does (seen on German).

    Examples
    --------
    >>> float(prior_kl(torch.zeros(4, 3), torch.zeros(4, 3)))
    0.0
    """
    return 0.5 * (mu.pow(2) + log_var.exp() - 1.0 - log_var).mean()


def likelihood_nll(logits: torch.Tensor, target: torch.Tensor, activation: OutputActivation) -> torch.Tensor:
    """L_like (Eq. 6): negative log-likelihood of ``target`` under the decoder output.

    Softmax spans: cross-entropy of the span's softmax; numeric values: Gaussian with unit variance around
    the activated value v (tanh(logit), or the logit for an unbounded ``normal`` span), i.e.
    ``0.5 * (v - x) ** 2``. Summed over features, mean over rows.
    """
    total = -(target * activation.log_softmax(logits)).sum(dim=1)  # numeric columns: log-softmax is 0
    if activation.numeric_index.numel():
        index = activation.numeric_index
        total = total + 0.5 * (activation.values(logits) - target.index_select(1, index)).pow(2).sum(1)
    return total.mean()


def reconstruction_l1(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """L_rec (Eq. 7): |x - x_hat| averaged over rows and encoded columns (the authors' scale for λ_rec = 10).

    Examples
    --------
    >>> float(reconstruction_l1(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.5, 0.5]])))
    0.5
    """
    return (x - x_hat).abs().mean()


def discriminator_adversarial(real_score: torch.Tensor, fake_score: torch.Tensor, kind: str) -> torch.Tensor:
    """D's side of L_dis (Eq. 8).

    ``gan``: -[log D(x) + log(1 - D(x_fake))] with D = sigmoid(score); ``wgan-gp``: the critic loss
    E[score(fake)] - E[score(real)] (add :func:`gradient_penalty`).
    """
    if kind == "wgan-gp":
        return fake_score.mean() - real_score.mean()
    return (fn.binary_cross_entropy_with_logits(real_score, torch.ones_like(real_score))
            + fn.binary_cross_entropy_with_logits(fake_score, torch.zeros_like(fake_score)))


def generator_adversarial(fake_score: torch.Tensor, kind: str) -> torch.Tensor:
    """The generator's side of L_dis (Eq. 8), non-saturating: -log D(x_fake); WGAN: -E[score(fake)]."""
    if kind == "wgan-gp":
        return -fake_score.mean()
    return fn.binary_cross_entropy_with_logits(fake_score, torch.ones_like(fake_score))


def domain_classification(domain_logits: torch.Tensor, domain: torch.Tensor) -> torch.Tensor:
    """L_trns (Eq. 9): cross-entropy of D_cls's prediction against the (target) domain index."""
    return fn.cross_entropy(domain_logits, domain)


def gradient_penalty(discriminator: Discriminator, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP penalty: (||grad score(x_mix)||_2 - 1)^2 on random interpolations of real and fake rows."""
    alpha = torch.rand(real.shape[0], 1, device=real.device, dtype=real.dtype)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    score, _ = discriminator(mixed)
    (grad,) = torch.autograd.grad(score.sum(), mixed, create_graph=True)
    return (grad.norm(2, dim=1) - 1.0).pow(2).mean()
