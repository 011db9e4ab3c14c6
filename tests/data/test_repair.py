"""Rows repaired to keep a structure: implications (moving the source when the domain sets the target), one-hot
groups by probability, domain columns never rewritten; Adult's relationship/sex consistency before and after."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairgen_core.data.datasets import get_builtin
from fairgen_core.data.repair import repair_rows
from fairgen_core.data.rules import Rule, RuleKind, Structure
from fairgen_core.data.structure import detect_structure


def test_an_implication_with_a_fixed_target_moves_its_source_and_others_set_their_target() -> None:
    rules = (Rule(RuleKind.IMPLICATION, ("role", "sex"), 10, 0, mapping=(("husband", "M"),)),
             Rule(RuleKind.IMPLICATION, ("role", "sex"), 10, 0, mapping=(("wife", "F"),)),
             Rule(RuleKind.IMPLICATION, ("role", "married"), 10, 0, mapping=(("wife", "yes"),)))
    rows = pd.DataFrame({"role": ["husband", "husband", "wife", "wife", "child"] * 20,
                         "sex": ["M", "F", "F", "M", "F"] * 20, "married": ["no"] * 100})
    probabilities = pd.DataFrame({"child": [.1] * 100, "husband": [.6] * 100, "wife": [.3] * 100})
    repaired = repair_rows(rows, Structure(rules), fixed=["sex"], scores={"role": probabilities})
    assert repaired["sex"].tolist() == rows["sex"].tolist()
    # a woman "husband" becomes the most probable role her sex allows (wife), a man "wife" his (husband)
    assert repaired["role"].tolist()[:5] == ["husband", "wife", "wife", "husband", "child"]
    assert (repaired.loc[repaired["role"] == "wife", "married"] == "yes").all()
    drawn = repair_rows(rows, Structure(rules), fixed=["sex"], rng=np.random.default_rng(0))
    assert all(rule.holds(drawn).all() for rule in rules)
    assert drawn["sex"].tolist() == rows["sex"].tolist()


def test_one_hot_repair_follows_the_probabilities() -> None:
    rules = (Rule(RuleKind.ONE_HOT, ("a_1", "a_2", "a_3"), 10, 0, variant="exactly_one"),
             Rule(RuleKind.ONE_HOT, ("b_1", "b_2"), 10, 0, variant="at_most_one"))
    rows = pd.DataFrame({"a_1": [1, 0, 1, 0], "a_2": [0, 0, 1, 1], "a_3": [0, 0, 1, 0],
                         "b_1": [0, 1, 1, 0], "b_2": [0, 0, 1, 0]})
    ones = {"a_1": [.1, .2, .3, .9], "a_2": [.2, .7, .6, .1], "a_3": [.9, .1, .5, .0], "b_1": [.4, .6, .2, .1],
            "b_2": [.3, .1, .8, .1]}
    scores = {column: pd.DataFrame({0: 1 - np.array(p), 1: p}) for column, p in ones.items()}
    repaired = repair_rows(rows, Structure(rules), scores=scores)
    # row 0 valid: kept; row 1 none: most likely member; row 2 several: most likely among those set; row 3 valid
    assert repaired[["a_1", "a_2", "a_3"]].to_numpy().tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 1, 0]]
    assert repaired[["b_1", "b_2"]].to_numpy().tolist() == [[0, 0], [1, 0], [0, 1], [0, 0]]


def test_domain_columns_are_never_rewritten_and_recodings_run_backwards() -> None:
    rules = (Rule(RuleKind.DERIVED, ("code", "sex"), 10, 0, variant="one_to_one", mapping=(("m", "M"), ("f", "F"))),
             Rule(RuleKind.COMPLEMENT, ("y", "y_N"), 10, 0), Rule(RuleKind.COMPLEMENT, ("z_N", "z_Y"), 10, 0))
    rows = pd.DataFrame({"code": ["m", "m"], "sex": ["F", "M"], "y": [1, 0], "z_Y": [1, 0]})
    repaired = repair_rows(rows, Structure(rules), fixed=("sex", "y", "z_Y"))
    assert repaired["sex"].tolist() == ["F", "M"] and repaired["code"].tolist() == ["f", "m"]
    assert repaired["y_N"].tolist() == [0, 1] and repaired["z_N"].tolist() == [0, 1]


def consistency(rows: pd.DataFrame) -> float:
    """Share of husbands who are men and wives who are women."""
    spouses = rows["relationship"].isin(["Husband", "Wife"])
    agree = ((rows["relationship"] == "Husband") & (rows["sex"] == "Male")) | (
        (rows["relationship"] == "Wife") & (rows["sex"] == "Female"))
    return float(agree[spouses].mean())


def test_adult_rows_with_sex_drawn_apart_from_relationship_are_made_consistent_without_changing_sex() -> None:
    """A generator that draws sex apart from relationship (as the domain does: sex is the sensitive attribute)."""
    adult = get_builtin("adult")
    frame = adult.load()
    structure = detect_structure(frame, label=adult.label, sensitive=["sex"])
    rows = frame.sample(10_000, random_state=0).reset_index(drop=True)
    rows["sex"] = rows["sex"].sample(frac=1, random_state=1).to_numpy()
    before = consistency(rows)
    repaired = repair_rows(rows, structure, fixed=(adult.label, "sex"), rng=np.random.default_rng(0))
    assert before < 0.75 and consistency(repaired) == 1.0
    for fixed in ("sex", adult.label):
        assert repaired[fixed].tolist() == rows[fixed].tolist()
    assert all(rule.holds(repaired).all() for rule in structure.row_rules), "every rule holds after the repair"
    assert (repaired["relationship"] != rows["relationship"]).mean() < 0.25  # only the inconsistent rows move


def test_a_one_hot_member_the_model_never_saw_at_one_is_never_chosen() -> None:
    rule = Rule(RuleKind.ONE_HOT, ("hair_a", "hair_b", "hair_c"), 10, 0, variant="exactly_one")
    rows = pd.DataFrame({"hair_a": [0, 0, 1], "hair_b": [0, 0, 1], "hair_c": [0, 0, 0]})
    scores = {"hair_a": pd.DataFrame({0: [.9, .6, .5], 1: [.1, .4, .5]}), "hair_b": pd.DataFrame({0: [.8, .9, .1],
                                                                                                  1: [.2, .1, .9]}),
              "hair_c": pd.DataFrame({0: [1.0, 1.0, 1.0]})}  # no value 1 in the training rows
    repaired = repair_rows(rows, Structure((rule,)), scores=scores)
    assert repaired.to_numpy().tolist() == [[0, 1, 0], [1, 0, 0], [0, 1, 0]]
