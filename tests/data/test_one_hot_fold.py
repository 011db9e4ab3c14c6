"""One-hot groups folded into one softmax span by the encoder and written back as one-hot (issue 18)."""

from __future__ import annotations

import copy
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from fairgen_core.config import DEFAULT_ENCODING, EncoderConfig, GeneratorConfig
from fairgen_core.data.encoding import OneHotGroup, TabularEncoder
from fairgen_core.data.rules import RuleKind
from fairgen_core.data.schema import infer_schema
from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute, assign_domains
from fairgen_core.data.splits import split_by_domain
from fairgen_core.generator import fit_generator

FOLD = EncoderConfig(numeric="quantile", fold_one_hot=True)
EDU = ("EDU_a", "EDU_b", "EDU_c")
MAR = ("MAR_x", "MAR_y")
GROUPS = (OneHotGroup(EDU), OneHotGroup(MAR, at_most_one=True))


def _table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    edu = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    mar = rng.choice(3, n, p=[0.4, 0.4, 0.2])  # 2: neither (an at-most-one group)
    frame = pd.DataFrame({f"EDU_{c}": (edu == i).astype(np.int64) for i, c in enumerate("abc")})
    frame["age"] = rng.integers(18, 80, n)
    for i, c in enumerate("xy"):
        frame[f"MAR_{c}"] = (mar == i).astype(np.int64)
    frame["city"] = rng.choice(["north", "south"], n)
    return frame


def test_a_folded_group_is_one_softmax_span_and_round_trips_exactly() -> None:
    frame = _table()
    encoder = TabularEncoder(infer_schema(frame), config=FOLD, one_hot_groups=GROUPS).fit(frame)
    assert [c.kind for c in encoder.codecs] == ["one_hot", "numeric", "one_hot", "categorical"]
    spans = [(s.column, s.kind, s.width) for s in encoder.layout]
    assert spans[0] == ("EDU_a | EDU_b | EDU_c", "softmax", 3)
    assert spans[2] == ("MAR_x | MAR_y", "softmax", 3)  # two members and "none"
    assert encoder.feature_names()[:3] == EDU
    assert encoder.feature_names()[4:7] == ("MAR_x", "MAR_y", "MAR_x | MAR_y__none")
    assert encoder.feature_columns()[4:7] == ("MAR_x", "MAR_y", "MAR_x")
    x = encoder.transform(frame)
    assert (x[:, :3].sum(axis=1) == 1).all() and (x[:, 4:7].sum(axis=1) == 1).all()
    pd.testing.assert_frame_equal(encoder.inverse_transform(x), frame)  # folded and unfolded: the same table
    state = json.loads(json.dumps(encoder.state_dict()))  # JSON, no pickle
    restored = TabularEncoder.from_state_dict(state)
    assert restored.codecs == encoder.codecs
    pd.testing.assert_frame_equal(restored.inverse_transform(restored.transform(frame)), frame)


def test_any_decoder_output_is_written_back_as_exactly_one_1() -> None:
    frame = _table()
    encoder = TabularEncoder(infer_schema(frame), config=FOLD, one_hot_groups=GROUPS).fit(frame)
    noise = np.random.default_rng(1).random((500, encoder.n_features))
    rows = encoder.inverse_transform(noise)
    assert (rows[list(EDU)].sum(axis=1) == 1).all()
    assert rows[list(MAR)].sum(axis=1).isin([0, 1]).all() and (rows[list(MAR)].sum(axis=1) == 0).any()
    assert rows.dtypes.equals(frame.dtypes)


def test_true_false_members_and_missing_values_keep_their_values() -> None:
    frame = _table(200).astype({m: bool for m in EDU}).astype({m: object for m in EDU})
    frame.loc[3, "EDU_b"] = None
    encoder = TabularEncoder(infer_schema(frame), config=FOLD, one_hot_groups=GROUPS[:1]).fit(frame)
    codec = encoder.codecs[0]
    assert codec.kind == "one_hot" and codec.member_values == (False, True) and codec.has_missing
    back = encoder.inverse_transform(encoder.transform(frame))
    assert back.loc[3, list(EDU)].isna().all()  # the missing slot: every member missing
    pd.testing.assert_frame_equal(back.drop(index=3)[list(EDU)], frame.drop(index=3)[list(EDU)],
                                  check_dtype=False)


def test_groups_that_cannot_fold_stay_columns_of_their_own() -> None:
    frame = _table(200)
    frame["EDU_c"] = frame["EDU_c"] * 2  # not 0/1
    schema = infer_schema(frame)
    assert [c.kind for c in TabularEncoder(schema, config=FOLD, one_hot_groups=GROUPS).fit(frame).codecs].count(
        "one_hot") == 1  # MAR still folds
    unfolded = TabularEncoder(schema, config=replace(FOLD, fold_one_hot=False), one_hot_groups=GROUPS).fit(frame)
    assert "one_hot" not in [c.kind for c in unfolded.codecs]
    partial = TabularEncoder(schema, columns=["EDU_a", "EDU_b", "age"], config=FOLD, one_hot_groups=GROUPS)
    assert partial.one_hot_groups == ()  # a member left out of the model: nothing to fold


def test_an_encoder_saved_before_folding_loads_unfolded() -> None:
    frame = _table(100)
    state = TabularEncoder(infer_schema(frame)).fit(frame).state_dict()
    for codec in state["codecs"]:
        for key in ("members", "at_most_one", "member_values"):
            codec.pop(key)
    state["config"].pop("fold_one_hot")
    encoder = TabularEncoder.from_state_dict(state)
    assert encoder.config.fold_one_hot is False and "one_hot" not in [c.kind for c in encoder.codecs]
    assert DEFAULT_ENCODING.fold_one_hot and not EncoderConfig().fold_one_hot  # the generator folds, the paper not


@pytest.fixture(scope="module")
def trained():
    frame = _table(1_500)
    frame["hired"] = (np.random.default_rng(2).random(len(frame)) < 0.3 + 0.3 * frame["EDU_c"]).astype(int)
    frame["sex"] = np.random.default_rng(3).choice(["F", "M"], len(frame))
    spec = DatasetSpec("hired", (1,), (SensitiveAttribute("sex", ("M",)),))
    split = split_by_domain(assign_domains(frame, spec).domain, seed=0)
    config = GeneratorConfig(hidden_dim=16, latent_dim=4, epochs=2, patience=0, batch_size=64, device="cpu")
    return fit_generator(frame, spec, config=config, split=split), frame, spec


def test_the_generator_models_a_found_group_as_one_categorical(trained) -> None:
    model, frame, spec = trained
    kinds = {c.name: c.kind for c in model.encoder.codecs}
    assert kinds["EDU_a | EDU_b | EDU_c"] == "one_hot" and kinds["MAR_x | MAR_y"] == "one_hot"
    raw = copy.copy(model)
    raw.assembler = replace(model.assembler, structure=None)  # no repair: the folding alone keeps the groups
    rows = raw.sample(per_domain=500, seed=4)
    assert (rows[list(EDU)].sum(axis=1) == 1).all() and rows[list(MAR)].sum(axis=1).le(1).all()
    assert np.bincount(assign_domains(rows, spec).domain, minlength=4).tolist() == [500] * 4
    translated = raw.translate(frame.head(200), seed=5)
    assert (translated[list(EDU)].sum(axis=1) == 1).all() and translated[list(MAR)].sum(axis=1).le(1).all()
    found = {r.columns for r in model.assembler.structure.of_kind(RuleKind.ONE_HOT)}
    assert found == {EDU, MAR}
