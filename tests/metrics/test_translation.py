"""Translation fidelity: known answers for an identity and a perfect translator, per domain and overall."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fairgen_core.errors import FairGenError
from fairgen_core.metrics.translation import PER_DOMAIN_COLUMNS, DomainProbe, translation_fidelity

NAMES = ("women, bad", "women, good", "men, bad", "men, good")


def _rows(seed: int, per_domain: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose first two features encode the group and the label (noisy): each domain is recognisable."""
    rng = np.random.default_rng(seed)
    domains = np.repeat(np.arange(4), per_domain)
    signal = np.column_stack([domains // 2, domains % 2]).astype(float)
    x = np.column_stack([signal + rng.normal(0, 0.35, signal.shape), rng.normal(0, 1, (len(domains), 3))])
    return x, domains


@pytest.fixture(scope="module")
def probe() -> DomainProbe:
    x, domains = _rows(0)
    return DomainProbe.fit(x, domains, n_domains=4)


def _counterfactual(domains: np.ndarray) -> np.ndarray:
    return (domains + 2) % 4  # the other group, the same label


def test_an_identity_translator_scores_the_source_rate(probe: DomainProbe) -> None:
    x, domains = _rows(1)
    target = _counterfactual(domains)
    result = translation_fidelity(probe, x, domains, target, x.copy(), domain_names=NAMES)
    assert 0.6 < result.real_rate < 0.95  # noisy features: the probe is good, not perfect
    assert result.source_rate == pytest.approx(result.real_rate)  # nothing moved: still recognised at the source
    assert result.target_rate < 0.15 and result.ratio < 0.2
    assert result.change_l1 == 0.0
    assert result.label_kept == pytest.approx(result.label_real)  # the label is untouched


def test_a_perfect_translator_scores_the_target_rate(probe: DomainProbe) -> None:
    x, domains = _rows(1)
    target = _counterfactual(domains)
    moved = x.copy()
    moved[:, 0] += np.where(domains // 2 == 0, 1.0, -1.0)  # exactly the group signal flipped, nothing else
    result = translation_fidelity(probe, x, domains, target, moved, domain_names=NAMES, reconstructed=x)
    assert result.target_rate == pytest.approx(result.real_rate, abs=0.03)
    assert result.ratio == pytest.approx(1.0, abs=0.05)
    assert result.ratio_low < result.ratio < result.ratio_high < result.ratio_low + 0.2  # a tight 95% interval
    assert f"95% interval {result.ratio_low:.2f}–{result.ratio_high:.2f}" in result.summary()
    assert result.source_rate < 0.15
    assert result.change_l1 == pytest.approx(1.0 / x.shape[1])  # one of five columns moved by 1
    assert result.reconstruction_l1 == 0.0


def test_per_domain_rates_and_d_cls(probe: DomainProbe) -> None:
    x, domains = _rows(2)
    target = _counterfactual(domains)
    perfect_dcls = target.copy()
    half_right = np.where(np.arange(len(domains)) % 2 == 0, domains, (domains + 1) % 4)
    result = translation_fidelity(probe, x, domains, target, x, domain_names=NAMES, dcls_translated=perfect_dcls,
                                  dcls_real=half_right)
    table = result.per_domain
    assert tuple(table.columns) == PER_DOMAIN_COLUMNS
    assert table["domain"].tolist() == list(NAMES) and table["rows"].tolist() == [200] * 4
    assert (table["dcls_target_rate"] == 1.0).all() and (table["dcls_real_rate"] == 0.5).all()
    assert result.dcls_target_rate == 1.0 and result.dcls_real_rate == 0.5
    # the overall real rate is the row-weighted mean of the per-domain ones (equal domains: the plain mean)
    assert result.real_rate == pytest.approx(table["real_rate"].mean())
    payload = result.to_dict()
    json.dumps(payload)  # plain JSON
    assert payload["target_rate"] == result.target_rate and len(payload["per_domain"]) == 4


def test_paper_pairs_only_count_label_keeping_rows_for_label_kept(probe: DomainProbe) -> None:
    x, domains = _rows(3)
    flipped_label = domains ^ 1 ^ 2  # other group and other label: no translation keeps its label
    result = translation_fidelity(probe, x, domains, flipped_label, x, domain_names=NAMES)
    assert np.isnan(result.label_kept)
    assert result.to_dict()["label_kept"] is None


def test_bad_inputs_name_the_problem(probe: DomainProbe) -> None:
    x, domains = _rows(4)
    with pytest.raises(FairGenError, match="same length"):
        translation_fidelity(probe, x, domains, domains[:-1], x, domain_names=NAMES)
    with pytest.raises(FairGenError, match="no held-out rows"):
        translation_fidelity(probe, x[:0], domains[:0], domains[:0], x[:0], domain_names=NAMES)
    with pytest.raises(FairGenError, match="two domains"):
        DomainProbe.fit(x[:10], np.zeros(10, dtype=int), n_domains=4)
