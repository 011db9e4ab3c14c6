"""Generation: exact balance per (group, label) cell, original schema, conditional counts, translation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from fairgen_core.config import EncoderConfig, GeneratorConfig
from fairgen_core.data.datasets import get_builtin
from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute, assign_domains
from fairgen_core.data.splits import split_by_domain
from fairgen_core.errors import FairGenError
from fairgen_core.generator import FairGenerator, draw_targets, fit_generator

SMALL = GeneratorConfig(hidden_dim=32, latent_dim=8, batch_size=128, epochs=3, patience=0, device="cpu")


@pytest.fixture(scope="module")
def german_four_groups() -> tuple[FairGenerator, pd.DataFrame, DatasetSpec]:
    dataset = get_builtin("german")
    frame = dataset.load()
    spec = DatasetSpec("credit", ("good",), (SensitiveAttribute("sex", ("male",)),
                                             SensitiveAttribute("age", threshold=25)), min_domain_rows=1)
    return fit_generator(frame, spec, schema=dataset.schema(frame), config=SMALL), frame, spec


def test_balanced_sample_has_exact_counts_in_all_eight_domains(german_four_groups) -> None:
    model, _frame, spec = german_four_groups
    assert model.n_domains == 8
    rows = model.sample(n=8_000, seed=1)
    domains = assign_domains(rows, spec).domain
    assert np.bincount(domains, minlength=8).tolist() == [1_000] * 8


def test_sample_keeps_the_original_columns_order_dtypes_and_categories(german_four_groups) -> None:
    model, frame, _ = german_four_groups
    rows = model.sample(per_domain=50, seed=2)
    assert list(rows.columns) == list(frame.columns)
    assert rows.dtypes.astype(str).tolist() == frame.dtypes.astype(str).tolist()
    for column in frame.columns:
        if frame[column].dtype == object or str(frame[column].dtype) == "str":
            assert set(rows[column].dropna()) <= set(frame[column].dropna()), column
    assert rows["age"].between(frame["age"].min(), frame["age"].max()).all()


def test_thresholded_attribute_values_respect_their_group(german_four_groups) -> None:
    model, _, _spec = german_four_groups
    rows = model.sample(counts={"sex=female & age<25 · credit=good": 300}, seed=3)
    assert len(rows) == 300
    assert (rows["age"] < 25).all() and (rows["sex"] == "female").all() and (rows["credit"] == "good").all()


def test_conditional_counts_and_bad_requests(german_four_groups) -> None:
    model, _, spec = german_four_groups
    rows = model.sample(counts={0: 10, 7: 30}, seed=4)
    assert np.bincount(assign_domains(rows, spec).domain, minlength=8).tolist() == [10, 0, 0, 0, 0, 0, 0, 30]
    with pytest.raises(FairGenError, match="divisible by the 8 domains"):
        model.sample(n=1001)
    with pytest.raises(FairGenError, match="unknown domain 'nobody'"):
        model.sample(counts={"nobody": 3})


def test_same_seed_same_rows(german_four_groups) -> None:
    model, _, _ = german_four_groups
    pd.testing.assert_frame_equal(model.sample(n=800, seed=5), model.sample(n=800, seed=5))


def test_chunked_generation_keeps_exact_counts(german_four_groups) -> None:
    model, _, spec = german_four_groups
    chunks = list(model.iter_samples([7] * 8, seed=6, chunk_rows=10))
    assert [len(c) for c in chunks] == [10, 10, 10, 10, 10, 6]
    rows = pd.concat(chunks, ignore_index=True)
    assert np.bincount(assign_domains(rows, spec).domain, minlength=8).tolist() == [7] * 8


def test_three_attributes_give_sixteen_balanced_domains() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    frame = pd.DataFrame({
        "a": rng.choice(["p", "q"], n), "b": rng.choice(["r", "s", "t"], n), "c": rng.integers(18, 70, n),
        "x": rng.normal(size=n), "k": rng.choice(list("uvwxyz"), n), "y": rng.integers(0, 2, n),
    })
    spec = DatasetSpec("y", (1,), (SensitiveAttribute("a", ("p",)), SensitiveAttribute("b", ("r",)),
                                   SensitiveAttribute("c", threshold=40)), min_domain_rows=1)
    model = fit_generator(frame, spec, config=SMALL)
    rows = model.sample(per_domain=25, seed=0)
    assert np.bincount(assign_domains(rows, spec).domain, minlength=16).tolist() == [25] * 16
    assert set(rows["b"]) == {"r", "s", "t"}  # the unprivileged side draws its observed values


def test_translated_rows_carry_the_target_domain() -> None:
    dataset = get_builtin("adult")
    frame = dataset.load().sample(n=12_000, random_state=0).reset_index(drop=True)
    spec = dataset.default_spec()
    domains = assign_domains(frame, spec).domain
    split = split_by_domain(domains, seed=0)
    config = GeneratorConfig(hidden_dim=64, latent_dim=16, batch_size=256, epochs=12, patience=0, device="cpu")
    model = fit_generator(frame, spec, schema=dataset.schema(frame), config=config, split=split)
    test = frame.iloc[split.test]
    x_test, source = model.encoder.transform(test), domains[split.test]
    target = draw_targets(torch.as_tensor(source), 2, torch.Generator().manual_seed(0)).numpy()
    translated = model.translate_encoded(x_test, source, target, seed=0)
    # a classifier trained separately on the real training rows
    probe = LogisticRegression(max_iter=3000).fit(model.encoder.transform(frame.iloc[split.train]),
                                                  domains[split.train])
    real_accuracy = (probe.predict(x_test) == source).mean()
    predicted = probe.predict(translated)
    assert (predicted // 2 == target // 2).mean() > 0.7  # the group really changed
    assert (predicted == target).mean() > 0.6 * real_accuracy
    with torch.no_grad():
        d_cls = model.translator.discriminator(torch.as_tensor(translated))[1].argmax(1).numpy()
    assert (d_cls == target).mean() > 0.4  # 4 domains: chance is 0.25
    # the DataFrame API carries the target domain into the label and sensitive columns
    rows = model.translate(test, target="sex=Female · income=>50K", seed=0)
    assert (rows["sex"] == "Female").all() and (rows["income"] == ">50K").all()
    assert rows.index.equals(test.index) and list(rows.columns) == list(frame.columns)
    paired = model.translate(test, seed=0)
    assert (paired["sex"].to_numpy() != test["sex"].to_numpy()).all()  # the paper's rule always flips a


def test_the_users_prediction_columns_are_neither_modelled_nor_generated() -> None:
    dataset = get_builtin("german")
    frame = dataset.load().assign(score=lambda f: np.linspace(0, 1, len(f)))
    schema = dataset.schema(frame).with_kinds({"score": "prediction"})
    model = fit_generator(frame, dataset.default_spec(), schema=schema,
                          config=GeneratorConfig(epochs=1, device="cpu", seed=0))
    assert "score" not in model.encoder.columns
    rows = model.sample(40, seed=0)
    assert "score" not in rows.columns and len(rows) == 40


@pytest.mark.parametrize("encoding", [EncoderConfig(), EncoderConfig(numeric="quantile", point_mass=0.1),
                                      EncoderConfig(numeric="modes", point_mass=0.1)], ids=lambda e: e.numeric)
def test_every_numeric_encoding_samples_exactly_balanced_rows_in_range_and_survives_a_checkpoint(
        encoding: EncoderConfig, tmp_path) -> None:
    dataset = get_builtin("german")
    frame, spec = dataset.load(), dataset.default_spec()
    config = GeneratorConfig(hidden_dim=16, latent_dim=4, epochs=1, patience=0, device="cpu", encoding=encoding)
    model = fit_generator(frame, spec, schema=dataset.schema(frame), config=config)
    assert model.encoder.config == encoding
    rows = model.sample(n=400, seed=5)
    assert np.bincount(assign_domains(rows, spec).domain, minlength=4).tolist() == [100] * 4
    for column in ("duration", "credit_amount", "age", "existing_credits"):
        assert rows[column].between(frame[column].min(), frame[column].max()).all(), column
        assert rows[column].dtype == frame[column].dtype
    restored = FairGenerator.load(model.save(tmp_path / "model.pt"), device="cpu")  # tensors and JSON-like state
    assert restored.encoder.config == encoding and restored.encoder.layout == model.encoder.layout
    pd.testing.assert_frame_equal(restored.sample(n=400, seed=5), rows)
