"""Translation fidelity: do translated rows land in their target (group, label) domain?

A fair pair is only worth training on when the translator really moves a row into its target domain. The
measure follows DESIGN.md §6: an *independent probe* — classifiers of the domain and of the label, trained on
real training rows only, never on synthetic ones — judges the translated rows, and its verdict is read
against the same probe's rate on real rows:

* ``target_rate``: share of translated rows the domain probe assigns to their target domain;
* ``source_rate``: share it still assigns to their source domain (an identity "translator" keeps this at
  the real rate and its target rate near zero);
* ``real_rate``: share of real held-out rows it assigns to their own domain — the ceiling a translator
  can be expected to reach; ``target_rate / real_rate`` is the headline ``ratio``;
* ``label_kept`` / ``label_real``: for translations that keep the label, the share whose label the label
  probe still predicts, next to the label probe's accuracy on real rows;
* optional D_cls rates (the generator's own domain head), and the mean change ``|x_g - x|`` next to the
  reconstruction error ``|x_hat - x|`` of the row in its own domain.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from fairgen_core.errors import FairGenError

#: Columns of :attr:`TranslationFidelity.per_domain`.
PER_DOMAIN_COLUMNS = ("domain", "rows", "target_rate", "source_rate", "real_rate", "ratio", "dcls_target_rate",
                      "dcls_real_rate", "label_kept")


@dataclass(frozen=True, eq=False)
class DomainProbe:
    """Multinomial logistic regressions of the domain and of the label, fitted on real rows.

    Build one with :meth:`fit`. The probe never sees synthetic rows, so translated rows cannot be tuned to
    fool it the way they can be tuned against the generator's own domain head D_cls.
    """

    domain_model: LogisticRegression
    label_model: LogisticRegression | None
    n_domains: int

    @classmethod
    def fit(cls, x: np.ndarray, domains: np.ndarray, *, n_domains: int, seed: int = 0,
            max_rows: int = 20_000) -> DomainProbe:
        """Fit the domain and label probes on encoded real rows.

        Parameters
        ----------
        x : numpy.ndarray
            Encoded real training rows (no label, no sensitive attribute).
        domains : numpy.ndarray
            Their domain indices ``2 * group + label``.
        n_domains : int
            Number of domains of the data.
        seed : int
            Seed of the row sample (only used when there are more than ``max_rows`` rows).
        max_rows : int
            At most this many rows are used (a random subset), which keeps the fit to a few seconds.

        Raises
        ------
        FairGenError
            If fewer than two domains occur among the rows.
        """
        x, domains = np.asarray(x, dtype=np.float64), np.asarray(domains, dtype=np.int64)
        if len(x) > max_rows:
            keep = np.random.default_rng(seed).choice(len(x), max_rows, replace=False)
            x, domains = x[keep], domains[keep]
        if len(np.unique(domains)) < 2:
            raise FairGenError("the translation probe needs real rows of at least two domains.")
        labels = domains % 2
        domain_model = _logistic(x, domains)
        label_model = _logistic(x, labels) if len(np.unique(labels)) == 2 else None
        return cls(domain_model, label_model, n_domains)

    def domain(self, x: np.ndarray) -> np.ndarray:
        """The most likely domain of each encoded row."""
        return self.domain_model.predict(np.asarray(x, dtype=np.float64)).astype(np.int64)

    def label(self, x: np.ndarray) -> np.ndarray:
        """The most likely 0/1 label of each encoded row (all -1 when the probe saw a single label)."""
        if self.label_model is None:
            return np.full(len(x), -1, dtype=np.int64)
        return self.label_model.predict(np.asarray(x, dtype=np.float64)).astype(np.int64)


def _logistic(x: np.ndarray, y: np.ndarray) -> LogisticRegression:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(max_iter=300, C=1.0).fit(x, y)


@dataclass(frozen=True, eq=False)
class TranslationFidelity:
    """How well translated rows reach their target domains (see the module docstring).

    Attributes
    ----------
    target_rate, source_rate, real_rate : float
        Overall shares (translated rows at their target, translated rows still at their source, real rows
        at their own domain), judged by the independent probe.
    ratio : float
        ``target_rate / real_rate`` (NaN when the real rate is 0).
    ratio_low, ratio_high : float
        The 95% percentile-bootstrap interval of ``ratio`` over the judged rows (NaN when it is undefined).
    label_kept, label_real : float
        Label probe: share of label-keeping translations whose label it still predicts, and its accuracy on
        the real rows (NaN when no translation keeps its label).
    dcls_target_rate, dcls_real_rate : float
        The same target and real rates judged by the generator's D_cls (NaN when not given).
    change_l1, reconstruction_l1 : float
        Mean absolute change of a translation ``|x_g - x|`` and of a same-domain reconstruction
        ``|x_hat - x|``, averaged over encoded columns (NaN when not given).
    per_domain : pandas.DataFrame
        One row per target domain (:data:`PER_DOMAIN_COLUMNS`); ``real_rate`` is that domain's real rows'
        rate of being recognised.
    """

    target_rate: float
    source_rate: float
    real_rate: float
    ratio: float
    ratio_low: float
    ratio_high: float
    label_kept: float
    label_real: float
    dcls_target_rate: float
    dcls_real_rate: float
    change_l1: float
    reconstruction_l1: float
    per_domain: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the overall numbers and ``per_domain`` as records (NaN as None)."""
        overall = {name: _plain(getattr(self, name)) for name in (
            "target_rate", "source_rate", "real_rate", "ratio", "ratio_low", "ratio_high", "label_kept", "label_real",
            "dcls_target_rate", "dcls_real_rate", "change_l1", "reconstruction_l1")}
        records = self.per_domain.astype(object).where(self.per_domain.notna(), None).to_dict(orient="records")
        return {**overall, "per_domain": records}

    def summary(self) -> str:
        """One plain sentence for people."""
        return (f"Translated rows reach their target domain {self.target_rate:.0%} of the time; real rows are "
                f"recognised in their own domain {self.real_rate:.0%} of the time (ratio {self.ratio:.2f}, 95% "
                f"interval {self.ratio_low:.2f}–{self.ratio_high:.2f}).")


def _plain(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _rate(hits: np.ndarray) -> float:
    return float(np.mean(hits)) if len(hits) else float("nan")


def ratio_interval(target_hit: np.ndarray, real_hit: np.ndarray, *, resamples: int = 1000,
                   seed: int = 0) -> tuple[float, float]:
    """95% percentile-bootstrap interval of ``mean(target_hit) / mean(real_hit)``, resampling rows.

    Parameters
    ----------
    target_hit, real_hit : numpy.ndarray
        Per judged row: did its translation reach the target domain, was the row itself recognised.
    resamples : int
        Number of bootstrap resamples.
    seed : int
        Seed of the resampling.

    Returns
    -------
    tuple of float
        Lower and upper bound (NaN when there are no rows or no real row is recognised).

    Examples
    --------
    >>> low, high = ratio_interval(np.r_[np.ones(80), np.zeros(20)], np.r_[np.ones(90), np.zeros(10)])
    >>> bool(low < 0.8 / 0.9 < high), bool(high - low < 0.3)
    (True, True)
    """
    target_hit, real_hit = np.asarray(target_hit, dtype=np.float64), np.asarray(real_hit, dtype=np.float64)
    if len(target_hit) == 0 or not real_hit.any():
        return float("nan"), float("nan")
    rng, ratios = np.random.default_rng(seed), []
    for size in np.diff(np.r_[0:resamples:100, resamples]):
        rows = rng.integers(0, len(target_hit), (size, len(target_hit)))
        real = real_hit[rows].mean(axis=1)
        ratios.append(np.divide(target_hit[rows].mean(axis=1), real, out=np.full(size, np.nan), where=real > 0))
    low, high = np.nanquantile(np.concatenate(ratios), [0.025, 0.975])
    return float(low), float(high)


def translation_fidelity(probe: DomainProbe, x: np.ndarray, source: np.ndarray, target: np.ndarray,
                         translated: np.ndarray, *, domain_names: tuple[str, ...],
                         reconstructed: np.ndarray | None = None, dcls_translated: np.ndarray | None = None,
                         dcls_real: np.ndarray | None = None) -> TranslationFidelity:
    """Judge translations of real held-out rows with an independent probe.

    Parameters
    ----------
    probe : DomainProbe
        Fitted on real *training* rows.
    x : numpy.ndarray
        Encoded real held-out rows.
    source, target : numpy.ndarray
        Their true domains and the domains they were translated to.
    translated : numpy.ndarray
        The translations ``x_g``, one per row of ``x``.
    domain_names : tuple of str
        Names of the domains, by index.
    reconstructed : numpy.ndarray, optional
        ``x_hat = F(E(x, source), source)``, for the reconstruction error.
    dcls_translated, dcls_real : numpy.ndarray, optional
        D_cls's predicted domain of each translation and of each real row.

    Returns
    -------
    TranslationFidelity

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> domains = np.repeat(np.arange(4), 50)
    >>> x = np.eye(4)[domains] + rng.normal(0, 0.1, (200, 4))   # each domain is recognisable
    >>> probe = DomainProbe.fit(x, domains, n_domains=4)
    >>> names = ("a0", "a1", "b0", "b1")
    >>> flipped = (domains + 2) % 4                               # other group, same label
    >>> identity = translation_fidelity(probe, x, domains, flipped, x, domain_names=names)
    >>> identity.target_rate, identity.source_rate
    (0.0, 1.0)
    >>> perfect = translation_fidelity(probe, x, domains, flipped, np.eye(4)[flipped], domain_names=names)
    >>> perfect.target_rate, perfect.ratio
    (1.0, 1.0)
    """
    x, translated = np.asarray(x), np.asarray(translated)
    source, target = np.asarray(source, dtype=np.int64), np.asarray(target, dtype=np.int64)
    if not (len(x) == len(source) == len(target) == len(translated)):
        raise FairGenError("rows, source domains, target domains and translations must have the same length.")
    if len(x) == 0:
        raise FairGenError("there are no held-out rows to judge the translations on.")
    real_domain, translated_domain = probe.domain(x), probe.domain(translated)
    real_hit, target_hit, source_hit = real_domain == source, translated_domain == target, translated_domain == source
    keeps_label = (target % 2) == (source % 2)
    label_hit = probe.label(translated) == source % 2
    nan = np.full(len(x), np.nan)
    dcls_target = (np.asarray(dcls_translated) == target) if dcls_translated is not None else nan
    dcls_real = (np.asarray(dcls_real) == source) if dcls_real is not None else nan
    rows = []
    for domain, name in enumerate(domain_names):
        to_it, of_it = target == domain, source == domain
        target_rate, real_rate = _rate(target_hit[to_it]), _rate(real_hit[of_it])
        rows.append({
            "domain": name, "rows": int(to_it.sum()), "target_rate": target_rate,
            "source_rate": _rate(source_hit[to_it]), "real_rate": real_rate,
            "ratio": target_rate / real_rate if real_rate > 0 else float("nan"),
            "dcls_target_rate": _rate(dcls_target[to_it]), "dcls_real_rate": _rate(dcls_real[of_it]),
            "label_kept": _rate(label_hit[to_it & keeps_label]),
        })
    target_rate, real_rate = _rate(target_hit), _rate(real_hit)
    ratio_low, ratio_high = ratio_interval(target_hit, real_hit)
    return TranslationFidelity(
        target_rate=target_rate, source_rate=_rate(source_hit), real_rate=real_rate,
        ratio=target_rate / real_rate if real_rate > 0 else float("nan"), ratio_low=ratio_low, ratio_high=ratio_high,
        label_kept=_rate(label_hit[keeps_label]), label_real=_rate(probe.label(x) == source % 2),
        dcls_target_rate=_rate(dcls_target), dcls_real_rate=_rate(dcls_real),
        change_l1=float(np.abs(translated - x).mean()),
        reconstruction_l1=float(np.abs(np.asarray(reconstructed) - x).mean()) if reconstructed is not None
        else float("nan"),
        per_domain=pd.DataFrame(rows, columns=list(PER_DOMAIN_COLUMNS)),
    )
