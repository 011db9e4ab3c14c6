"""The data audit on real data (Adult, German) and on frames whose answer is known exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairgen_core.audit import (
    AuditConfig,
    audit_data,
    baseline_classifier,
    column_distribution,
    group_rates,
    label_imbalance,
    proxy_scores,
)
from fairgen_core.data.datasets import get_builtin
from fairgen_core.data.schema import infer_schema
from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute
from fairgen_core.errors import FairGenError


@pytest.fixture(scope="module")
def adult():
    dataset = get_builtin("adult")
    frame = dataset.load()
    return frame, dataset.default_spec(), dataset.schema(frame)


@pytest.fixture(scope="module")
def adult_audit(adult):
    frame, spec, schema = adult
    return audit_data(frame, spec, schema=schema)


@pytest.fixture(scope="module")
def german():
    dataset = get_builtin("german")
    frame = dataset.load()
    return frame, dataset.default_spec(), dataset.schema(frame)


def test_adult_group_sizes_and_base_rates_match_pandas(adult, adult_audit) -> None:
    frame, _, _ = adult
    groups = adult_audit.groups.set_index("group")
    assert groups["n"].to_dict() == {"sex=Female": 16_192, "sex=Male": 32_650}
    expected = (frame["income"] == ">50K").groupby(frame["sex"]).mean()
    assert groups.loc["sex=Female", "base_rate"] == pytest.approx(expected["Female"])
    assert groups.loc["sex=Male", "base_rate"] == pytest.approx(expected["Male"])
    assert groups["share"].sum() == pytest.approx(1.0)


def test_adult_imbalance_names_the_smallest_cell(adult, adult_audit) -> None:
    frame, spec, _ = adult
    imbalance = adult_audit.imbalance
    cells = frame.groupby(["sex", "income"]).size()
    assert (imbalance.smallest.n, imbalance.largest.n) == (cells.min(), cells.max()) == (1_769, 22_732)
    assert imbalance.smallest.name == "sex=Female & income=>50K"
    assert imbalance.ratio == pytest.approx(22_732 / 1_769)
    rates = (frame["income"] == ">50K").groupby(frame["sex"]).mean()
    assert imbalance.statistical_parity_difference == pytest.approx(rates["Female"] - rates["Male"])
    assert imbalance.disparate_impact == pytest.approx(rates["Female"] / rates["Male"])
    assert imbalance.base_rate_gap == pytest.approx(rates["Male"] - rates["Female"])
    sentence = imbalance.describe()[0]
    assert sentence.startswith("The smallest cell, sex=Female & income=>50K, has 1,769 rows: 8% of the largest")
    assert label_imbalance(frame, spec) == imbalance


def test_intersectional_groups_are_listed_after_each_attribute(german) -> None:
    frame, spec, _ = german
    two = DatasetSpec(spec.label, spec.favourable, (*spec.sensitive, SensitiveAttribute("age", threshold=25)))
    table = group_rates(frame, two)
    assert table["attribute"].tolist() == ["sex"] * 2 + ["age"] * 2 + ["sex × age"] * 4
    assert table.groupby("attribute")["n"].sum().eq(1_000).all()
    row = table.set_index("group").loc["sex=female & age<25"]
    good = frame[(frame["sex"] == "female") & (frame["age"] < 25)]["credit"].eq("good")
    assert (row["n"], row["base_rate"]) == (len(good), pytest.approx(good.mean()))


def test_adult_top_proxies_for_sex_are_relationship_then_marital_status(adult_audit) -> None:
    proxies = adult_audit.proxies
    assert proxies["column"].tolist()[:3] == ["relationship", "marital-status", "occupation"]
    assert proxies["mutual_information"].is_monotonic_decreasing
    assert proxies.loc[0, "mutual_information"] == pytest.approx(0.2716, abs=1e-3)
    assert proxies.loc[proxies["strong"], "column"].tolist() == ["relationship", "marital-status", "occupation"]
    assert not {"sex", "income"} & set(proxies["column"])
    assert proxies.set_index("column").loc["fnlwgt", "normalised"] < 0.01  # ties do not inflate a weight column


def test_exact_copy_of_the_group_has_mutual_information_equal_to_its_entropy() -> None:
    rng = np.random.default_rng(0)
    group = rng.choice(["a", "b"], size=2_000, p=[0.3, 0.7])
    frame = pd.DataFrame({"y": rng.integers(0, 2, 2_000), "s": group, "copy": group,
                          "code": (group == "b").astype(int) * 7 + 3, "noise": rng.normal(size=2_000)})
    spec = DatasetSpec("y", (1,), (SensitiveAttribute("s", ("b",)),))
    proxies = proxy_scores(frame, spec).set_index("column")
    p = (group == "b").mean()
    entropy = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    assert proxies.loc["copy", "mutual_information"] == pytest.approx(entropy)
    assert proxies.loc["code", "mutual_information"] == pytest.approx(entropy)  # numeric, two values
    assert proxies.loc[["copy", "code"], "strong"].all()
    assert proxies.loc["noise", "normalised"] < 0.01 and not proxies.loc["noise", "strong"]


def test_strong_proxy_threshold_is_configurable(german) -> None:
    frame, spec, schema = german
    proxies = proxy_scores(frame, spec, schema=schema, config=AuditConfig(proxy_threshold=0.05))
    assert proxies.loc[proxies["strong"], "column"].tolist() == ["age"]


def test_baseline_confusion_counts_add_up_to_the_test_split_per_group(adult, adult_audit) -> None:
    frame, _, _ = adult
    baseline = adult_audit.baseline
    test_sizes = baseline.by_group["n"]
    assert test_sizes.sum() == baseline.n_test
    assert baseline.n_train + baseline.n_test == pytest.approx(0.85 * len(frame), abs=5)  # validation part unused
    group_sizes = frame["sex"].map("sex={}".format).value_counts()
    for group, matrix in baseline.confusion_matrices().items():
        assert matrix.to_numpy().sum() == test_sizes[group]
        assert test_sizes[group] == pytest.approx(0.15 * group_sizes[group], abs=2)  # stratified by domain
    assert 0.7 < baseline.balanced_accuracy < 0.85
    assert not {"sex", "income"} & set(baseline.features)


def test_baseline_on_german_is_repeatable(german) -> None:
    frame, spec, schema = german
    first = baseline_classifier(frame, spec, schema=schema)
    second = baseline_classifier(frame, spec, schema=schema)
    assert first.by_group.equals(second.by_group)
    assert first.by_group["n"].sum() == first.n_test == 150
    matrices = first.confusion_matrices()
    assert list(matrices) == ["sex=female", "sex=male"]
    female = matrices["sex=female"]
    assert female.index.tolist() == female.columns.tolist() == ["credit=bad", "credit=good"]
    row = first.by_group.loc["sex=female"]
    assert female.to_numpy().tolist() == [[row["tn"], row["fp"]], [row["fn"], row["tp"]]]


def test_numeric_distribution_is_a_histogram_per_group(adult) -> None:
    frame, spec, schema = adult
    dist = column_distribution(frame, spec, "age", schema=schema)
    assert dist.numeric
    assert dist.shares.groupby("group")["count"].sum().to_dict() == {"sex=Female": 16_192, "sex=Male": 32_650}
    assert dist.shares.groupby("group")["share"].sum().to_numpy() == pytest.approx([1.0, 1.0])
    assert dist.quantiles.loc["sex=Female", "median"] == frame.loc[frame["sex"] == "Female", "age"].median()


def test_categorical_distribution_pools_rare_values_and_counts_missing(adult) -> None:
    frame, spec, schema = adult
    dist = column_distribution(frame, spec, "native-country", schema=schema, config=AuditConfig(max_categories=5))
    values = dist.shares["value"].unique().tolist()
    assert len(values) == 6 and "(other)" in values
    assert "(missing)" in values  # native-country has missing values, frequent enough to be in the top 5
    female = dist.shares[dist.shares["group"] == "sex=Female"]
    assert female["count"].sum() == 16_192 and female["share"].sum() == pytest.approx(1.0)


@pytest.mark.parametrize("call", [group_rates, label_imbalance, proxy_scores, baseline_classifier, audit_data])
def test_missing_spec_column_raises(adult, call) -> None:
    frame = adult[0]
    with pytest.raises(FairGenError, match="'gender' is not in the data"):
        call(frame, DatasetSpec("income", (">50K",), (SensitiveAttribute("gender", ("Male",)),)))


def test_unknown_audited_column_raises(adult) -> None:
    frame, spec, _ = adult
    with pytest.raises(FairGenError, match="did you mean 'education'"):
        column_distribution(frame, spec, "educaton")


def test_no_feature_column_left_for_the_baseline_raises() -> None:
    frame = pd.DataFrame({"y": [0, 1] * 20, "s": ["a", "a", "b", "b"] * 10})
    spec = DatasetSpec("y", (1,), (SensitiveAttribute("s", ("b",)),))
    with pytest.raises(FairGenError, match="no column is left"):
        baseline_classifier(frame, spec, schema=infer_schema(frame))


def test_a_near_perfect_baseline_names_the_column_leaking_the_label() -> None:
    rng = np.random.default_rng(0)
    frisked = rng.integers(0, 2, 600)
    frame = pd.DataFrame({"sex": rng.choice(["F", "M"], 600), "age": rng.integers(15, 70, 600),
                          "frisked_N": 1 - frisked, "frisked_Y": frisked})
    spec = DatasetSpec("frisked_Y", (1,), (SensitiveAttribute("sex", ("M",)),))
    leaking = baseline_classifier(frame, spec, schema=infer_schema(frame))
    assert leaking.balanced_accuracy == 1.0
    (warning,) = leaking.warnings
    assert "near perfect because column 'frisked_N' leaks the label 'frisked_Y'" in warning
    assert "set the kind of 'frisked_N' to leak" in warning
    left_out = baseline_classifier(frame, spec, schema=infer_schema(frame).with_kinds({"frisked_N": "leak"}))
    assert left_out.features == ("age",) and left_out.warnings == () and left_out.balanced_accuracy < 0.7
