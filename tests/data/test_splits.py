"""Stratified, seeded train/validation/test splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute, assign_domains
from fairgen_core.data.splits import default_split, split_by_domain
from fairgen_core.errors import SpecError

DOMAINS = np.repeat([0, 1, 2, 3, -1], [500, 120, 60, 20, 7])


def test_parts_are_disjoint_cover_valid_rows_and_keep_domain_shares() -> None:
    split = split_by_domain(DOMAINS, seed=3)
    parts = np.concatenate([split.train, split.val, split.test])
    assert len(np.unique(parts)) == len(parts) == 700
    assert set(parts) == set(np.flatnonzero(DOMAINS >= 0))
    for domain, n in zip(range(4), (500, 120, 60, 20)):
        counts = [int((DOMAINS[p] == domain).sum()) for p in (split.train, split.val, split.test)]
        assert counts == [round(n * 0.7), round(n * 0.15), n - round(n * 0.7) - round(n * 0.15)]


def test_same_seed_same_split_other_seed_other_split() -> None:
    a, b, c = (split_by_domain(DOMAINS, seed=s) for s in (11, 11, 12))
    np.testing.assert_array_equal(a.train, b.train)
    np.testing.assert_array_equal(a.test, b.test)
    assert not np.array_equal(a.train, c.train)


def test_repetitions_use_consecutive_seeds_and_differ() -> None:
    frame = pd.DataFrame({"y": np.arange(700) % 2, "sex": np.repeat(["F", "M"], [200, 500])})
    spec = DatasetSpec("y", (1,), (SensitiveAttribute("sex", ("M",)),))
    splits = [default_split(frame, spec, seed=100, repetition=i) for i in range(5)]
    assert [(s.seed, s.repetition) for s in splits] == [(100 + i, i) for i in range(5)]
    assert len({tuple(s.test) for s in splits}) == 5
    np.testing.assert_array_equal(splits[2].val, split_by_domain(assign_domains(frame, spec).domain, seed=102).val)


@pytest.mark.parametrize("fractions", [(0.5, 0.5, 0.5), (1.0, 0.0, 0.0), (0.7, 0.3)])
def test_bad_fractions_raise(fractions) -> None:
    with pytest.raises(SpecError, match="split fractions"):
        split_by_domain(DOMAINS, seed=0, fractions=fractions)
