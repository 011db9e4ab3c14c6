"""Standard synthetic-data measures: shapes and trends against independent computations (scipy's KS, pandas'
crosstab), detection of real against real and against column-shuffled rows, TSTR on real rows as "synthetic", per
domain values on a constructed case, verdict thresholds."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fairgen_core.metrics import (
    FidelityInputs,
    column_pair_trends,
    column_shapes,
    detection_score,
    detection_with_interval,
    fidelity_report,
    ml_efficacy,
)
from fairgen_core.metrics.fidelity import (
    FAIRNESS_GAPS,
    MEASURES,
    NUMERIC_BINS,
    VERDICT_THRESHOLDS,
    Efficacy,
    FidelityReport,
    _auc_standard_error,
    judge,
)

NUMERIC = ["age", "income"]
CATEGORICAL = ["job", "city"]


def _table(rng: np.random.Generator, n: int, *, shift: float = 0.0) -> pd.DataFrame:
    age = rng.normal(40 + shift, 10, n)
    frame = pd.DataFrame({
        "age": age, "income": 1000 * age + rng.gamma(2.0, 5000.0, n),
        "job": rng.choice(["clerk", "nurse", "driver"], n, p=[0.5, 0.3, 0.2]),
        "city": np.where(age > 40 + shift, "north", rng.choice(["south", "east"], n)),
    })
    frame.loc[rng.choice(n, n // 20, replace=False), "job"] = None  # missing values: a category of their own
    return frame


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return _table(np.random.default_rng(0), 600)


@pytest.fixture(scope="module")
def synthetic() -> pd.DataFrame:
    return _table(np.random.default_rng(1), 500, shift=3.0)


def _tvd(real: pd.DataFrame, synthetic: pd.DataFrame, a: str, b: str) -> float:
    """Total variation distance of the joint frequencies of ``a`` and ``b``, by pandas' crosstab (missing values as a
    category)."""
    def frequencies(frame: pd.DataFrame) -> pd.Series:
        first, second = (frame[c].astype(object).fillna("<missing>") for c in (a, b))
        return pd.crosstab(first, second, normalize=True).stack()
    p, q = frequencies(real), frequencies(synthetic)
    joint = p.index.union(q.index)
    return 0.5 * float(np.abs(p.reindex(joint, fill_value=0) - q.reindex(joint, fill_value=0)).sum())


def _deciles(real: pd.Series, values: pd.Series) -> pd.Series:
    edges = np.unique(np.quantile(real.dropna(), np.linspace(0, 1, NUMERIC_BINS + 1)[1:-1]))
    return pd.Series(np.searchsorted(edges, values.to_numpy(), side="right"), index=values.index)


def test_shapes_equal_one_minus_scipy_ks_and_one_minus_tvd(real: pd.DataFrame, synthetic: pd.DataFrame) -> None:
    shapes = column_shapes(real, synthetic, NUMERIC, CATEGORICAL).set_index("column")["score"]
    for column in NUMERIC:
        assert shapes[column] == pytest.approx(1 - stats.ks_2samp(real[column], synthetic[column]).statistic)
    for column in CATEGORICAL:
        p = real[column].fillna("<missing>").value_counts(normalize=True)
        q = synthetic[column].fillna("<missing>").value_counts(normalize=True)
        tvd = 0.5 * (p.reindex(p.index.union(q.index), fill_value=0)
                     - q.reindex(p.index.union(q.index), fill_value=0)).abs().sum()
        assert shapes[column] == pytest.approx(1 - tvd)
    assert shapes["age"] < 0.95  # the shift shows


def test_trends_equal_pearson_and_crosstab(real: pd.DataFrame, synthetic: pd.DataFrame) -> None:
    trends = column_pair_trends(real, synthetic, NUMERIC, CATEGORICAL)
    columns = [*NUMERIC, *CATEGORICAL]
    assert [(r.column_a, r.column_b) for r in trends.itertuples()] == list(itertools.combinations(columns, 2))
    for row in trends.itertuples():
        a, b = row.column_a, row.column_b
        if a in NUMERIC and b in NUMERIC:
            rho = [stats.pearsonr(frame[a], frame[b]).statistic for frame in (real, synthetic)]
            assert row.kind == "correlation" and row.score == pytest.approx(1 - abs(rho[0] - rho[1]) / 2)
            continue
        binned = [frame.assign(**{c: _deciles(real[c], frame[c]) for c in (a, b) if c in NUMERIC})
                  for frame in (real, synthetic)]
        assert row.kind == "contingency"
        assert row.score == pytest.approx(1 - _tvd(*binned, a, b))


def test_identical_tables_score_one_and_pairs_are_capped(real: pd.DataFrame) -> None:
    assert (column_shapes(real, real, NUMERIC, CATEGORICAL)["score"] == 1).all()
    assert column_pair_trends(real, real, NUMERIC, CATEGORICAL)["score"].to_numpy() == pytest.approx(1)
    capped = column_pair_trends(real, real, NUMERIC, CATEGORICAL, max_pairs=2, seed=3)
    assert len(capped) == 2
    assert capped.equals(column_pair_trends(real, real, NUMERIC, CATEGORICAL, max_pairs=2, seed=3))


def _correlated(rng: np.random.Generator, n: int) -> np.ndarray:
    base = rng.normal(size=(n, 1))
    return np.hstack([base + 0.3 * rng.normal(size=(n, 1)) for _ in range(6)])


def test_detection_of_real_against_real_is_near_one() -> None:
    rng = np.random.default_rng(0)
    assert detection_score(_correlated(rng, 1500), _correlated(rng, 1500)) > 0.85


def test_detection_of_column_shuffled_rows_is_low() -> None:
    rng = np.random.default_rng(0)
    real, other = _correlated(rng, 1500), _correlated(rng, 1500)
    shuffled = np.column_stack([rng.permutation(column) for column in other.T])  # same marginals, no correlations
    assert detection_score(real, shuffled) < 0.2


def test_the_auc_standard_error_is_hanley_and_mcneils() -> None:
    # their worked example (Radiology 143:29-36, 1982): 58 abnormal and 51 normal images, AUC 0.893, SE 0.032
    assert _auc_standard_error(0.893, 58, 51) == pytest.approx(0.0312, abs=5e-4)


def test_detection_intervals_hold_the_score_and_narrow_with_rows() -> None:
    rng = np.random.default_rng(0)
    widths = []
    for n in (20, 200, 1500):
        score, low, high = detection_with_interval(_correlated(rng, n), _correlated(rng, n))
        assert low <= score <= high <= 1.0
        widths.append(high - low)
    assert widths[0] > 0.2 > widths[-1] and widths == sorted(widths, reverse=True)  # few rows: wide, many: narrow
    real = _correlated(rng, 1500)
    score, low, high = detection_with_interval(real, np.column_stack([rng.permutation(c) for c in real.T]))
    assert low <= score <= high < 0.25  # told apart, and the interval says so


def test_tstr_on_real_rows_equals_trtr() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(900, 4))
    groups = rng.integers(0, 2, 900)
    y = ((x[:, 0] + 0.5 * groups + rng.normal(scale=0.5, size=900)) > 0).astype(np.int64)
    result = ml_efficacy(x[:600], y[:600], x[:600], y[:600], x[600:], y[600:], groups[600:], ["a", "b"])
    assert result.tstr == result.trtr and result.gap == 0 and 0.7 < result.trtr < 1
    assert dict(result.tstr_fairness) == dict(result.trtr_fairness) and result.fairness_gain == 0
    np.testing.assert_array_equal(result.tstr_predictions, result.trtr_predictions)


def _inputs(real: pd.DataFrame, synthetic: pd.DataFrame, real_domains: np.ndarray, synthetic_domains: np.ndarray,
            train: pd.DataFrame, train_domains: np.ndarray) -> FidelityInputs:
    def encoded(frame: pd.DataFrame) -> np.ndarray:
        return frame[["x", "z"]].to_numpy(dtype=float)
    return FidelityInputs(real, synthetic, encoded(real), encoded(synthetic), real_domains, synthetic_domains,
                          encoded(train), train_domains, ("x", "z"), (), ("g0 · n", "g0 · y", "g1 · n", "g1 · y"),
                          ("g0", "g1"))


def test_per_domain_values_on_a_constructed_case() -> None:
    """Synthetic rows equal to the real ones except in domain 3, whose x is shifted by far more than its spread."""
    rng = np.random.default_rng(0)
    domains = np.repeat([0, 1, 2, 3], 150)
    labels = domains % 2
    real = pd.DataFrame({"x": rng.normal(size=600) + 2 * labels, "z": rng.normal(size=600)})
    train = pd.DataFrame({"x": rng.normal(size=600) + 2 * labels, "z": rng.normal(size=600)})
    synthetic = real.copy()
    synthetic.loc[domains == 3, "x"] += 20.0
    report = fidelity_report(_inputs(real, synthetic, domains, domains, train, domains))
    table = report.per_domain.set_index("domain")
    assert table.loc[["g0 · n", "g0 · y", "g1 · n"], "shape"].tolist() == [1.0, 1.0, 1.0]
    assert table.loc[["g0 · n", "g0 · y", "g1 · n"], "trend"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert (table.loc[["g0 · n", "g0 · y", "g1 · n"], "detection"] > 0.7).all()
    assert table.loc["g1 · y", "shape"] == pytest.approx(0.5)  # x: KS 1 (no overlap), z: KS 0
    assert table.loc["g1 · y", "detection"] < 0.05
    assert report.weakest_domain() == "g1 · y"
    assert report.worst_columns(1)["column"].tolist() == ["x"]
    # accuracy within a domain: the share of its test rows predicted with its own label
    tstr = report.efficacy.tstr_predictions
    assert table.loc["g0 · n", "tstr_accuracy"] == pytest.approx(np.mean(tstr[domains == 0] == 0))
    # with the domain's row counts and a Wilson interval over its 150 test rows (statsmodels' formula by hand)
    assert table[["n_real", "n_synthetic"]].to_numpy().tolist() == [[150, 150]] * 4
    for model in ("tstr", "trtr"):
        for domain in table.index:
            p, n, z = table.loc[domain, f"{model}_accuracy"], 150, 1.959963984540054
            centre, half = (p + z * z / (2 * n)) / (1 + z * z / n), z / (1 + z * z / n) * np.sqrt(
                p * (1 - p) / n + z * z / (4 * n * n))
            assert table.loc[domain, f"{model}_accuracy_low"] == pytest.approx(centre - half, abs=1e-9)
            assert table.loc[domain, f"{model}_accuracy_high"] == pytest.approx(centre + half, abs=1e-9)
            assert table.loc[domain, f"{model}_accuracy_high"] - table.loc[domain, f"{model}_accuracy_low"] < 0.17
    assert table.loc["g1 · y", "dcr_synthetic_median"] > 10 > table.loc["g1 · y", "dcr_holdout_median"]
    assert table.loc["g0 · n", "dcr_synthetic_median"] == table.loc["g0 · n", "dcr_holdout_median"]


def test_a_small_domain_gets_nan_and_the_report_serialises() -> None:
    rng = np.random.default_rng(1)
    domains = np.r_[np.repeat([0, 1, 2], 100), np.full(5, 3)]
    labels = domains % 2
    real = pd.DataFrame({"x": rng.normal(size=len(domains)) + labels, "z": rng.normal(size=len(domains))})
    report = fidelity_report(_inputs(real, real, domains, domains, real, domains))
    assert report.per_domain.iloc[3, 3:].isna().all()
    assert report.per_domain[["n_real", "n_synthetic"]].iloc[3].tolist() == [5, 5]  # counted, not scored
    document = report.to_dict()
    assert set(MEASURES) <= set(document) and document["verdicts"]["shapes"] == "good"
    assert document["tstr"]["gap"] == 0 and set(document["tstr_fairness"]["tstr"]) == set(FAIRNESS_GAPS)


@pytest.mark.parametrize("measure", MEASURES)
def test_verdicts_follow_the_thresholds(measure: str) -> None:
    good, fair = VERDICT_THRESHOLDS[measure]
    assert good > fair
    assert [judge(measure, v) for v in (good, (good + fair) / 2, fair, fair - 1e-9)] == ["good", "fair", "fair",
                                                                                        "poor"]


def test_a_poor_measure_is_named() -> None:
    efficacy = Efficacy(0.6, 0.8, {m: 0.1 for m in FAIRNESS_GAPS}, {m: 0.1 for m in FAIRNESS_GAPS}, np.zeros(1),
                        np.zeros(1))
    columns = pd.DataFrame({"column": ["a"], "kind": ["numeric"], "score": [0.99]})
    domains = pd.DataFrame({"domain": ["d"], "shape": [0.99], "trend": [0.99], "detection": [0.9]})
    report = FidelityReport(0.99, 0.99, 0.9, efficacy, columns, columns, domains)
    assert report.poor() == ("tstr",)
    assert report.verdicts()["tstr_fairness"] == "good"


def test_the_report_pickles_for_the_dashboard_cache() -> None:
    rng = np.random.default_rng(2)
    domains = np.repeat([0, 1, 2, 3], 40)
    real = pd.DataFrame({"x": rng.normal(size=160) + domains % 2, "z": rng.normal(size=160)})
    report = fidelity_report(_inputs(real, real, domains, domains, real, domains))
    back = pickle.loads(pickle.dumps(report))
    assert back.to_dict() == report.to_dict()
