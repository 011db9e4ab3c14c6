"""The translator's networks: encoder E, decoder F and discriminator D (with the domain head D_cls).

Architecture as in the paper: E has three dense layers with LayerNorm and ReLU followed by two residual
layers; F mirrors it; D has three dense layers with LeakyReLU and two heads (real/fake and domain).
The decoder's output activation follows the encoder's span layout: softmax per categorical span,
tanh (bounded to [-1, 1] like the max-abs-scaled data) per numeric value.
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
        return x + fn.relu(self.norm(self.linear(x)))


def _dense(n_in: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, n_out), nn.LayerNorm(n_out), nn.ReLU())


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
            nn.Linear(n_features, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
        )
        self.real_fake = nn.Linear(hidden, 1)
        self.domain = nn.Linear(hidden, n_domains)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.real_fake(h).squeeze(1), self.domain(h)


class OutputActivation:
    """Turns decoder logits into rows in the encoded space, span by span.

    All categorical spans are handled at once: the logits are gathered into a padded
    ``(rows, spans, widest span)`` block (padding holds a large negative logit, so it gets no
    probability), one softmax/argmax runs over the last axis, and the result is copied back.

    Parameters
    ----------
    layout : sequence of Span
        The encoder's layout; spans must tile ``[0, n_features)`` in order.
    """

    PAD_LOGIT = -1e4

    def __init__(self, layout: Sequence[Span]) -> None:
        spans = [s for s in layout if s.kind == "softmax"]
        self.n_features = max((s.stop for s in layout), default=0)
        self.width = max((s.width for s in spans), default=0)
        gather = torch.full((len(spans), self.width), self.n_features, dtype=torch.long)
        for row, span in enumerate(spans):
            gather[row, : span.width] = torch.arange(span.start, span.stop)
        self.gather_index = gather.reshape(-1)
        self.numeric_index = torch.tensor([s.start for s in layout if s.kind == "numeric"], dtype=torch.long)

    def to(self, device: torch.device) -> OutputActivation:
        """Move the index tensors to ``device``."""
        self.gather_index = self.gather_index.to(device)
        self.numeric_index = self.numeric_index.to(device)
        return self

    def blocks(self, matrix: torch.Tensor, pad: float) -> torch.Tensor:
        """The categorical spans of ``matrix`` as a padded ``(rows, spans, width)`` block."""
        padding = matrix.new_full((matrix.shape[0], 1), pad)
        padded = torch.cat([matrix, padding], dim=1)
        return padded.index_select(1, self.gather_index).reshape(matrix.shape[0], -1, self.width)

    def soft(self, logits: torch.Tensor) -> torch.Tensor:
        """Softmax per categorical span, tanh per numeric value (differentiable)."""
        if not self.width:  # numeric columns only
            return self._assemble(logits, None)
        return self._assemble(logits, torch.softmax(self.blocks(logits, self.PAD_LOGIT), dim=-1))

    def gumbel(self, logits: torch.Tensor, tau: float) -> torch.Tensor:
        """Like :meth:`soft` but with Gumbel-softmax samples (what D sees for generated rows)."""
        if not self.width:
            return self._assemble(logits, None)
        block = self.blocks(logits, self.PAD_LOGIT)
        # Gumbel(0, 1) noise from uniforms: much faster on the CPU than sampling exponentials.
        noise = -torch.log(-torch.log(torch.rand_like(block).clamp_(min=1e-10)))
        return self._assemble(logits, torch.softmax((block + noise) / tau, dim=-1))

    def hard(self, logits: torch.Tensor) -> torch.Tensor:
        """One-hot argmax per categorical span, tanh per numeric value (for sampling and evaluation)."""
        if not self.width:
            return self._assemble(logits, None)
        block = self.blocks(logits, self.PAD_LOGIT)
        return self._assemble(logits, fn.one_hot(block.argmax(dim=-1), self.width).to(logits.dtype))

    def _assemble(self, logits: torch.Tensor, block: torch.Tensor | None) -> torch.Tensor:
        out = logits.new_zeros(logits.shape[0], self.n_features + 1)
        if block is not None:
            out.index_copy_(1, self.gather_index, block.reshape(logits.shape[0], -1))
        out = out[:, : self.n_features]
        if self.numeric_index.numel():
            out = out.index_copy(1, self.numeric_index, torch.tanh(logits.index_select(1, self.numeric_index)))
        return out


class Translator(nn.Module):
    """E, F and D together, so one ``state_dict`` holds the whole model."""

    def __init__(self, n_features: int, n_domains: int, hidden: int, latent: int) -> None:
        super().__init__()
        self.n_features, self.n_domains, self.hidden, self.latent = n_features, n_domains, hidden, latent
        self.encoder = Encoder(n_features, n_domains, hidden, latent)
        self.decoder = Decoder(n_features, n_domains, hidden, latent)
        self.discriminator = Discriminator(n_features, n_domains, hidden)
