"""Structure found in a table: each rule kind on a small constructed table, with its evidence; Adult; speed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fairgen_core.data.datasets import get_builtin
from fairgen_core.data.rules import Rule, RuleKind, Structure
from fairgen_core.data.schema import ColumnKind, infer_schema
from fairgen_core.data.structure import StructureOptions, detect_structure, exclude_leaks
from fairgen_core.errors import FairGenError

N = 200


def _rules(structure: Structure, kind: RuleKind) -> dict[tuple[str, ...], Rule]:
    return {rule.columns: rule for rule in structure.of_kind(kind)}


@pytest.fixture
def table() -> pd.DataFrame:
    """One column (or set of columns) per rule kind, every rule exact."""
    rng = np.random.default_rng(0)
    hair = rng.integers(0, 4, N)
    frisked = rng.integers(0, 2, N)
    race, sex = rng.choice(["B", "W", "H"], N), rng.choice(["M", "F"], N)
    grade = rng.choice(["low", "mid", "high"], N)
    car = rng.choice(["a", "b", "c"], N)
    return pd.DataFrame({
        "ID": rng.permutation(N) + 10_000,
        "ticket": [f"T{i:05d}" for i in range(N)],
        **{f"hair_{k}": (hair == k).astype(int) for k in range(4)},
        **{f"car={k}": (car == k).astype(int) for k in ("a", "b")},  # at most one: 'c' has neither
        "frisked_N": 1 - frisked, "frisked_Y": frisked,
        "race": race, "sex": sex, "race-sex": [f"{r}-{s}" for r, s in zip(race, sex)],
        "grade": grade, "grade_code": pd.Series(grade).map({"low": 1, "mid": 2, "high": 3}),
        "bill": rng.normal(0, 100, N).round(2), "months": rng.integers(0, 40, N), "loss": -rng.random(N),
        "label": rng.integers(0, 2, N),
    })


def test_every_rule_kind_is_found_with_its_evidence(table: pd.DataFrame) -> None:
    structure = detect_structure(table, label="label", sensitive=("race",))
    assert structure.n_rows == N
    one_hot = _rules(structure, RuleKind.ONE_HOT)
    assert one_hot[("hair_0", "hair_1", "hair_2", "hair_3")].variant == "exactly_one"
    car = one_hot[("car=a", "car=b")]
    assert car.variant == "at_most_one" and car.exact and car.n_rows == N
    assert list(_rules(structure, RuleKind.COMPLEMENT)) == [("frisked_N", "frisked_Y")]
    derived = _rules(structure, RuleKind.DERIVED)[("grade", "grade_code")]
    assert derived.variant == "one_to_one" and dict(derived.mapping) == {"high": 3, "low": 1, "mid": 2}
    concatenation = _rules(structure, RuleKind.CONCATENATION)[("race-sex", "race", "sex")]
    assert concatenation.separator == "-" and concatenation.share == 1.0
    assert _rules(structure, RuleKind.SIGN)[("months",)].variant == "non_negative"
    assert _rules(structure, RuleKind.SIGN)[("loss",)].variant == "non_positive"
    assert ("bill",) not in _rules(structure, RuleKind.SIGN)  # both signs
    assert _rules(structure, RuleKind.RANGE)[("months",)].bounds == (float(table["months"].min()),
                                                                      float(table["months"].max()))
    integers = _rules(structure, RuleKind.INTEGER)
    assert ("months",) in integers and ("grade_code",) in integers and ("bill",) not in integers
    assert set(_rules(structure, RuleKind.IDENTIFIER)) == {("ID",), ("ticket",)}
    assert all(rule.exact and rule.n_rows == N for rule in structure.row_rules)
    # race-sex determines the sensitive attribute race; nothing leaks the random label
    (leak,) = structure.leaks
    assert leak.columns == ("race-sex", "race") and leak.role == "sensitive" and leak.score == 1.0
    assert "'race-sex'" in structure.warnings()[0] and "leave 'race-sex' out" in structure.warnings()[0]


def test_a_rule_broken_in_k_rows_has_share_one_minus_k_over_n(table: pd.DataFrame) -> None:
    broken = table.copy()
    broken.loc[:2, "hair_0"] = 1 - broken.loc[:2, "hair_0"]  # 3 rows with zero or two 1s
    broken.loc[:3, "frisked_Y"] = broken.loc[:3, "frisked_N"]  # 4 rows summing to 0 or 2
    strict = detect_structure(broken)
    assert not any("hair_0" in r.columns for r in strict.of_kind(RuleKind.ONE_HOT))  # 99.9% is the default bar
    lenient = detect_structure(broken, options=StructureOptions(min_share=0.95))
    hair = _rules(lenient, RuleKind.ONE_HOT)[("hair_0", "hair_1", "hair_2", "hair_3")]
    assert (hair.n_rows, hair.n_violations, hair.share) == (N, 3, 1 - 3 / N)
    assert "3 break it" in hair.evidence()
    frisked = _rules(lenient, RuleKind.COMPLEMENT)[("frisked_N", "frisked_Y")]
    assert frisked.share == 1 - 4 / N and int((~frisked.holds(broken)).sum()) == 4


def test_rows_with_a_missing_value_are_not_judged(table: pd.DataFrame) -> None:
    gappy = table.astype({"grade_code": "float64"})
    gappy.loc[:9, "grade_code"] = np.nan
    rule = _rules(detect_structure(gappy), RuleKind.DERIVED)[("grade", "grade_code")]
    assert (rule.n_rows, rule.n_violations) == (N - 10, 0)
    assert rule.holds(gappy).all()


def test_label_copies_complements_recodings_and_predictors_are_leaks() -> None:
    rng = np.random.default_rng(1)
    label = rng.integers(0, 2, 400)
    frame = pd.DataFrame({"outcome": label, "outcome_copy": label, "not_outcome": 1 - label,
                          "verdict": np.where(label == 1, "yes", "no"),
                          "score": label * 10 + rng.random(400), "noise": rng.random(400),
                          "sex": rng.integers(0, 2, 400)})
    leaks = {r.columns[0]: r for r in detect_structure(frame, label="outcome", sensitive=("sex",)).leaks}
    assert {name: r.variant for name, r in leaks.items()} == {
        "outcome_copy": "copy", "not_outcome": "complement", "verdict": "recoding", "score": "predictor"}
    assert all(r.role == "label" and r.columns[1] == "outcome" for r in leaks.values())
    message = leaks["not_outcome"].leak_message()
    assert "column 'not_outcome' leaks the label 'outcome'" in message and "its exact complement" in message
    assert "leave 'not_outcome' out of the model's inputs" in message


def test_a_column_the_user_leaves_out_is_not_a_leak() -> None:
    label = np.tile([0, 1], 50)
    frame = pd.DataFrame({"y": label, "y_N": 1 - label, "sex": np.repeat([0, 1], 50)})
    schema = infer_schema(frame).with_kinds({"y_N": ColumnKind.ID})
    assert detect_structure(frame, label="y", sensitive=("sex",), schema=schema).leaks == ()
    assert len(detect_structure(frame, label="y", sensitive=("sex",)).leaks) == 1


def test_round_trips_through_json(table: pd.DataFrame) -> None:
    structure = detect_structure(table, label="label", sensitive=("race",))
    again = Structure.from_dict(json.loads(json.dumps(structure.to_dict())))
    assert again == structure
    assert all(r.holds(table).all() for r in again.row_rules)


def test_without_drops_rules_by_key(table: pd.DataFrame) -> None:
    structure = detect_structure(table)
    key = "complement:frisked_N|frisked_Y"
    assert key in {r.key for r in structure.rules}
    assert key not in {r.key for r in structure.without([key]).rules}


def test_a_leak_is_not_checked_on_rows() -> None:
    leak = Rule(RuleKind.LEAK, ("a", "b"), 10, 0, variant="copy", score=1.0, role="label")
    with pytest.raises(FairGenError, match="not a rule rows obey"):
        leak.holds(pd.DataFrame({"a": [1], "b": [1]}))
    with pytest.raises(FairGenError, match="lack column 'b'"):
        Rule(RuleKind.COMPLEMENT, ("a", "b"), 1, 0).holds(pd.DataFrame({"a": [1]}))


def test_adult_education_num_is_derived_from_education() -> None:
    adult = get_builtin("adult")
    frame = adult.load()
    structure = detect_structure(frame, label=adult.label, sensitive=[a.column for a in adult.sensitive])
    rule = _rules(structure, RuleKind.DERIVED)[("education", "education-num")]
    assert rule.exact and rule.variant == "one_to_one" and rule.n_rows == len(frame)
    assert dict(rule.mapping)["Bachelors"] == 13 and dict(rule.mapping)["Doctorate"] == 16
    assert structure.leaks == ()
    assert _rules(structure, RuleKind.SIGN)[("capital-gain",)].exact


def households(n: int = 2_000, noisy: int = 0, seed: int = 0) -> pd.DataFrame:
    """``role`` = husband ⇒ ``sex`` = M and wife ⇒ F, broken in ``noisy`` rows; ``town`` = X (12 rows) ⇒ ``sex``
    = F by chance only; ``pet`` = fish ⇒ ``colour`` = grey where grey is nearly every colour."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n)
    role = np.where(rng.random(n) < 0.6, np.where(sex == "M", "husband", "wife"), rng.choice(["child", "single"], n))
    role[np.flatnonzero(role == "husband")[:noisy]] = "wife"  # wives who are men: noise
    town = rng.choice(["A", "B"], n)
    town[np.flatnonzero(sex == "F")[:12]] = "X"
    colour = np.where(rng.random(n) < 0.995, "grey", "red")
    pet = rng.choice(["cat", "fish"], n)
    pet[colour == "red"] = "cat"
    return pd.DataFrame({"role": role, "sex": sex, "town": town, "pet": pet, "colour": colour})


def test_implications_are_found_with_their_support_share_and_chance() -> None:
    frame = households()
    rules = {r.mapping[0]: r for r in detect_structure(frame, sensitive=("sex",)).of_kind(RuleKind.IMPLICATION)}
    assert set(rules) == {("husband", "M"), ("wife", "F")}  # not X ⇒ F (12 rows), nor fish ⇒ grey (near-constant)
    husband = rules[("husband", "M")]
    assert husband.columns == ("role", "sex") and husband.exact
    assert husband.n_rows == int((frame["role"] == "husband").sum())
    assert husband.score == pytest.approx(husband.n_rows * (frame["sex"] == "F").mean(), rel=1e-3)
    assert husband.describe() == "'role' = 'husband' implies 'sex' = 'M'"
    assert husband.evidence().startswith(f"100% of the {husband.n_rows:,} rows with 'role' = 'husband' (")
    assert husband.key == "implication:role|sex=husband"


def test_an_implication_survives_a_handful_of_noisy_rows_but_not_more() -> None:
    wives = {r.mapping[0]: r for r in detect_structure(households(noisy=4)).of_kind(RuleKind.IMPLICATION)}
    assert wives[("wife", "F")].n_violations == 4 and "4 break it" in wives[("wife", "F")].evidence()
    many = detect_structure(households(noisy=60)).of_kind(RuleKind.IMPLICATION)
    assert [r.mapping[0] for r in many] == [("husband", "M")]


def test_implications_never_repeat_what_one_hot_complement_derived_and_concatenation_rules_say(table) -> None:
    structure = detect_structure(table, label="label", sensitive=("race",))
    implications = structure.of_kind(RuleKind.IMPLICATION)
    tied = [r for r in structure.rules if r.kind in (RuleKind.ONE_HOT, RuleKind.COMPLEMENT, RuleKind.DERIVED,
                                                       RuleKind.CONCATENATION)]
    assert tied
    for rule in implications:
        assert not {"grade_code", "race-sex", "frisked_Y"} & set(rule.columns)  # computed by another rule
        assert not any(set(rule.columns) <= set(other.columns) for other in tied), rule.describe()


def test_the_implication_check_is_bounded_with_a_note() -> None:
    frame = households()
    structure = detect_structure(frame, options=StructureOptions(max_implication_values=3))
    assert not structure.of_kind(RuleKind.IMPLICATION)
    assert any("implications were looked for among the first 0 of the 5 categorical columns" in n
               for n in structure.notes)


def test_adult_relationship_implies_sex() -> None:
    adult = get_builtin("adult")
    frame = adult.load()
    structure = detect_structure(frame, label=adult.label, sensitive=[a.column for a in adult.sensitive])
    rules = {r.mapping[0]: r for r in structure.of_kind(RuleKind.IMPLICATION) if r.columns == ("relationship", "sex")}
    assert (rules[("Husband", "Male")].n_rows, rules[("Husband", "Male")].n_violations) == (19_716, 1)
    assert (rules[("Wife", "Female")].n_rows, rules[("Wife", "Female")].n_violations) == (2_331, 3)
    assert not any(r.columns[1] == "education-num" for r in structure.of_kind(RuleKind.IMPLICATION))


def test_a_wide_table_of_fifty_thousand_rows_finds_its_one_hot_groups_and_no_leak() -> None:
    # (its detection time is a benchmark's business, not a test's: benchmarks/structure_uploads.py)
    rng = np.random.default_rng(0)
    n = 50_000
    columns: dict[str, np.ndarray] = {f"x{i}": rng.normal(size=n) for i in range(30)}
    columns |= {f"count{i}": rng.integers(0, 100, n) for i in range(20)}
    for group in range(5):
        chosen = rng.integers(0, 6, n)
        columns |= {f"G{group}_{v}": (chosen == v).astype(int) for v in range(6)}
    columns |= {f"cat{i}": rng.choice(list("abcdefgh"), n) for i in range(18)}
    columns |= {"y": rng.integers(0, 2, n), "sex": rng.choice(["F", "M"], n)}
    frame = pd.DataFrame(columns)
    schema = infer_schema(frame)
    structure = detect_structure(frame, label="y", sensitive=("sex",), schema=schema)
    assert len(structure.of_kind(RuleKind.ONE_HOT)) == 5 and not structure.leaks


def test_leaking_columns_are_left_out_unless_kept_with_a_message_naming_them() -> None:
    rng = np.random.default_rng(0)
    frisked = rng.integers(0, 2, 200)
    frame = pd.DataFrame({"sex": rng.choice(["F", "M"], 200), "race": rng.choice(["A", "B", "C"], 200),
                          "frisked_N": 1 - frisked, "frisked_Y": frisked})
    frame["race-sex"] = frame["race"] + "-" + frame["sex"]
    structure = detect_structure(frame, label="frisked_Y", sensitive=("sex",))
    assert structure.leak_columns == ("frisked_N", "race-sex")
    schema, messages = exclude_leaks(infer_schema(frame), structure)
    assert [schema.kind(c) for c in structure.leak_columns] == [ColumnKind.LEAK, ColumnKind.LEAK]
    assert not ColumnKind.LEAK.is_feature and "frisked_N" not in schema.feature_names()
    assert list(messages) == ["frisked_N", "race-sex"]
    assert messages["frisked_N"].startswith("column 'frisked_N' leaks the label 'frisked_Y' (it is its exact "
                                            "complement")
    assert "left out of the generator's and the classifiers' inputs" in messages["frisked_N"]
    assert messages["race-sex"].startswith("column 'race-sex' leaks the sensitive attribute 'sex'")
    kept, messages = exclude_leaks(infer_schema(frame), structure, keep=["frisked_N"])
    assert kept.kind("frisked_N") is ColumnKind.BINARY and kept.kind("race-sex") is ColumnKind.LEAK
    assert len(messages) == 1
    assert any("leaks the label or a sensitive attribute" in w for w in kept.warnings())
