"""Network shapes and the span-wise output activations."""

from __future__ import annotations

import torch

from fairgen_core.data.encoding import Span
from fairgen_core.generator.modules import OutputActivation, Residual, Translator

LAYOUT = (Span("n", "numeric", 0, 1), Span("c", "softmax", 1, 4), Span("m", "numeric", 4, 5),
          Span("m", "softmax", 5, 7, is_missing_indicator=True), Span("b", "softmax", 7, 9))


def test_shapes() -> None:
    net = Translator(n_features=9, n_domains=4, hidden=16, latent=3)
    x, domain = torch.randn(5, 9), torch.eye(4)[[0, 1, 2, 3, 0]]
    mu, log_var = net.encoder(x, domain)
    assert mu.shape == log_var.shape == (5, 3)
    assert net.decoder(mu, domain).shape == (5, 9)
    score, domain_logits = net.discriminator(x)
    assert score.shape == (5,) and domain_logits.shape == (5, 4)
    encoder_layers = [m for m in net.encoder.body if isinstance(m, Residual)]
    assert len(encoder_layers) == 2  # three dense layers, then two residual layers


def test_soft_activation_is_a_distribution_per_span_and_bounded_for_numbers() -> None:
    activation = OutputActivation(LAYOUT)
    logits = torch.randn(64, 9) * 5
    out = activation.soft(logits)
    for start, stop in ((1, 4), (5, 7), (7, 9)):
        torch.testing.assert_close(out[:, start:stop].sum(dim=1), torch.ones(64))
        assert (out[:, start:stop] >= 0).all()
    torch.testing.assert_close(out[:, [0, 4]], torch.tanh(logits[:, [0, 4]]))


def test_hard_activation_is_one_hot_at_the_argmax() -> None:
    activation = OutputActivation(LAYOUT)
    logits = torch.randn(64, 9)
    out = activation.hard(logits)
    for start, stop in ((1, 4), (5, 7), (7, 9)):
        block = out[:, start:stop]
        assert set(block.sum(dim=1).tolist()) == {1.0}
        assert (block.argmax(dim=1) == logits[:, start:stop].argmax(dim=1)).all()


def test_gumbel_activation_is_near_one_hot_at_low_temperature() -> None:
    activation = OutputActivation(LAYOUT)
    out = activation.gumbel(torch.randn(256, 9), tau=0.05)
    assert out[:, 1:4].max(dim=1).values.mean() > 0.95


def test_numeric_only_layout_needs_no_categorical_span() -> None:
    activation = OutputActivation((Span("age", "numeric", 0, 1), Span("income", "numeric", 1, 2)))
    logits = torch.randn(8, 2) * 3
    for out in (activation.soft(logits), activation.hard(logits), activation.gumbel(logits, 0.5)):
        torch.testing.assert_close(out, torch.tanh(logits))


def test_log_softmax_matches_torch_within_every_span_and_is_zero_for_numbers() -> None:
    activation = OutputActivation(LAYOUT)
    logits = torch.randn(32, 9) * 4
    out = activation.log_softmax(logits)
    for start, stop in ((1, 4), (5, 7), (7, 9)):
        torch.testing.assert_close(out[:, start:stop], torch.log_softmax(logits[:, start:stop], dim=1))
    assert (out[:, [0, 4]] == 0).all()


def test_softmax_is_exact_when_spans_sit_far_apart() -> None:
    # One shift for the whole row would underflow the span near -1000 to 0/0; each span uses its own maximum.
    activation = OutputActivation(LAYOUT)
    logits = torch.zeros(2, 9)
    logits[:, 1:4] = torch.tensor([1000.0, 999.0, 998.0])
    logits[:, 7:9] = torch.tensor([-1000.0, -1001.0])
    out = activation.soft(logits)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out[:, 1:4], torch.softmax(torch.tensor([[2.0, 1.0, 0.0]] * 2), dim=1))
    torch.testing.assert_close(out[:, 7:9], torch.softmax(torch.tensor([[1.0, 0.0]] * 2), dim=1))
    logits.requires_grad_(True)
    activation.soft(logits)[:, 7].sum().backward()
    assert torch.isfinite(logits.grad).all()


def test_sample_draws_each_span_from_its_softmax_reproducibly() -> None:
    activation = OutputActivation(LAYOUT)
    logits = torch.zeros(20_000, 9)
    logits[:, 1:4] = torch.log(torch.tensor([0.2, 0.3, 0.5]))
    logits[:, 0] = 0.7
    out = activation.sample(logits, torch.Generator().manual_seed(3))
    for start, stop in ((1, 4), (5, 7), (7, 9)):
        assert set(out[:, start:stop].sum(dim=1).tolist()) == {1.0}  # one-hot per span
    torch.testing.assert_close(out[:, 1:4].mean(dim=0), torch.tensor([0.2, 0.3, 0.5]), atol=0.015, rtol=0)
    torch.testing.assert_close(out[:, 7:9].mean(dim=0), torch.tensor([0.5, 0.5]), atol=0.015, rtol=0)
    torch.testing.assert_close(out[:, 0], torch.tanh(logits[:, 0]))
    assert torch.equal(out, activation.sample(logits, torch.Generator().manual_seed(3)))
    assert not torch.equal(out, activation.sample(logits, torch.Generator().manual_seed(4)))


def test_normal_spans_keep_the_logit_and_numeric_spans_go_through_tanh() -> None:
    # A quantile-encoded column (an unbounded normal score and its point mass) next to a max-abs one.
    layout = (Span("q", "normal", 0, 1), Span("q", "softmax", 1, 3), Span("n", "numeric", 3, 4))
    activation = OutputActivation(layout)
    logits = torch.randn(16, 4) * 4
    for out in (activation.soft(logits), activation.hard(logits), activation.gumbel(logits, 0.5),
                activation.sample(logits, torch.Generator().manual_seed(0))):
        torch.testing.assert_close(out[:, 0], logits[:, 0])
        torch.testing.assert_close(out[:, 3], torch.tanh(logits[:, 3]))
        torch.testing.assert_close(out[:, 1:3].sum(dim=1), torch.ones(16))
    assert (activation.log_softmax(logits)[:, [0, 3]] == 0).all()
