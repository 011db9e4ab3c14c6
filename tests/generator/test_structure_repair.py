"""Generated and translated rows keep the training rows' structure (issue 18, point 2): one-hot groups,
complements, derived columns, concatenations, implications, ranges, signs and whole numbers hold in 100% of rows
(the classifiers' synthetic inputs too), without moving a row out of its (group, label) domain; identifiers never
equal a real one; leaking columns are left out of the model by default (point 3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairgen_core.classifier.training import encode_rows
from fairgen_core.config import GeneratorConfig
from fairgen_core.data.rules import RuleKind, Structure
from fairgen_core.data.schema import ColumnKind, infer_schema
from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute, assign_domains
from fairgen_core.data.splits import default_split
from fairgen_core.data.structure import detect_structure
from fairgen_core.errors import FairGenError
from fairgen_core.export import PAIR_COLUMNS, synthetic_rows, translated_pairs, with_identifiers
from fairgen_core.generator import FairGenerator, fit_generator
from fairgen_core.generator.assembly import RowAssembler

TINY = GeneratorConfig(hidden_dim=16, latent_dim=4, epochs=2, patience=0, batch_size=64, device="cpu", seed=0)
SPEC = DatasetSpec("y_Y", (1,), (SensitiveAttribute("sex", ("M",)),), min_domain_rows=1)


def constructed(n: int = 1_200, seed: int = 0) -> pd.DataFrame:
    """A table with one rule of every kind (and a text identifier, a label complement that leaks the label).

    Its implications: ``role`` = husband ⇒ ``sex`` = M and wife ⇒ F (a sensitive target), ``status`` = banned ⇒
    ``y_Y`` = 0 (the label), ``job`` = nanny ⇒ ``sector`` = private (a modelled target).
    """
    rng = np.random.default_rng(seed)
    sex, race = rng.choice(["F", "M"], n), rng.choice(["A", "B", "C"], n)
    edu, colour, pet = rng.choice(["BA", "HS", "MA", "PhD"], n), rng.integers(0, 4, n), rng.integers(0, 3, n)
    y = rng.integers(0, 2, n)
    role = np.where(rng.random(n) < 0.5, np.where(sex == "M", "husband", "wife"), rng.choice(["child", "single"], n))
    status = np.where(y == 0, rng.choice(["banned", "new", "old"], n), rng.choice(["new", "old"], n))
    job = rng.choice(["nanny", "clerk", "cook"], n)
    sector = np.where(job == "nanny", "private", rng.choice(["private", "public"], n))
    frame = pd.DataFrame({
        "ID": rng.permutation(np.arange(1_000, 1_000 + n)), "code": [f"P{i:05d}" for i in rng.permutation(n)],
        "sex": sex, "race": race, "edu": edu,
        "edu_num": pd.Series(edu).map({"HS": 9, "BA": 13, "MA": 14, "PhD": 16}).to_numpy(),
        "race_sex": [f"{r}-{s}" for r, s in zip(race, sex)],
        "role": role, "status": status, "job": job, "sector": sector,
        **{f"hair_{c}": (colour == i).astype(int) for i, c in enumerate("abcd")},
        **{f"pet_{c}": (pet == i).astype(int) for i, c in enumerate("xy")},  # at most one (pet 2: none)
        "paid_N": (rng.random(n) < 0.4).astype(int),
        "bill": np.round(rng.gamma(2.0, 500.0, n)), "debt": -np.round(rng.gamma(2.0, 50.0, n), 2),
        "y_Y": y, "y_N": 1 - y,
    })
    frame["paid_Y"] = 1 - frame["paid_N"]
    return frame


@pytest.fixture(scope="module")
def trained() -> tuple[FairGenerator, pd.DataFrame, Structure]:
    frame = constructed()
    model = fit_generator(frame, SPEC, config=TINY)
    return model, frame, detect_structure(frame, label="y_Y", sensitive=("sex",))


@pytest.fixture(scope="module")
def sampled(trained) -> pd.DataFrame:
    return trained[0].sample(per_domain=400, seed=1)


@pytest.fixture(scope="module")
def translated(trained) -> pd.DataFrame:
    model, frame, _ = trained
    return model.translate(frame, seed=2)


@pytest.mark.parametrize("kind", [k for k in RuleKind if k is not RuleKind.LEAK])
def test_every_rule_of_every_kind_holds_in_every_generated_and_translated_row(trained, sampled, translated,
                                                                              kind) -> None:
    _, _, structure = trained
    rules = structure.of_kind(kind)
    assert rules, f"the constructed table has no {kind.value} rule"
    for rule in rules:
        assert rule.holds(sampled).all(), rule.describe()
        assert rule.holds(translated).all(), rule.describe()


def test_the_constructed_table_has_the_variants_the_repair_distinguishes(trained) -> None:
    _, _, structure = trained
    one_hot = {r.columns: r.variant for r in structure.of_kind(RuleKind.ONE_HOT)}
    assert one_hot == {("hair_a", "hair_b", "hair_c", "hair_d"): "exactly_one", ("pet_x", "pet_y"): "at_most_one"}
    assert {r.variant for r in structure.of_kind(RuleKind.SIGN)} == {"non_negative", "non_positive"}


def test_implications_are_found_and_repaired_on_the_side_the_domain_does_not_set(trained, sampled,
                                                                                 translated) -> None:
    model, frame, structure = trained
    found = {(r.columns, r.mapping[0]) for r in structure.of_kind(RuleKind.IMPLICATION)}
    assert {(("role", "sex"), ("husband", "M")), (("role", "sex"), ("wife", "F")), (("status", "y_Y"), ("banned", 0)),
            (("job", "sector"), ("nanny", "private"))} <= found
    assert pd.crosstab(sampled["sex"], sampled["y_Y"]).to_numpy().tolist() == [[400, 400], [400, 400]]
    assert set(sampled["role"]) >= {"husband", "wife"} and set(sampled["status"]) >= {"banned", "new", "old"}
    targets = model.paired_targets(assign_domains(frame, SPEC).domain, seed=2)
    assert (assign_domains(translated, SPEC).domain == targets).all()


def test_the_classifiers_synthetic_rows_and_pairs_keep_the_structure(trained) -> None:
    model, frame, structure = trained
    x, domains = model.sample_encoded([50] * model.n_domains, seed=6)
    assert np.bincount(domains).tolist() == [50] * model.n_domains
    rows = model.encoder.inverse_transform(x)
    assert_keeps(rows, structure)
    assert (x == model.encoder.transform(model.sample(per_domain=50, seed=6))).all()  # the exported rows, encoded
    source = assign_domains(frame, SPEC).domain
    pairs = model.encoder.inverse_transform(model.pairs_encoded(model.encoder.transform(frame), source ^ 2, seed=7))
    assert_keeps(pairs, structure)


def assert_keeps(rows: pd.DataFrame, structure: Structure) -> None:
    """Every rule of ``structure`` on columns that ``rows`` has holds in every row."""
    checked = [rule for rule in structure.row_rules if set(rule.columns) <= set(rows.columns)]
    assert checked
    for rule in checked:
        assert rule.holds(rows).all(), rule.describe()


def test_at_most_one_groups_keep_rows_with_no_member_set(sampled) -> None:
    none = (sampled["pet_x"] == 0) & (sampled["pet_y"] == 0)
    assert 0 < none.mean() < 1


def test_generated_rows_have_the_input_columns_and_dtypes(trained, sampled, translated) -> None:
    _, frame, _ = trained
    for rows in (sampled, translated):
        assert list(rows.columns) == list(frame.columns)
        assert rows.dtypes.astype(str).tolist() == frame.dtypes.astype(str).tolist()


def test_identifiers_never_equal_a_real_one_and_translations_never_carry_their_source_id(trained, sampled,
                                                                                         translated) -> None:
    _, frame, _ = trained
    for column in ("ID", "code"):
        assert not set(sampled[column]) & set(frame[column])
        assert not set(translated[column]) & set(frame[column])
        assert sampled[column].is_unique
    assert (sampled["ID"] > frame["ID"].max()).all()
    assert sampled["code"].str.startswith("synthetic-").all()


def test_a_leaking_column_is_left_out_by_default_with_a_message_naming_it(trained) -> None:
    model, frame, _ = trained
    assert "y_N" not in model.encoder.columns and "race_sex" not in model.encoder.columns
    x, _, _ = encode_rows(model, frame, np.arange(10))  # the classifiers' inputs: the generator's features
    assert x.shape[1] == model.encoder.n_features
    assert not [name for name in model.encoder.feature_names() if name.startswith(("y_N", "race_sex"))]
    notice = model.history[0]["notice"]
    assert "column 'y_N' leaks the label 'y_Y' (it is its exact complement" in notice
    assert "left out of the generator's and the classifiers' inputs" in notice
    assert "Keep it only if it is really known when the decision is made" in notice


def test_a_leaking_column_can_be_kept() -> None:
    frame = constructed(300)
    kept = fit_generator(frame, SPEC, config=TINY, exclude_leaks=False)
    assert "y_N" in kept.encoder.columns
    schema = infer_schema(frame).with_kinds({"y_N": ColumnKind.LEAK})
    left_out = fit_generator(frame, SPEC, schema=schema, config=TINY, exclude_leaks=False)
    assert "y_N" not in left_out.encoder.columns and "race_sex" in left_out.encoder.columns


def test_the_structure_travels_with_the_checkpoint(trained, tmp_path) -> None:
    model, _, _ = trained
    loaded = FairGenerator.load(model.save(tmp_path / "model.pt"), device="cpu")
    assert loaded.assembler == model.assembler
    pd.testing.assert_frame_equal(loaded.sample(per_domain=20, seed=5), model.sample(per_domain=20, seed=5))


def test_an_assembler_saved_without_structure_loads_and_assembles_unrepaired(trained) -> None:
    model, _, _ = trained
    state = model.assembler.state_dict()
    del state["structure"], state["id_starts"]
    old = RowAssembler.from_state_dict(state)
    assert old.structure is None and old.scored_columns == ()
    features = pd.DataFrame({"hair_a": [1, 1], "hair_b": [1, 0]})
    rows = old.assemble(features, np.array([0, 3]), np.random.default_rng(0))
    assert rows["hair_a"].tolist() == [1, 1] and rows["ID"].tolist() == [1, 2]


def test_exported_rows_and_pairs_carry_fresh_identifiers_or_none(trained) -> None:
    model, frame, structure = trained
    rows = synthetic_rows(model, 40, frame, seed=3)
    assert not set(rows["ID"]) & set(frame["ID"]) and not set(rows["code"]) & set(frame["code"])
    omitted = synthetic_rows(model, 40, frame, seed=3, ids="omit")
    assert "ID" not in omitted.columns and "code" not in omitted.columns
    split = default_split(frame, SPEC, seed=TINY.seed)
    pairs = translated_pairs(model, frame, split, seed=4)
    real, synthetic = (pairs[pairs[PAIR_COLUMNS[1]] == side].reset_index(drop=True) for side in ("real", "synthetic"))
    assert not set(synthetic["ID"]) & set(frame["ID"]) and (synthetic["ID"] != real["ID"]).all()
    for rule in structure.row_rules:
        assert rule.holds(synthetic).all(), rule.describe()
    no_ids = translated_pairs(model, frame, split, seed=4, ids="omit")
    assert no_ids.loc[no_ids[PAIR_COLUMNS[1]] == "synthetic", "ID"].isna().all()
    with pytest.raises(FairGenError, match="choose one of fresh, omit"):
        with_identifiers(rows, ["ID"], frame, "keep")  # type: ignore[arg-type]


def test_identifiers_of_an_old_model_are_made_disjoint_at_export() -> None:
    real = pd.DataFrame({"ID": [3, 1, 2], "code": ["a", "synthetic-1", "c"]})
    rows = with_identifiers(pd.DataFrame({"ID": [1, 2], "code": ["synthetic-1", "synthetic-2"]}), ["ID", "code"], real)
    assert rows["ID"].tolist() == [4, 5] and rows["code"].tolist() == ["synthetic-x-1", "synthetic-x-2"]
