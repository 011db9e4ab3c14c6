"""Quality and privacy metrics: FID against closed forms and an independent formula, noise baselines,
per-domain reports on the German data, marginals, correlations, distances to the closest record."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from fairgen_core.data.datasets import get_builtin
from fairgen_core.data.encoding import TabularEncoder
from fairgen_core.data.spec import assign_domains, domain_table
from fairgen_core.errors import FairGenError
from fairgen_core.metrics import (
    PrivacyReport,
    closest_record_distances,
    correlation_difference,
    frechet_distance,
    marginal_comparison,
    noise_baseline,
    quality_report,
)
from fairgen_core.metrics import quality as quality_module


def _oracle_fid(a: np.ndarray, b: np.ndarray) -> float:
    """FID through the symmetric form Tr sqrt(C1^½ C2 C1^½) with eigendecompositions (no sqrtm)."""
    diff = a.mean(axis=0) - b.mean(axis=0)
    c1, c2 = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    w, v = np.linalg.eigh(c1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    eig = np.linalg.eigvalsh(root1 @ c2 @ root1)
    return float(diff @ diff + np.trace(c1) + np.trace(c2) - 2 * np.sqrt(np.clip(eig, 0, None)).sum())


def _exact_sample(rng: np.random.Generator, n: int, mean: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """Rows whose sample mean and sample covariance (ddof=1) are exactly ``mean`` and ``diag(variances)``."""
    z = rng.normal(size=(n, len(mean)))
    z -= z.mean(axis=0)
    chol = np.linalg.cholesky(np.cov(z, rowvar=False))
    white = np.linalg.solve(chol, z.T).T  # sample covariance exactly I
    return white * np.sqrt(variances) + mean


def _diagonal_closed_form(mu1: np.ndarray, a: np.ndarray, mu2: np.ndarray, b: np.ndarray) -> float:
    return float(np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2))


def _one_hot(rng: np.random.Generator, n: int, k: int, p: list[float] | None = None) -> np.ndarray:
    return np.eye(k)[rng.choice(k, size=n, p=p)]


# -- Fréchet distance ------------------------------------------------------------------------------
def test_identical_matrices_have_zero_distance() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(x, x[::-1]) == pytest.approx(0.0, abs=1e-8)  # row order does not matter


def test_matches_closed_form_on_exact_sample_statistics() -> None:
    rng = np.random.default_rng(1)
    mu1, a = np.array([0.0, 1.0, -2.0]), np.array([1.0, 4.0, 0.25])
    mu2, b = np.array([0.5, 1.0, 0.0]), np.array([2.0, 1.0, 1.0])
    x, y = _exact_sample(rng, 50, mu1, a), _exact_sample(rng, 80, mu2, b)
    expected = _diagonal_closed_form(mu1, a, mu2, b)
    assert expected == pytest.approx(4.25 + (1 - np.sqrt(2)) ** 2 + 1 + 0.25)
    assert frechet_distance(x, y) == pytest.approx(expected, rel=1e-9)


def test_matches_closed_form_on_large_gaussian_samples() -> None:
    rng = np.random.default_rng(2)
    mu1, a = np.array([0.0, 0.0, 1.0]), np.array([1.0, 4.0, 0.25])
    mu2, b = np.array([1.0, 0.0, 1.0]), np.array([0.25, 1.0, 1.0])
    x = rng.normal(mu1, np.sqrt(a), size=(100_000, 3))
    y = rng.normal(mu2, np.sqrt(b), size=(100_000, 3))
    assert frechet_distance(x, y) == pytest.approx(_diagonal_closed_form(mu1, a, mu2, b), abs=0.03)


def test_matches_eigenvalue_formula_for_correlated_data() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6))
    y = rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6)) + 0.3
    assert frechet_distance(x, y) == pytest.approx(_oracle_fid(x, y), rel=1e-8)


def test_is_symmetric() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(200, 4)) @ rng.normal(size=(4, 4))
    y = rng.normal(size=(250, 4)) * [1.0, 2.0, 0.5, 3.0]
    assert frechet_distance(x, y) == pytest.approx(frechet_distance(y, x), rel=1e-9)
    assert frechet_distance(x, y) > 1.0


def test_mean_shift_adds_squared_norm() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, 4))
    y = rng.normal(size=(200, 4)) @ np.diag([1.0, 2.0, 1.0, 0.5])
    shift = np.array([1.0, -2.0, 0.5, 0.0])
    assert frechet_distance(x, x + shift) == pytest.approx(shift @ shift, rel=1e-9)
    assert frechet_distance(x, y + shift) - frechet_distance(x, y) == pytest.approx(
        shift @ shift + 2 * shift @ (y.mean(axis=0) - x.mean(axis=0)), rel=1e-9
    )


def test_singular_covariances_give_finite_non_negative_distance() -> None:
    rng = np.random.default_rng(6)
    # one-hot blocks (rows sum to 1, so the covariance is singular) plus a constant column
    x = np.hstack([_one_hot(rng, 200, 4), np.ones((200, 1)), rng.normal(size=(200, 2))])
    y = np.hstack([_one_hot(rng, 300, 4, [0.1, 0.2, 0.3, 0.4]), np.ones((300, 1)), rng.normal(size=(300, 2))])
    value = frechet_distance(x, y)
    assert np.isfinite(value)
    assert value >= 0
    assert value == pytest.approx(_oracle_fid(x, y), abs=1e-6)
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    # fewer rows than columns: rank-deficient covariances on both sides
    few_a, few_b = _one_hot(rng, 3, 10), _one_hot(rng, 4, 10)
    assert frechet_distance(few_a, few_b) == pytest.approx(_oracle_fid(few_a, few_b), abs=1e-5)


def test_failed_square_root_is_retried_with_a_diagonal_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(100, 3)), rng.normal(size=(100, 3)) * 2
    calls: list[np.ndarray] = []
    real_sqrtm = quality_module._quiet_sqrtm

    def failing_first(matrix: np.ndarray) -> np.ndarray:
        calls.append(matrix)
        return np.full_like(matrix, np.nan) if len(calls) == 1 else real_sqrtm(matrix)

    monkeypatch.setattr(quality_module, "_quiet_sqrtm", failing_first)
    value = frechet_distance(x, y)
    assert len(calls) == 2
    c1, c2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    offset = quality_module.SQRTM_OFFSET * np.eye(3)
    np.testing.assert_allclose(calls[1], (c1 + offset) @ (c2 + offset))
    assert value == pytest.approx(_oracle_fid(x, y), rel=1e-4)


# -- noise baseline --------------------------------------------------------------------------------
def test_noise_baseline_is_d_sigma_squared_for_nearly_constant_columns() -> None:
    x = np.random.default_rng(8).normal(size=(20_000, 6)) * 1e-4
    for sigma in (0.12, 0.25):
        assert noise_baseline(x, sigma, seed=0) == pytest.approx(6 * sigma**2, rel=0.05)


def test_noise_baseline_for_unit_variance_columns_matches_the_per_direction_formula() -> None:
    # per direction with variance v: 2v + σ² - 2 sqrt(v (v + σ²)); for v = 1, σ = 1: 3 - 2√2
    x = _exact_sample(np.random.default_rng(9), 50_000, np.zeros(4), np.ones(4))
    assert noise_baseline(x, 1.0, seed=1) == pytest.approx(4 * (3 - 2 * np.sqrt(2)), rel=0.1)


def test_noise_baseline_grows_with_sigma_and_is_reproducible() -> None:
    x = _german_features().matrix
    values = [noise_baseline(x, sigma, seed=0) for sigma in (0.0, 0.05, 0.12, 0.25, 0.5)]
    assert values[0] == 0.0
    assert all(lo < hi for lo, hi in itertools.pairwise(values))
    assert noise_baseline(x, 0.25, seed=0) == values[3]
    assert noise_baseline(x, 0.25, seed=1) != values[3]


# -- quality report on the German data -------------------------------------------------------------
@dataclass(frozen=True)
class _German:
    frame: pd.DataFrame
    matrix: np.ndarray
    domains: np.ndarray
    names: tuple[str, ...]


_CACHE: dict[str, _German] = {}


def _german_features() -> _German:
    if "german" not in _CACHE:
        dataset = get_builtin("german")
        frame = dataset.load()
        spec = dataset.default_spec()
        schema = dataset.schema(frame)
        columns = [c for c in schema.feature_names() if c not in (spec.label, *spec.sensitive_columns)]
        matrix = TabularEncoder(schema, columns=columns).fit(frame).transform(frame)
        assignment = assign_domains(frame, spec)
        names = tuple(assignment.domain_name(d) for d in range(spec.n_domains))
        _CACHE["german"] = _German(frame, matrix, assignment.domain, names)
    return _CACHE["german"]


@pytest.fixture(scope="module")
def german() -> _German:
    return _german_features()


@pytest.fixture(scope="module")
def halves(german: _German) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(0).permutation(len(german.frame))
    return order[:500], order[500:]


def _report(german: _German, real: np.ndarray, synthetic_rows: np.ndarray, synthetic_domains: np.ndarray,
            **kwargs: object) -> quality_module.QualityReport:
    return quality_report(
        german.matrix[real], synthetic_rows, real_domains=german.domains[real], synthetic_domains=synthetic_domains,
        domain_names=german.names, sigma=0.25, seed=0, **kwargs,  # type: ignore[arg-type]
    )


def test_half_of_the_real_data_beats_the_noise_baseline(german: _German, halves: tuple) -> None:
    a, b = halves
    report = _report(german, a, german.matrix[b], german.domains[b])
    assert report.fid < report.noise_baseline
    assert report.beats_baseline
    assert report.fid == pytest.approx(frechet_distance(german.matrix[a], german.matrix[b]))
    assert report.noise_baseline == noise_baseline(german.matrix[a], 0.25, seed=0)
    assert report.verdict().startswith("Synthetic data is closer to the real data than real data with N(0, 0.25²)")


def test_per_domain_table_counts_rows_like_domain_table(german: _German, halves: tuple) -> None:
    a, b = halves
    spec = get_builtin("german").default_spec()
    report = _report(german, a, german.matrix[b], german.domains[b])
    table = report.per_domain
    assert list(table.columns[:6]) == ["domain", "n_real", "n_synthetic", "fid", "noise_baseline", "beats_baseline"]
    assert table["domain"].tolist() == list(german.names)
    for part, column in ((a, "n_real"), (b, "n_synthetic")):
        counts = domain_table(german.frame.iloc[part], spec)[["n_unfavourable", "n_favourable"]].to_numpy()
        assert table[column].tolist() == counts.ravel().tolist()
    assert table["fid"].notna().all()
    assert (table["beats_baseline"] == (table["fid"] < table["noise_baseline"])).all()
    # the largest domain is close to its own baseline's scale and beats it
    largest = table.loc[table["n_real"].idxmax()]
    assert largest["beats_baseline"]


def test_distorted_synthetic_data_fails_and_the_weakest_domain_is_named(german: _German, halves: tuple) -> None:
    a, b = halves
    synthetic = german.matrix[b].astype(np.float64).copy()
    target = int(np.argmax(np.bincount(german.domains[b])))  # the largest domain
    rows = german.domains[b] == target
    synthetic[rows] += np.random.default_rng(1).normal(0.0, 0.6, size=synthetic[rows].shape)
    report = _report(german, a, synthetic, german.domains[b])
    weakest = report.weakest_domain()
    assert weakest is not None
    assert weakest["domain"] == german.names[target]
    assert not report.per_domain.loc[target, "beats_baseline"]
    assert f"the weakest is '{german.names[target]}'" in report.verdict()

    shifted = _report(german, a, german.matrix[b] + 0.3, german.domains[b])
    assert not shifted.beats_baseline
    assert shifted.verdict().startswith("Synthetic data is further from the real data")


def test_small_domains_get_nan_and_a_note(german: _German, halves: tuple) -> None:
    a, b = halves
    report = _report(german, a, german.matrix[b], german.domains[b], min_rows=100)
    table = report.per_domain
    small = (table["n_real"] < 100) | (table["n_synthetic"] < 100)
    assert small.any()
    assert not small.all()
    assert table.loc[small, "fid"].isna().all()
    assert table.loc[small, "noise_baseline"].isna().all()
    assert table.loc[small, "beats_baseline"].isna().all()
    assert table.loc[~small, "fid"].notna().all()
    assert len(report.notes) == int(small.sum())
    assert all(name in note for name, note in zip(table.loc[small, "domain"], report.notes))
    assert f"{int(small.sum())} domain(s) had fewer than 100" in report.verdict()


def test_domain_indices_must_match_the_rows(german: _German, halves: tuple) -> None:
    a, b = halves
    with pytest.raises(FairGenError, match="one domain index per row"):
        _report(german, a, german.matrix[b], german.domains[b][:-1])
    with pytest.raises(FairGenError, match="from -1 .no domain. to 3"):
        _report(german, a, german.matrix[b], np.full(len(b), 4))


# -- marginals and correlations --------------------------------------------------------------------
def test_marginals_ks_and_total_variation() -> None:
    rng = np.random.default_rng(10)
    values = rng.normal(size=500)
    real = pd.DataFrame({"x": values, "y": values, "c": rng.choice(["a", "b", "c"], 500),
                         "d": ["p", "q"] * 250, "m": ["u", None] * 250})
    synthetic = pd.DataFrame({"x": values[::-1], "y": values + 5.0, "c": real["c"].sample(frac=1, random_state=0),
                              "d": ["r", "s"] * 250, "m": ["u"] * 500})
    table = marginal_comparison(real, synthetic, ["x", "y"], ["c", "d", "m"]).set_index("column")
    assert table["kind"].tolist() == ["numeric", "numeric", "categorical", "categorical", "categorical"]
    assert table["statistic"].tolist() == ["ks", "ks", "tv", "tv", "tv"]
    assert table.loc["x", "value"] == 0.0
    assert table.loc["y", "value"] > 0.95
    assert table.loc["c", "value"] == pytest.approx(0.0, abs=1e-12)
    assert table.loc["d", "value"] == pytest.approx(1.0)
    assert table.loc["m", "value"] == pytest.approx(0.5)  # a missing value is a category of its own


def test_marginals_need_the_columns() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(FairGenError, match="'age'.*missing from the synthetic table"):
        marginal_comparison(frame.assign(age=1), frame, ["x", "age"], [])


def test_correlation_difference() -> None:
    rng = np.random.default_rng(11)
    z = rng.normal(size=(5000, 2))
    correlated = np.column_stack([z[:, 0], 0.8 * z[:, 0] + 0.6 * z[:, 1], np.ones(5000)])  # last constant
    independent = np.column_stack([rng.normal(size=(5000, 2)), np.ones(5000)])
    assert correlation_difference(correlated, correlated) == 0.0
    assert correlation_difference(correlated, independent) == pytest.approx(0.8, abs=0.05)
    # a column constant on one side only is left out as well
    half_constant = independent.copy()
    half_constant[:, 1] = 2.0
    assert np.isnan(correlation_difference(correlated, half_constant))


# -- privacy ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def population() -> np.ndarray:
    rng = np.random.default_rng(12)
    return np.hstack([rng.normal(size=(3000, 4)) * 0.3, _one_hot(rng, 3000, 3)])


def test_copied_training_rows_are_flagged(population: np.ndarray) -> None:
    train, holdout = population[:2000], population[2000:2500]
    report = closest_record_distances(train[:500], train, holdout)
    assert report.exact_copy_share == 1.0
    assert report.holdout_exact_copy_share == 0.0
    assert report.synthetic_median == 0.0
    assert report.memorisation_suspected
    assert report.verdict().startswith("Warning: 100.0% of synthetic rows are exact copies of training rows")


def test_near_copies_are_flagged_as_too_close(population: np.ndarray) -> None:
    train, holdout = population[:2000], population[2000:2500]
    near = train[:500] + np.random.default_rng(13).normal(0.0, 0.01, size=(500, train.shape[1]))
    report = closest_record_distances(near, train, holdout)
    assert report.exact_copy_share == 0.0
    assert report.closer_than_holdout
    assert report.verdict().startswith("Warning: synthetic rows are closer to the training rows")


def test_fresh_rows_show_no_sign_of_memorisation(population: np.ndarray) -> None:
    train, holdout, fresh = population[:2000], population[2000:2500], population[2500:3000]
    report = closest_record_distances(fresh, train, holdout)
    assert report.exact_copy_share == 0.0
    assert report.synthetic_median == pytest.approx(report.holdout_median, rel=0.15)
    assert report.synthetic_p05 == pytest.approx(report.holdout_p05, rel=0.3)
    assert not report.memorisation_suspected
    assert report.verdict().startswith("No sign of memorisation")
    assert (report.n_synthetic, report.n_holdout, report.n_train) == (500, 500, 2000)


def test_privacy_subsamples_reproducibly(population: np.ndarray) -> None:
    train, holdout, fresh = population[:2000], population[2000:2500], population[2500:3000]
    first = closest_record_distances(fresh, train, holdout, max_rows=100, seed=3)
    assert (first.n_synthetic, first.n_holdout, first.n_train) == (100, 100, 2000)
    assert closest_record_distances(fresh, train, holdout, max_rows=100, seed=3) == first
    assert closest_record_distances(fresh, train, holdout, max_rows=100, seed=4) != first


def test_duplicates_in_real_data_do_not_count_as_memorisation() -> None:
    # categorical-only data: many unseen real rows coincide with training rows, and so do good synthetic rows
    rng = np.random.default_rng(14)
    rows = np.hstack([_one_hot(rng, 2500, 3), _one_hot(rng, 2500, 2)])
    report = closest_record_distances(rows[2000:2250], rows[:2000], rows[2250:])
    assert report.holdout_exact_copy_share == 1.0
    assert report.exact_copy_share == 1.0
    assert not report.memorisation_suspected
    assert isinstance(report, PrivacyReport)


# -- bad input -------------------------------------------------------------------------------------
def test_bad_input_raises_clear_errors() -> None:
    x = np.zeros((5, 3))
    with pytest.raises(FairGenError, match="column mismatch: the real matrix has 3 columns but the synthetic"):
        frechet_distance(x, np.zeros((5, 4)))
    with pytest.raises(FairGenError, match="synthetic matrix has 1 row.*at least two rows"):
        frechet_distance(x, np.zeros((1, 3)))
    with pytest.raises(FairGenError, match="2-D matrix"):
        frechet_distance(np.zeros(5), x)
    with pytest.raises(FairGenError, match="missing or infinite"):
        frechet_distance(x, np.full((5, 3), np.nan))
    with pytest.raises(FairGenError, match="sigma"):
        noise_baseline(x, -0.1, seed=0)
    with pytest.raises(FairGenError, match="seed"):
        noise_baseline(x, 0.1, seed=-1)
    with pytest.raises(FairGenError, match="column mismatch"):
        correlation_difference(x, np.zeros((5, 2)))
    with pytest.raises(FairGenError, match="column mismatch: the training matrix has 3 columns but the holdout"):
        closest_record_distances(x, x, np.zeros((5, 2)))
    with pytest.raises(FairGenError, match="sigma"):
        quality_report(x, x, real_domains=np.zeros(5, int), synthetic_domains=np.zeros(5, int),
                       domain_names=["a"], sigma=0.0, seed=0)
