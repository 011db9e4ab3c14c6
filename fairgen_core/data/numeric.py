"""The encoder's maps of one numeric column's values to encoded values and back.

Each map is fitted on a column's present training values (without its point mass, which the encoder gives an
indicator span of its own) and is JSON-serialisable (:meth:`to_dict`, :func:`map_from_dict`):

* :class:`MaxAbs`: x / max|x|, in [-1, 1] (the paper's normalisation).
* :class:`Quantile`: the training values' empirical distribution function F, as a normal score Φ⁻¹(F(x)).
  F is stored at reference points with the share of training values below and at or below
  each; a value encodes as the middle of its step of F, interpolated between reference points. With every
  distinct value kept (``discrete``) decoding returns the value whose step holds the level, so any output
  decodes to a training value and a generator matching the encoded distribution reproduces the frequencies
  exactly; otherwise decoding interpolates between reference points, the exact inverse of encoding.
* :class:`Modes`: a Gaussian mixture; a value encodes as its most probable component (a mode index) and its
  offset from that component's mean divided by the component's reach (the largest offset of its training
  values, at least four standard deviations), so it lies in [-1, 1] and decodes exactly.

Every inverse returns the training values themselves (up to float32 rounding of the encoded matrix).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
from scipy.special import ndtr, ndtri
from sklearn.mixture import GaussianMixture

from fairgen_core.config import EncoderConfig

#: A mixture component's reach is at least this many of its standard deviations.
MODE_REACH_SDS = 4.0
#: A mixture is fitted on at most this many of a column's values (Adult's six columns: 14 s with all 48,842).
MAX_MIXTURE_ROWS = 10_000


class NumericMap(Protocol):
    """What the encoder needs from a numeric column's map."""

    encoding: ClassVar[str]

    @property
    def bounded(self) -> bool:
        """Encoded values lie in [-1, 1] (the generator's output goes through tanh); else unbounded (linear)."""
        ...

    @property
    def n_modes(self) -> int:
        """Width of the mode span (0: none)."""
        ...

    def encode(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Encoded values and, with modes, each value's mode index."""
        ...

    def decode(self, encoded: np.ndarray, mode: np.ndarray | None) -> np.ndarray:
        """Values from encoded values (and mode indices), the inverse of :meth:`encode`."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary with the map's ``encoding`` name (see :func:`map_from_dict`)."""
        ...


class _Saved:
    """:meth:`to_dict` for the maps below: the map's ``encoding`` name and its fields."""

    encoding: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        """See :func:`map_from_dict`."""
        return {"encoding": self.encoding, **asdict(self)}  # type: ignore[call-overload]


@dataclass(frozen=True)
class MaxAbs(_Saved):
    """x / scale with scale = max |x| of the training values (1 when they are all 0).

    Examples
    --------
    >>> m = MaxAbs(4.0)
    >>> m.encode(np.array([-4.0, 2.0]))[0].tolist(), m.decode(np.array([0.5]), None).tolist()
    ([-1.0, 0.5], [2.0])
    """

    scale: float
    encoding: ClassVar[str] = "max-abs"
    bounded: ClassVar[bool] = True
    n_modes: ClassVar[int] = 0

    @classmethod
    def fit(cls, values: np.ndarray) -> MaxAbs:
        """The map of ``values`` (finite, at least one)."""
        return cls(float(np.abs(values).max()) or 1.0)

    def encode(self, values: np.ndarray) -> tuple[np.ndarray, None]:
        """``values / scale``."""
        return values / self.scale, None

    def decode(self, encoded: np.ndarray, mode: np.ndarray | None) -> np.ndarray:
        """``encoded * scale``."""
        return encoded * self.scale


@dataclass(frozen=True)
class Quantile(_Saved):
    """The empirical distribution function F of the training values at reference points.

    Attributes
    ----------
    reference : tuple of float
        Increasing values: every distinct training value (``discrete``) or a rank-spaced subset with the
        smallest and the largest.
    below, at_most : tuple of float
        Share of training values below, and at or below, each reference value (the step of F at it).
    discrete : bool
        Decode to the reference value whose step holds the level (else interpolate between reference points).

    Examples
    --------
    >>> m = Quantile.fit(np.array([0.0, 0.0, 0.0, 5.0]), n_reference=10)
    >>> np.round(ndtr(m.encode(np.array([0.0, 5.0]))[0]), 6).tolist()  # the middles of the steps [0, 0.75], [0.75, 1]
    [0.375, 0.875]
    >>> m.decode(ndtri(np.array([0.05, 0.7, 0.8])), None).tolist()
    [0.0, 0.0, 5.0]
    """

    reference: tuple[float, ...]
    below: tuple[float, ...]
    at_most: tuple[float, ...]
    discrete: bool
    encoding: ClassVar[str] = "quantile"
    bounded: ClassVar[bool] = False
    n_modes: ClassVar[int] = 0

    @classmethod
    def fit(cls, values: np.ndarray, *, n_reference: int) -> Quantile:
        """The map of ``values`` (finite, at least one), keeping at most ``n_reference`` reference points."""
        distinct, counts = np.unique(values, return_counts=True)
        at_most = np.cumsum(counts) / len(values)
        below = at_most - counts / len(values)
        discrete = len(distinct) <= n_reference
        keep = slice(None)
        if not discrete:
            middles = (below + at_most) / 2
            keep = np.unique(np.searchsorted(middles, np.linspace(middles[0], middles[-1], n_reference)))
        return cls(tuple(distinct[keep].tolist()), tuple(below[keep].tolist()), tuple(at_most[keep].tolist()),
                   discrete)

    def _middles(self) -> np.ndarray:
        return (np.asarray(self.below) + np.asarray(self.at_most)) / 2

    def encode(self, values: np.ndarray) -> tuple[np.ndarray, None]:
        """Φ⁻¹ of the middle of each value's step of F (interpolated between reference values)."""
        return ndtri(np.interp(values, self.reference, self._middles())), None

    def decode(self, encoded: np.ndarray, mode: np.ndarray | None) -> np.ndarray:
        """The reference value whose step holds the level (``discrete``), else the interpolated value."""
        level = ndtr(encoded)
        reference = np.asarray(self.reference)
        if self.discrete:
            step = np.searchsorted(np.asarray(self.at_most), level, side="right")
            return reference[np.minimum(step, len(reference) - 1)]
        return np.interp(level, self._middles(), reference)


@dataclass(frozen=True)
class Modes(_Saved):
    """A Gaussian mixture: each value as its most probable component and its offset within that component.

    Attributes
    ----------
    means, sds, weights : tuple of float
        The components' means, standard deviations and weights.
    reaches : tuple of float
        Per component, the offset that encodes as ±1: the largest |x − mean| of the training values it was
        chosen for, at least :data:`MODE_REACH_SDS` standard deviations.

    Examples
    --------
    >>> m = Modes((0.0, 10.0), (1.0, 1.0), (0.5, 0.5), (4.0, 4.0))
    >>> value, mode = m.encode(np.array([1.0, 8.0]))
    >>> value.tolist(), mode.tolist(), m.decode(value, mode).tolist()
    ([0.25, -0.5], [0, 1], [1.0, 8.0])
    """

    means: tuple[float, ...]
    sds: tuple[float, ...]
    weights: tuple[float, ...]
    reaches: tuple[float, ...]
    encoding: ClassVar[str] = "modes"
    bounded: ClassVar[bool] = True

    @classmethod
    def fit(cls, values: np.ndarray, *, n_modes: int, seed: int = 0) -> Modes:
        """A mixture of at most ``n_modes`` components (fewer when the values have fewer distinct values), fitted on
        at most :data:`MAX_MIXTURE_ROWS` of them (seeded); every value counts for the reaches."""
        centre, spread = float(values.mean()), float(values.std()) or 1.0
        n = min(n_modes, len(np.unique(values)))
        rng = np.random.default_rng(seed)
        sample = values if len(values) <= MAX_MIXTURE_ROWS else rng.choice(values, MAX_MIXTURE_ROWS, replace=False)
        mixture = GaussianMixture(n, random_state=seed, reg_covar=1e-4).fit(((sample - centre) / spread)[:, None])
        means = mixture.means_[:, 0] * spread + centre
        sds = np.sqrt(mixture.covariances_.reshape(n)) * spread
        weights = mixture.weights_
        mode = _most_probable(values, means, sds, weights)
        offsets = np.abs(values - means[mode])
        reaches = MODE_REACH_SDS * sds
        np.maximum.at(reaches, mode, offsets)
        return cls(tuple(means.tolist()), tuple(sds.tolist()), tuple(weights.tolist()), tuple(reaches.tolist()))

    @property
    def n_modes(self) -> int:
        """Number of components."""
        return len(self.means)

    def encode(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Offsets from the most probable component's mean over its reach, and that component."""
        means, reaches = np.asarray(self.means), np.asarray(self.reaches)
        mode = _most_probable(values, means, np.asarray(self.sds), np.asarray(self.weights))
        return (values - means[mode]) / reaches[mode], mode

    def decode(self, encoded: np.ndarray, mode: np.ndarray | None) -> np.ndarray:
        """``mean + offset · reach`` of each row's component."""
        if mode is None:
            raise ValueError("decoding a mixture needs each row's mode")
        return np.asarray(self.means)[mode] + encoded * np.asarray(self.reaches)[mode]


def _most_probable(values: np.ndarray, means: np.ndarray, sds: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each value's component of largest posterior probability."""
    z = (values[:, None] - means[None, :]) / sds[None, :]
    return np.argmax(np.log(weights) - np.log(sds) - 0.5 * z * z, axis=1)


def fit_map(values: np.ndarray, config: EncoderConfig) -> NumericMap:
    """The map ``config.numeric`` names, fitted on ``values`` (finite, at least one).

    Examples
    --------
    >>> fit_map(np.array([1.0, -2.0]), EncoderConfig()).to_dict()
    {'encoding': 'max-abs', 'scale': 2.0}
    """
    if config.numeric == "max-abs":
        return MaxAbs.fit(values)
    if config.numeric == "modes":
        return Modes.fit(values, n_modes=config.modes)
    return Quantile.fit(values, n_reference=config.quantiles)


def map_from_dict(state: dict[str, Any]) -> NumericMap:
    """Rebuild a map from its :meth:`to_dict`.

    Raises
    ------
    ValueError
        If the encoding is unknown.
    """
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in state.items() if k != "encoding"}
    kinds: dict[str, type[MaxAbs] | type[Quantile] | type[Modes]] = {
        cls.encoding: cls for cls in (MaxAbs, Quantile, Modes)}
    if state.get("encoding") not in kinds:
        raise ValueError(f"unknown numeric encoding {state.get('encoding')!r}")
    return kinds[state["encoding"]](**values)


def point_mass(values: np.ndarray, share: float | None) -> float | None:
    """The most common of ``values`` if it holds at least ``share`` of them but not all (None: no such value).

    Examples
    --------
    >>> point_mass(np.array([0.0, 0.0, 0.0, 3.0]), 0.5), point_mass(np.array([0.0, 1.0, 2.0]), 0.5)
    (0.0, None)
    """
    if share is None or len(values) == 0:
        return None
    distinct, counts = np.unique(values, return_counts=True)
    top = int(np.argmax(counts))
    return float(distinct[top]) if share * len(values) <= counts[top] < len(values) else None
