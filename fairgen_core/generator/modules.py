"""The translator's networks: encoder E, decoder F and discriminator D (with the domain head D_cls).

Architecture as in the paper: E has three dense layers with LayerNorm and ReLU followed by two residual
layers; F mirrors it; D has three dense layers with LeakyReLU and two heads (real/fake and domain).
The decoder's output activation follows the encoder's span layout: softmax per softmax span (categories, a
numeric column's modes, point mass and missing slot), tanh per bounded numeric value (``numeric`` spans, in
[-1, 1] like max-abs-scaled data) and none per unbounded one (``normal`` spans: normal scores).

ReLU and LeakyReLU work in place (LayerNorm and Linear keep their inputs, not their outputs, for the
backward pass), which saves one allocation and one pass over memory per layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as fn

from fairgen_core.data.encoding import Span


class Residual(nn.Module):
    """``x + ReLU(LayerNorm(Linear(x)))``."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.linear = nn.Linear(width, width)
        self.norm = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + fn.relu(self.norm(self.linear(x)), inplace=True)


def _dense(n_in: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, n_out), nn.LayerNorm(n_out), nn.ReLU(inplace=True))


class Encoder(nn.Module):
    """E(x, domain) -> (mu, log variance) of q(z | x, domain)."""

    def __init__(self, n_features: int, n_domains: int, hidden: int, latent: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _dense(n_features + n_domains, hidden), _dense(hidden, hidden), _dense(hidden, hidden),
            Residual(hidden), Residual(hidden),
        )
        self.head = nn.Linear(hidden, 2 * latent)
        # Start with a small posterior variance: with unit noise on a near-zero mean the decoder first learns
        # to ignore z (posterior collapse; seen on German credit), and never recovers.
        with torch.no_grad():
            self.head.bias[latent:].fill_(self.INITIAL_LOG_VAR)

    INITIAL_LOG_VAR = -5.0

    def forward(self, x: torch.Tensor, domain: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, log_var = self.head(self.body(torch.cat([x, domain], dim=1))).chunk(2, dim=1)
        return mu, log_var.clamp(-10.0, 10.0)


class Decoder(nn.Module):
    """F(z, domain) -> output logits (pre-activation); see :class:`OutputActivation`."""

    def __init__(self, n_features: int, n_domains: int, hidden: int, latent: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _dense(latent + n_domains, hidden), Residual(hidden), Residual(hidden),
            _dense(hidden, hidden), _dense(hidden, hidden),
        )
        self.head = nn.Linear(hidden, n_features)

    def forward(self, z: torch.Tensor, domain: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(torch.cat([z, domain], dim=1)))


class Discriminator(nn.Module):
    """D(x) -> (real/fake score, domain logits)."""

    def __init__(self, n_features: int, n_domains: int, hidden: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(n_features, hidden), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2, inplace=True),
        )
        self.real_fake = nn.Linear(hidden, 1)
        self.domain = nn.Linear(hidden, n_domains)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.real_fake(h).squeeze(1), self.domain(h)


def _gumbel_noise(like: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Gumbel(0, 1) noise shaped like ``like``, from uniforms (much faster on the CPU than exponentials)."""
    uniform = torch.rand(like.shape, generator=generator, device=like.device, dtype=like.dtype)
    return -torch.log(-torch.log(uniform.clamp_(min=1e-10)))


class OutputActivation:
    """Turns decoder logits into rows in the encoded space, span by span.

    Every operation is dense over the ``(rows, features)`` matrix; nothing is gathered into padded
    blocks (Adult's widest span, 41 countries, would make such blocks three times wider than the data).
    A span's softmax is ``exp(logit - span max) / span sum``: the span sums come from two small matrix
    products with the ``(features, spans)`` membership matrix, so the backward pass stays dense too.
    A numeric value is a span of width one whose softmax is replaced by its value activation (:meth:`values`):
    ``tanh`` for a ``numeric`` span, the logit itself for a ``normal`` one.

    Parameters
    ----------
    layout : sequence of Span
        The encoder's layout; spans must tile ``[0, n_features)`` in order.
    """

    def __init__(self, layout: Sequence[Span]) -> None:
        self.spans = tuple(layout)
        self.n_features = max((s.stop for s in self.spans), default=0)
        span_of_column = torch.empty(self.n_features, dtype=torch.long)
        for index, span in enumerate(self.spans):
            span_of_column[span.start:span.stop] = index
        self.span_of_column = span_of_column
        self.membership = fn.one_hot(span_of_column, len(self.spans)).float()
        values = [s for s in self.spans if s.is_value]
        self.numeric_index = torch.tensor([s.start for s in values], dtype=torch.long)
        self.bounded = torch.tensor([s.kind == "numeric" for s in values], dtype=torch.bool)

    def to(self, device: torch.device) -> OutputActivation:
        """Move the index and membership tensors to ``device``."""
        self.span_of_column = self.span_of_column.to(device)
        self.membership = self.membership.to(device)
        self.numeric_index = self.numeric_index.to(device)
        self.bounded = self.bounded.to(device)
        return self

    def values(self, logits: torch.Tensor) -> torch.Tensor:
        """The numeric values of ``logits`` (columns :attr:`numeric_index`): tanh where bounded, else the logit."""
        numbers = logits.index_select(1, self.numeric_index)
        return torch.where(self.bounded, torch.tanh(numbers), numbers)

    def _span_max(self, logits: torch.Tensor) -> torch.Tensor:
        """Each column's span maximum (no gradient: a softmax does not depend on the shift)."""
        with torch.no_grad():
            maxima = torch.stack([logits[:, s.start:s.stop].amax(dim=1) for s in self.spans], dim=1)
            return maxima.index_select(1, self.span_of_column)

    def _span_sum(self, values: torch.Tensor) -> torch.Tensor:
        """Each column's span total, in float32 even under autocast (the sums normalise probabilities)."""
        with torch.autocast(values.device.type, enabled=False):
            return (values.float() @ self.membership) @ self.membership.T

    def _softmax(self, logits: torch.Tensor) -> torch.Tensor:
        exp = torch.exp(logits - self._span_max(logits))
        return exp / self._span_sum(exp)

    def log_softmax(self, logits: torch.Tensor) -> torch.Tensor:
        """Log-softmax within every span (0 in numeric columns, which are spans of width one)."""
        shifted = logits - self._span_max(logits)
        return shifted - torch.log(self._span_sum(torch.exp(shifted)))

    def _with_numbers(self, logits: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """``out`` with :meth:`values` in the numeric columns (written in place)."""
        if self.numeric_index.numel():
            out.index_copy_(1, self.numeric_index, self.values(logits))
        return out

    def soft(self, logits: torch.Tensor) -> torch.Tensor:
        """Softmax per softmax span, the value activation per numeric value (differentiable)."""
        return self._with_numbers(logits, self._softmax(logits))

    def gumbel(self, logits: torch.Tensor, tau: float) -> torch.Tensor:
        """Like :meth:`soft` but with Gumbel-softmax samples (what D sees for generated rows)."""
        return self._with_numbers(logits, self._softmax((logits + _gumbel_noise(logits)) / tau))

    def hard(self, logits: torch.Tensor) -> torch.Tensor:
        """One-hot argmax per softmax span, numeric values as :meth:`soft` (the most likely row, for translation)."""
        return self._one_hot_at_max(logits, logits)

    def sample(self, logits: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """One-hot draw per softmax span from its softmax, numeric values as :meth:`soft` (for new rows).

        The draw is the Gumbel-max trick: the argmax of logits plus Gumbel(0, 1) noise is distributed as the
        span's softmax. Drawing rather than taking the argmax keeps the variety within each category that
        the decoder's likelihood (Eq. 6) models; argmax rows lose it (Adult: FID 0.45 drawn vs 0.66 argmax).
        """
        return self._one_hot_at_max(logits, logits + _gumbel_noise(logits, generator))

    def _one_hot_at_max(self, logits: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        """:meth:`values` in numeric columns; in each softmax span, 1 where ``scores`` is largest."""
        out = self._with_numbers(logits, torch.zeros_like(logits))
        for span in self.spans:
            if span.kind == "softmax":
                winner = scores[:, span.start:span.stop].argmax(dim=1, keepdim=True)
                out[:, span.start:span.stop].scatter_(1, winner, 1.0)
        return out


class Translator(nn.Module):
    """E, F and D together, so one ``state_dict`` holds the whole model."""

    def __init__(self, n_features: int, n_domains: int, hidden: int, latent: int) -> None:
        super().__init__()
        self.n_features, self.n_domains, self.hidden, self.latent = n_features, n_domains, hidden, latent
        self.encoder = Encoder(n_features, n_domains, hidden, latent)
        self.decoder = Decoder(n_features, n_domains, hidden, latent)
        self.discriminator = Discriminator(n_features, n_domains, hidden)
