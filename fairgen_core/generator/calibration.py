"""Marginal calibration of sampled rows: each domain's column marginals matched to its training rows.

A VAE-GAN decoder draws rows whose per-column distributions drift from the data's: categories come out a few
points too often or too rarely, and numeric scores are under-dispersed, so the tails (Adult's large capital
gains, the 2% of credit-card bills that are negative) are drawn too rarely. Calibration corrects each domain's
marginals after the decoder and keeps what the decoder learnt about how columns go together:

- every categorical column (a softmax span) gets a per-domain bias on its logits, set so that the decoder's
  mean softmax over prior samples of the domain equals the category's share among the domain's training rows
  (shrunk towards the whole training split's share by :data:`PRIOR_ROWS` pseudo-rows, so that a category absent
  from a small domain's training rows stays possible);
- every numeric value (the encoded score of a max-abs or quantile column; not a Gaussian-mixture offset, whose
  meaning depends on its mode) is mapped through a monotone function, the domain's training quantile function
  after the decoder's own distribution function (both tabulated at :data:`LEVELS` levels). A monotone map keeps
  every row's rank within its domain, so pairwise dependence is the decoder's, and the values stay within the
  training range. A value is only judged on the rows where it is present: a row at a column's point mass, or
  with the value missing, does not count.

The targets (:class:`MarginalTargets`) are statistics of the training rows, computed once when training starts
and saved with the model; the decoder's side (:class:`Calibration`) is derived from the weights by drawing
:data:`ROWS_PER_DOMAIN` prior samples per domain, with a fixed seed, whenever a model samples for the first time.
Only prior samples are calibrated: translations stay the translator's own output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from fairgen_core.data.encoding import TabularEncoder
from fairgen_core.generator.modules import OutputActivation

#: Levels at which quantile functions are tabulated (0 and 1 included: the observed minimum and maximum).
LEVELS = 201
#: Pseudo-rows of the whole training split's category shares added to each domain's counts.
PRIOR_ROWS = 5.0
#: Prior samples per domain from which the decoder's marginals are measured.
ROWS_PER_DOMAIN = 8192
#: Rounds of the logit-bias fixed point (each moves every category's log share to its target's).
BIAS_ROUNDS = 12
#: Largest absolute logit bias (a category absent from a domain and the whole split is made this unlikely).
MAX_BIAS = 12.0
_EPS = 1e-6


@dataclass(frozen=True)
class MarginalTargets:
    """What each domain's sampled marginals are calibrated to: statistics of the encoded training rows.

    Attributes
    ----------
    shares : torch.Tensor
        ``(n_domains, n_features)``: each softmax column's mean over the domain's training rows, shrunk towards
        the whole split's; 0 in value columns.
    softmax_columns : torch.Tensor
        ``(n_features,)`` bool: the columns that belong to softmax spans.
    value_columns : torch.Tensor
        ``(n_values,)`` long: the encoded value columns that are calibrated.
    presence : torch.Tensor
        ``(n_values, n_features)``: 1 at the softmax slots that must all be 1 for the value to be present (the
        point-mass span's "other", the missing span's "present"); a row of zeros when the value is always present.
    quantiles : torch.Tensor
        ``(n_domains, n_values, LEVELS)``: each value's quantile function over the domain's training rows where it
        is present (the whole split's where the domain has none).
    """

    shares: torch.Tensor
    softmax_columns: torch.Tensor
    value_columns: torch.Tensor
    presence: torch.Tensor
    quantiles: torch.Tensor

    @property
    def n_domains(self) -> int:
        """Number of (group, label) domains."""
        return int(self.shares.shape[0])

    def to(self, device: torch.device) -> MarginalTargets:
        """The same targets on ``device``."""
        return MarginalTargets(*(getattr(self, name).to(device) for name in _FIELDS))

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Tensors only (``torch.load(weights_only=True)`` safe)."""
        return {name: getattr(self, name).detach().cpu() for name in _FIELDS}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> MarginalTargets:
        """Rebuild from :meth:`state_dict`."""
        return cls(*(torch.as_tensor(state[name]) for name in _FIELDS))


_FIELDS = ("shares", "softmax_columns", "value_columns", "presence", "quantiles")


def marginal_targets(encoder: TabularEncoder, x: np.ndarray, domains: np.ndarray, n_domains: int) -> MarginalTargets:
    """The per-domain marginals of encoded training rows ``x`` (domains ``domains``) that sampling is calibrated to.

    Parameters
    ----------
    encoder : TabularEncoder
        The fitted encoder that produced ``x`` (its codecs say which values can be calibrated).
    x : numpy.ndarray
        Encoded training rows, ``(rows, encoder.n_features)``.
    domains : numpy.ndarray
        Each row's domain index.
    n_domains : int
        Number of domains (a domain without rows takes the whole split's marginals).

    Examples
    --------
    >>> import pandas as pd
    >>> from fairgen_core.data.schema import infer_schema
    >>> df = pd.DataFrame({"c": ["a", "a", "b", "b"], "n": [1.0, 2.0, 3.0, 4.0]})
    >>> encoder = TabularEncoder(infer_schema(df)).fit(df)
    >>> targets = marginal_targets(encoder, encoder.transform(df), np.array([0, 0, 1, 1]), 2)
    >>> targets.shares[:, :2].double().round(decimals=2).tolist()  # (2 + 5 * 0.5) / (2 + 5) for "a" in domain 0
    [[0.64, 0.36], [0.36, 0.64]]
    >>> targets.quantiles[1, 0, [0, -1]].tolist()
    [0.75, 1.0]
    """
    x = np.asarray(x, dtype=np.float64)
    softmax_columns = np.zeros(encoder.n_features, dtype=bool)
    for span in encoder.layout:
        if span.kind == "softmax":
            softmax_columns[span.slice] = True
    value_columns, presence = _calibrated_values(encoder)
    overall = x.mean(axis=0) if len(x) else np.zeros(encoder.n_features)
    levels = np.linspace(0.0, 1.0, LEVELS)
    shares = np.zeros((n_domains, encoder.n_features))
    quantiles = np.zeros((n_domains, len(value_columns), LEVELS))
    present_rows = _present(x, presence)
    for domain in range(n_domains):
        rows = domains == domain
        shares[domain] = (x[rows].sum(axis=0) + PRIOR_ROWS * overall) / (rows.sum() + PRIOR_ROWS)
        for k, column in enumerate(value_columns):
            values = x[rows & present_rows[:, k], column]
            if not len(values):
                values = x[present_rows[:, k], column]
            quantiles[domain, k] = np.quantile(values, levels) if len(values) else 0.0
    shares[:, ~softmax_columns] = 0.0
    return MarginalTargets(
        shares=torch.tensor(shares, dtype=torch.float32),
        softmax_columns=torch.tensor(softmax_columns),
        value_columns=torch.tensor(value_columns, dtype=torch.long),
        presence=torch.tensor(presence, dtype=torch.float32),
        quantiles=torch.tensor(quantiles, dtype=torch.float32),
    )


def _calibrated_values(encoder: TabularEncoder) -> tuple[list[int], np.ndarray]:
    """Encoded positions of the values that can be calibrated, and the slots each needs to be present: the first
    slot of each softmax span after the value (a point mass's "other", a missing value's "present")."""
    columns: list[int] = []
    requirements: list[list[int]] = []
    start = 0
    for codec in encoder.codecs:
        if codec.kind == "numeric" and codec.value_map.n_modes == 0:
            value, *indicators = codec.spans(start)
            columns.append(value.start)
            requirements.append([span.start for span in indicators])
        start += codec.width
    presence = np.zeros((len(columns), encoder.n_features))
    for k, required in enumerate(requirements):
        presence[k, required] = 1.0
    return columns, presence


def _present(x: Any, presence: Any) -> Any:
    """``(rows, n_values)`` bool: whether each value is present in each row (all its required slots are 1); NumPy
    arrays or torch tensors alike."""
    return (x @ presence.T) >= presence.sum(axis=1) - 0.5


@dataclass(frozen=True)
class Calibration:
    """The decoder's side of the calibration: logit biases and the decoder's own quantile functions.

    Attributes
    ----------
    targets : MarginalTargets
        The training rows' marginals.
    logit_bias : torch.Tensor
        ``(n_domains, n_features)``, added to the decoder's logits (0 in value columns).
    decoded_quantiles : torch.Tensor
        ``(n_domains, n_values, LEVELS)``: each calibrated value's quantile function over biased prior samples
        of the domain.
    """

    targets: MarginalTargets
    logit_bias: torch.Tensor
    decoded_quantiles: torch.Tensor

    def logits(self, logits: torch.Tensor, domains: torch.Tensor) -> torch.Tensor:
        """``logits`` with each row's domain bias added."""
        return logits + self.logit_bias.index_select(0, domains)

    def values(self, rows: torch.Tensor, domains: torch.Tensor) -> torch.Tensor:
        """``rows`` (activated decoder output) with every calibrated value mapped to its domain's training
        marginal (a new tensor)."""
        out = rows.clone()
        columns = self.targets.value_columns
        if not columns.numel():
            return out
        for domain in torch.unique(domains).tolist():
            index = torch.nonzero(domains == domain).squeeze(1)
            values = rows.index_select(0, index).index_select(1, columns)
            mapped = monotone_map(values, self.decoded_quantiles[domain], self.targets.quantiles[domain])
            out[index.unsqueeze(1), columns.unsqueeze(0)] = mapped
        return out


def monotone_map(values: torch.Tensor, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Map each column of ``values`` through ``target``'s quantile function after ``source``'s distribution function.

    Parameters
    ----------
    values : torch.Tensor
        ``(rows, columns)``.
    source, target : torch.Tensor
        ``(columns, levels)`` quantile functions at the same levels (non-decreasing rows). Values outside
        ``source``'s range map to ``target``'s ends; within a run of equal ``source`` quantiles, to its midpoint.

    Examples
    --------
    >>> source = torch.tensor([[0.0, 1.0, 2.0]])
    >>> target = torch.tensor([[10.0, 20.0, 40.0]])
    >>> monotone_map(torch.tensor([[-1.0], [0.5], [1.5], [3.0]]), source, target).squeeze(1).tolist()
    [10.0, 15.0, 30.0, 40.0]
    """
    if not values.numel():
        return values
    columns = values.T.contiguous()
    last = source.shape[1] - 1
    upper = torch.searchsorted(source.contiguous(), columns, right=True).clamp(1, last)
    lower = torch.searchsorted(source.contiguous(), columns, right=False).clamp(1, last) - 1
    # between lower and upper the source is flat (ties) or the value lies in one step
    lo_src, hi_src = source.gather(1, lower), source.gather(1, upper)
    lo_tgt, hi_tgt = target.gather(1, lower), target.gather(1, upper)
    span = hi_src - lo_src
    weight = torch.where(span > 0, (columns - lo_src) / span.clamp_min(1e-12), torch.full_like(span, 0.5))
    mapped = lo_tgt + weight.clamp(0.0, 1.0) * (hi_tgt - lo_tgt)
    return mapped.T


def fit_calibration(decode: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], activation: OutputActivation,
                    targets: MarginalTargets, draw: Callable[[torch.Tensor, torch.Generator], torch.Tensor], *,
                    device: torch.device, seed: int = 0, rows_per_domain: int = ROWS_PER_DOMAIN) -> Calibration:
    """Measure the decoder's marginals on prior samples and derive the :class:`Calibration` that matches ``targets``.

    Parameters
    ----------
    decode : callable
        ``decode(z, domain_onehot) -> logits``: the decoder F.
    activation : OutputActivation
        The span activations of the decoder's output.
    targets : MarginalTargets
        The training rows' marginals.
    draw : callable
        ``draw(domains, generator) -> z``: the latent codes sampled rows are decoded from.
    device : torch.device
        Where to draw.
    seed : int
        Seed of the prior samples (the calibration is a function of the weights and this seed).
    rows_per_domain : int
        Prior samples per domain.
    """
    targets = targets.to(device)
    generator = torch.Generator(device=device).manual_seed(seed)
    n_domains, n_features = targets.shares.shape
    softmax = targets.softmax_columns
    bias = torch.zeros(n_domains, n_features, device=device)
    decoded = torch.zeros_like(targets.quantiles)
    levels = torch.linspace(0.0, 1.0, LEVELS, device=device)
    with torch.no_grad():
        for domain in range(n_domains):
            z = draw(torch.full((rows_per_domain,), domain, device=device), generator)
            onehot = torch.zeros(rows_per_domain, n_domains, device=device)
            onehot[:, domain] = 1.0
            logits = decode(z, onehot).float()
            target_log = torch.log(targets.shares[domain] + _EPS)
            for _ in range(BIAS_ROUNDS):
                shares = activation.soft(logits + bias[domain]).mean(dim=0)
                step = torch.where(softmax, target_log - torch.log(shares + _EPS), torch.zeros_like(shares))
                bias[domain] = (bias[domain] + step).clamp(-MAX_BIAS, MAX_BIAS)
            if targets.value_columns.numel():
                rows = activation.sample(logits + bias[domain], generator)
                present = _present(rows, targets.presence)
                for k, column in enumerate(targets.value_columns.tolist()):
                    values = rows[present[:, k], column]
                    if values.numel() < 2:
                        values = rows[:, column]
                    decoded[domain, k] = torch.quantile(values, levels)
    return Calibration(targets=targets, logit_bias=bias, decoded_quantiles=decoded)
