"""Quality of a trained generator on held-out rows: the standard measures (shapes, trends, detection, efficacy,
:mod:`~fairgen_core.metrics.fidelity`), FID with noise baselines, marginals, privacy."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from fairgen_core.config import PairProtocol
from fairgen_core.data.encoding import TabularEncoder
from fairgen_core.data.schema import ColumnKind
from fairgen_core.data.spec import assign_domains
from fairgen_core.data.splits import Split
from fairgen_core.generator.model import FairGenerator
from fairgen_core.metrics.fidelity import MEASURE_LABELS, FidelityInputs, FidelityReport, fidelity_report
from fairgen_core.metrics.quality import (
    PAPER_NOISE_SIGMA,
    PrivacyReport,
    QualityReport,
    closest_record_distances,
    correlation_difference,
    marginal_comparison,
    quality_report,
)
from fairgen_core.metrics.translation import DomainProbe, TranslationFidelity, translation_fidelity
from fairgen_core.metrics.validity import ValidityReport

DEFAULT_SIGMA = 0.25


def default_sigma(dataset: str) -> float:
    """The FID baseline's noise level: the paper's for Adult and COMPAS, else :data:`DEFAULT_SIGMA`.

    Parameters
    ----------
    dataset : str
        The dataset's name (a built-in name or a file name).

    Returns
    -------
    float
        The noise level to pass as ``sigma`` to :func:`assess_quality`.

    Examples
    --------
    >>> default_sigma("compas"), default_sigma("people.csv")
    (0.12, 0.25)
    """
    return PAPER_NOISE_SIGMA.get(dataset, DEFAULT_SIGMA)


@dataclass(frozen=True)
class GeneratorQuality:
    """Everything the quality page and the ``quality`` command show: the standard measures first, then the paper's
    FID, marginals and privacy."""

    quality: QualityReport
    privacy: PrivacyReport
    marginals: pd.DataFrame
    correlation_difference: float
    fidelity: FidelityReport

    def shortcomings(self, validity: ValidityReport | None) -> tuple[str, ...]:
        """Why the synthetic rows are not called good: every reason that withholds a green verdict (empty if none).

        A measure of :attr:`fidelity` judged poor, rows breaking the data's structure (``validity``; None: not
        checked), an FID above the noise baseline: each gives one sentence. The Quality page and the report show
        the verdict in green only when this is empty.
        """
        reasons = [f"{MEASURE_LABELS[m]} is poor ({_judged(m, self.fidelity.values()[m])})."
                   for m in self.fidelity.poor()]
        if validity is not None and not validity.good:
            reasons.append(f"The synthetic rows break the data's structure: only {validity.share:.1%} keep every "
                           "rule.")
        if not self.quality.beats_baseline:
            reasons.append("The FID is above the real+noise baseline.")
        return tuple(reasons)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: the measures of :meth:`FidelityReport.to_dict`, then the paper's FID; ``per_domain``
        holds both per domain (FID columns and :data:`~fairgen_core.metrics.fidelity.DOMAIN_COLUMNS`)."""
        table = self.quality.per_domain.merge(self.fidelity.per_domain, on=["domain", "n_real", "n_synthetic"],
                                              how="left", sort=False)
        per_domain = table.astype(object).where(table.notna(), None)
        return {
            **self.fidelity.to_dict(),
            "fid": self.quality.fid, "noise_baseline": self.quality.noise_baseline, "sigma": self.quality.sigma,
            "beats_baseline": self.quality.beats_baseline, "verdict": self.quality.verdict(),
            "per_domain": per_domain.to_dict(orient="records"),
            "correlation_difference": self.correlation_difference,
            "marginals": self.marginals.to_dict(orient="records"),
            "privacy": {"synthetic_median": self.privacy.synthetic_median,
                        "holdout_median": self.privacy.holdout_median,
                        "exact_copy_share": self.privacy.exact_copy_share, "verdict": self.privacy.verdict()},
        }


@dataclass(frozen=True)
class QualitySamples:
    """The held-out test rows and the synthetic rows :func:`assess_quality` compares them with.

    Attributes
    ----------
    real : pandas.DataFrame
        Decoded feature columns (the encoder's columns) of the test rows.
    real_encoded, synthetic_encoded : numpy.ndarray
        The same rows encoded by :attr:`encoder`, the space the distances are measured in.
    domains : numpy.ndarray
        Domain index per row; both sides have the same domain counts.
    synthetic_rows : pandas.DataFrame
        The synthetic rows in full, as exported (label, sensitive, identifier and constant columns too).
    encoder : TabularEncoder
        The model's encoder with the paper's max-abs encoding
        (:meth:`~fairgen_core.data.encoding.TabularEncoder.max_abs_view`): one yardstick whatever the model's
        numeric encoding.
    """

    real: pd.DataFrame
    real_encoded: np.ndarray
    synthetic_encoded: np.ndarray
    domains: np.ndarray
    synthetic_rows: pd.DataFrame
    encoder: TabularEncoder

    @cached_property
    def synthetic(self) -> pd.DataFrame:
        """The synthetic rows' feature columns, as :attr:`real` has them."""
        return self.synthetic_rows[list(self.real.columns)]


def quality_samples(model: FairGenerator, frame: pd.DataFrame, split: Split, *, seed: int = 0) -> QualitySamples:
    """Test rows with a domain, and synthetic rows drawn with their domain counts (the draw seeded by ``seed``).

    The synthetic rows are made as exported rows are (:meth:`FairGenerator.sample_domains`: decoded, numbers
    mapped back, clipped and rounded, kept to the data's structure), so the measures judge what the user gets;
    both sides are then encoded by :attr:`QualitySamples.encoder`.

    Parameters
    ----------
    model : FairGenerator
        The trained translator.
    frame : pandas.DataFrame
        The table the model was trained on.
    split : Split
        The run's split; its test rows are compared.
    seed : int
        Seed of the prior draw.

    Returns
    -------
    QualitySamples
    """
    test = frame.iloc[split.test]
    domains = assign_domains(test, model.spec).domain
    valid = domains >= 0
    test, domains = test[valid], domains[valid]
    encoder = model.encoder.max_abs_view()
    rows = model.sample_domains(domains, seed=seed)
    features = list(model.encoder.columns)
    return QualitySamples(test[features].reset_index(drop=True), encoder.transform(test),
                          encoder.transform(rows[features]), domains, rows, encoder)


def assess_quality(model: FairGenerator, frame: pd.DataFrame, split: Split, *, sigma: float = DEFAULT_SIGMA,
                   seed: int = 0) -> GeneratorQuality:
    """Compare synthetic rows with the held-out test rows.

    Synthetic rows are drawn with the test split's domain counts (:func:`quality_samples`), so overall and
    per-domain distances compare like with like; the baseline is the test rows against themselves plus
    N(0, sigma²) noise. The standard measures (:func:`~fairgen_core.metrics.fidelity.fidelity_report`) compare the
    same rows, with the real training rows for TRTR and the distances to the closest record.
    """
    samples = quality_samples(model, frame, split, seed=seed)
    real, synthetic, domains = samples.real_encoded, samples.synthetic_encoded, samples.domains
    report = quality_report(real, synthetic, real_domains=domains, synthetic_domains=domains,
                            domain_names=model.domain_names, sigma=sigma, seed=seed)
    train_rows = frame.iloc[split.train]
    train = samples.encoder.transform(train_rows)
    privacy = closest_record_distances(synthetic, train, real, seed=seed)
    schema = model.encoder.schema
    numeric = tuple(c for c in model.encoder.columns if schema.kind(c) is ColumnKind.NUMERIC)
    categorical = tuple(c for c in model.encoder.columns if schema.kind(c) is not ColumnKind.NUMERIC)
    marginals = marginal_comparison(samples.real, samples.synthetic, numeric, categorical)
    assignment = assign_domains(train_rows, model.spec)
    fidelity = fidelity_report(FidelityInputs(
        samples.real, samples.synthetic, real, synthetic, domains, domains, train[assignment.valid],
        assignment.domain[assignment.valid], numeric, categorical, model.domain_names, assignment.group_names),
        seed=seed)
    return GeneratorQuality(report, privacy, marginals, float(correlation_difference(real, synthetic)), fidelity)


def _judged(measure: str, value: float) -> str:
    """A measure's judged value in words, for :meth:`GeneratorQuality.shortcomings`."""
    if measure == "tstr":
        return f"balanced accuracy {value:+.3f} against the model trained on real rows"
    if measure == "tstr_fairness":
        return f"its fairness gap is {-value:.3f} wider than that of the model trained on real rows"
    return f"{value:.3f}"


def encoded_domains(model: FairGenerator, frame: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Encoded features and domains of ``frame.iloc[rows]``, rows without a domain left out."""
    part = frame.iloc[rows]
    domains = assign_domains(part, model.spec).domain
    valid = domains >= 0
    return model.encoder.transform(part[valid]), domains[valid].astype(np.int64)


def translation_of(model: FairGenerator, probe: DomainProbe, x: np.ndarray, source: np.ndarray, *,
                   pairs: PairProtocol = "counterfactual", seed: int = 0, details: bool = True) -> TranslationFidelity:
    """Translate encoded real rows with the pair rule ``pairs`` and judge the translations with ``probe``.

    The translations, their same-domain reconstructions and D_cls's verdicts all use ``seed``. Without
    ``details`` (training's per-epoch check) the reconstructions and D_cls are skipped: their numbers are NaN.
    """
    target = model.paired_targets(source, seed=seed, pairs=pairs)
    translated = model.translate_encoded(x, source, target, seed=seed)
    if not details:
        return translation_fidelity(probe, x, source, target, translated, domain_names=model.domain_names)
    reconstructed = model.translate_encoded(x, source, source, seed=seed)
    return translation_fidelity(probe, x, source, target, translated, domain_names=model.domain_names,
                                reconstructed=reconstructed, dcls_translated=model.classify_domains(translated),
                                dcls_real=model.classify_domains(x))


def assess_translation(model: FairGenerator, frame: pd.DataFrame, split: Split, *,
                       pairs: PairProtocol = "counterfactual", seed: int = 0) -> TranslationFidelity:
    """Translation fidelity on the held-out test rows, judged by a probe fitted on the training rows.

    Parameters
    ----------
    model : FairGenerator
        The trained translator.
    frame : pandas.DataFrame
        The table the model was trained on.
    split : Split
        The run's split: the probe learns from its training rows, its test rows are translated.
    pairs : {"counterfactual", "paper"}
        The target rule of the translations (flip the group and keep the label, or the paper's rule).
    seed : int
        Seed of the probe's row sample, the targets and the latent noise.
    """
    x_train, d_train = encoded_domains(model, frame, split.train)
    probe = DomainProbe.fit(x_train, d_train, n_domains=model.n_domains, seed=seed)
    x_test, d_test = encoded_domains(model, frame, split.test)
    return translation_of(model, probe, x_test, d_test, pairs=pairs, seed=seed)


def correlation_gaps(encoder: TabularEncoder, real: np.ndarray, synthetic: np.ndarray) -> pd.DataFrame:
    """Per pair of original columns, the largest |correlation difference| between their encoded features.

    The mean of the same differences over all encoded pairs is
    :func:`~fairgen_core.metrics.quality.correlation_difference`; this table shows where they sit.

    Parameters
    ----------
    encoder : TabularEncoder
        The fitted encoder of ``real`` and ``synthetic`` (maps encoded features back to columns).
    real, synthetic : numpy.ndarray
        Encoded rows, e.g. :attr:`QualitySamples.real_encoded` and :attr:`QualitySamples.synthetic_encoded`.

    Returns
    -------
    pandas.DataFrame
        Square table indexed and labelled by the encoder's columns, values in [0, 2]; NaN on the diagonal and
        for columns whose features are constant on either side.

    Examples
    --------
    >>> from fairgen_core.data.schema import infer_schema
    >>> df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 4.0, 6.0, 8.0]})
    >>> enc = TabularEncoder(infer_schema(df)).fit(df)
    >>> x = enc.transform(df)
    >>> round(float(correlation_gaps(enc, x, x * [1.0, -1.0]).loc["a", "b"]), 6)  # +1 became -1
    2.0
    """
    columns = list(encoder.columns)
    owner = np.array(encoder.feature_columns(), dtype=object)
    varying = (np.ptp(real, axis=0) > 0) & (np.ptp(synthetic, axis=0) > 0)
    out = np.full((len(columns), len(columns)), np.nan)
    if varying.sum() >= 2:
        gap = np.abs(np.corrcoef(real[:, varying], rowvar=False) - np.corrcoef(synthetic[:, varying], rowvar=False))
        position = {name: i for i, name in enumerate(columns)}
        index = np.array([position[name] for name in owner[varying]])
        rows, cols = np.triu_indices(len(index), k=1)
        np.fmax.at(out, (index[rows], index[cols]), gap[rows, cols])
        out = np.fmax(out, out.T)
        np.fill_diagonal(out, np.nan)
    return pd.DataFrame(out, index=columns, columns=columns)
