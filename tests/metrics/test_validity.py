"""Validity: the share of rows keeping every structural rule, on real Adult rows and on corrupted ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairgen_core.data.datasets import get_builtin
from fairgen_core.data.rules import RuleKind, Structure
from fairgen_core.data.spec import assign_domains
from fairgen_core.data.structure import detect_structure
from fairgen_core.metrics.validity import VALIDITY_MARGIN, validity


@pytest.fixture(scope="module")
def adult() -> tuple[pd.DataFrame, Structure]:
    dataset = get_builtin("adult")
    frame = dataset.load()
    return frame, detect_structure(frame, label=dataset.label, sensitive=[a.column for a in dataset.sensitive])


def valid_rows(frame: pd.DataFrame, structure: Structure) -> pd.DataFrame:
    """The rows that keep every rule (all but the few exceptions of near-exact implications)."""
    return frame[np.logical_and.reduce([rule.holds(frame) for rule in structure.row_rules])]


def test_real_rows_keep_every_rule_as_its_evidence_says(adult) -> None:
    frame, structure = adult
    near_exact = [rule for rule in structure.row_rules if not rule.exact]
    assert {rule.kind for rule in near_exact} == {RuleKind.IMPLICATION}  # 'Husband' ⇒ 'Male' has 1 exception, …
    report = validity(frame, structure)
    assert report.n_rows == len(frame) and report.good and report.share > 0.999
    assert report.per_rule["violations"].tolist() == [rule.n_violations for rule in structure.row_rules]
    assert report.n_rules == len(structure.row_rules) and not report.skipped


def test_corrupted_rows_lose_exactly_the_corrupted_share(adult) -> None:
    frame, structure = adult
    rows = valid_rows(frame, structure).sample(2_000, random_state=0).reset_index(drop=True)
    rows.loc[:49, "education-num"] = np.where(rows.loc[:49, "education"] == "Bachelors", 9, 13)  # 50 contradictions
    rows.loc[50:59, "age"] = -rows.loc[50:59, "age"]  # 10 negative ages: sign and range broken
    report = validity(rows, structure, reference=frame)
    assert report.share == pytest.approx(1 - 60 / 2_000)
    per_rule = report.per_rule.set_index("rule")
    assert per_rule.loc["derived:education|education-num", "violations"] == 50
    assert per_rule.loc["derived:education|education-num", "share"] == pytest.approx(1 - 50 / 2_000)
    assert per_rule.loc["sign:age", "violations"] == 10 and per_rule.loc["range:age", "violations"] == 10
    exact = per_rule["kind"] != "implication"
    assert (per_rule.loc[exact, "real_share"] == 1.0).all() and report.reference > 0.999
    assert report.share < report.reference - VALIDITY_MARGIN and not report.good
    verdict = report.verdict()
    assert verdict.startswith("Only 97.0% of the synthetic rows keep all")
    assert "'education-num' is a one-to-one recoding of 'education'" in verdict


def test_per_domain_shares(adult) -> None:
    frame, structure = adult
    spec = get_builtin("adult").default_spec()
    rows = valid_rows(frame, structure).head(1_000).astype({"hours-per-week": "float64"})
    domains = assign_domains(rows, spec)
    rows.loc[np.flatnonzero(domains.domain == 0)[:5], "hours-per-week"] = 0.5  # not whole, below the range
    names = [domains.domain_name(d) for d in range(spec.n_domains)]
    report = validity(rows, structure, domains=domains.domain, domain_names=names)
    per_domain = report.per_domain.set_index("domain")
    first = names[0]
    assert per_domain.loc[first, "share"] == pytest.approx(1 - 5 / per_domain.loc[first, "rows"])
    assert (per_domain.drop(index=first)["share"] == 1.0).all()
    assert per_domain["rows"].sum() == 1_000


def test_rules_on_columns_the_rows_lack_are_skipped_and_leaks_never_checked() -> None:
    label = np.tile([0, 1], 30)
    real = pd.DataFrame({"y": label, "y_N": 1 - label, "a": np.arange(60) % 7, "sex": np.repeat([0, 1], 30)})
    structure = detect_structure(real, label="y", sensitive=("sex",))
    assert structure.leaks  # y_N leaks y
    report = validity(real.drop(columns="y_N"), structure)
    assert "complement:y|y_N" in report.skipped
    assert set(report.per_rule["kind"]) == {"range", "sign", "integer"}


def test_no_rules_means_nothing_to_check() -> None:
    report = validity(pd.DataFrame({"a": ["x", "y"]}), Structure())
    assert report.share == 1.0 and report.good and report.n_rules == 0
    assert report.verdict().startswith("No structural rule was found")
    assert report.to_dict()["rules"] == []
