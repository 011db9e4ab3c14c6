"""Each loss term against a value computed by hand on a tiny batch."""

from __future__ import annotations

import math

import pytest
import torch

from fairgen_core.data.encoding import Span
from fairgen_core.generator import losses
from fairgen_core.generator.modules import Discriminator, OutputActivation

# one numeric column, one 3-way categorical, one 2-way categorical
LAYOUT = (Span("n", "numeric", 0, 1), Span("c", "softmax", 1, 4), Span("b", "softmax", 4, 6))


def test_prior_kl_matches_the_closed_form() -> None:
    mu = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    log_var = torch.tensor([[0.0, math.log(4.0)], [0.0, 0.0]])
    # KL per dim = 0.5 * (mu^2 + var - 1 - log var), averaged over the 2 rows x 2 latent dims
    row1 = 0.5 * (1 + 1 - 1 - 0) + 0.5 * (0 + 4 - 1 - math.log(4.0))
    row2 = 0.5 * (0 + 1 - 1 - 0) + 0.5 * (4 + 1 - 1 - 0)
    assert float(losses.prior_kl(mu, log_var)) == pytest.approx((row1 + row2) / 4)


def test_likelihood_nll_by_hand() -> None:
    activation = OutputActivation(LAYOUT)
    logits = torch.tensor([[0.5, 1.0, 2.0, 3.0, 0.0, 0.0]])
    target = torch.tensor([[0.2, 0.0, 0.0, 1.0, 1.0, 0.0]])
    numeric = 0.5 * (math.tanh(0.5) - 0.2) ** 2
    categorical = -(3.0 - math.log(math.exp(1) + math.exp(2) + math.exp(3)))
    binary = math.log(2.0)
    assert float(losses.likelihood_nll(logits, target, activation)) == pytest.approx(numeric + categorical + binary)


def test_likelihood_nll_of_an_unbounded_score_uses_the_logit_itself() -> None:
    activation = OutputActivation((Span("q", "normal", 0, 1), Span("q", "softmax", 1, 3), Span("n", "numeric", 3, 4)))
    logits = torch.tensor([[2.5, 0.0, 0.0, 0.5]])
    target = torch.tensor([[1.5, 0.0, 1.0, 0.2]])
    expected = 0.5 * (2.5 - 1.5) ** 2 + math.log(2.0) + 0.5 * (math.tanh(0.5) - 0.2) ** 2
    assert float(losses.likelihood_nll(logits, target, activation)) == pytest.approx(expected)


def test_reconstruction_l1_by_hand() -> None:
    x = torch.tensor([[1.0, 0.0, 0.5], [0.0, 1.0, -0.5]])
    x_hat = torch.tensor([[0.5, 0.5, 0.5], [0.0, 0.0, 0.5]])
    assert float(losses.reconstruction_l1(x, x_hat)) == pytest.approx((1.0 + 2.0) / 6)


def test_adversarial_losses_by_hand() -> None:
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([-1.0, 1.0])
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    expected_d = -(math.log(sig(2.0)) + math.log(sig(0.0))) / 2 - (math.log(1 - sig(-1.0)) + math.log(1 - sig(1.0))) / 2
    assert float(losses.discriminator_adversarial(real, fake, "gan")) == pytest.approx(expected_d)
    expected_g = -(math.log(sig(-1.0)) + math.log(sig(1.0))) / 2
    assert float(losses.generator_adversarial(fake, "gan")) == pytest.approx(expected_g)
    assert float(losses.discriminator_adversarial(real, fake, "wgan-gp")) == pytest.approx(0.0 - 1.0)
    assert float(losses.generator_adversarial(fake, "wgan-gp")) == pytest.approx(0.0)


def test_domain_classification_by_hand() -> None:
    logits = torch.tensor([[0.0, 0.0, 0.0, math.log(5.0)]])
    assert float(losses.domain_classification(logits, torch.tensor([3]))) == pytest.approx(-math.log(5 / 8))


def test_gradient_penalty_is_zero_for_a_unit_gradient_critic() -> None:
    critic = Discriminator(n_features=2, n_domains=2, hidden=4)
    for module in critic.body:
        if isinstance(module, torch.nn.Linear):
            torch.nn.init.eye_(module.weight)
            torch.nn.init.zeros_(module.bias)
    # identity body padded: x -> [x1, x2, 0, 0] stays positive for positive inputs; head picks x1
    torch.nn.init.zeros_(critic.real_fake.bias)
    with torch.no_grad():
        critic.real_fake.weight.copy_(torch.tensor([[1.0, 0.0, 0.0, 0.0]]))
    real, fake = torch.tensor([[1.0, 2.0], [3.0, 1.0]]), torch.tensor([[2.0, 2.0], [1.0, 1.0]])
    assert float(losses.gradient_penalty(critic, real, fake).detach()) == pytest.approx(0.0, abs=1e-6)
