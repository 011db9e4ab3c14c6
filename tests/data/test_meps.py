"""Tests of the MEPS panel-19 loader against aif360's own ``MEPSDataset19`` preprocessing."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairgen_core.data.meps import (
    MEPS_CATEGORICAL,
    MEPS_COLUMNS,
    MEPS_LABEL,
    MEPS_PRIVILEGED,
    MEPS_REQUIRED_COLUMNS,
    MEPS_SENSITIVE_COLUMN,
    load_meps,
)
from fairgen_core.errors import DatasetUnavailableError

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "meps_h181_small.csv"
EXTRA_COLUMNS = {"DUPERSID", "TOTEXP15", "VARSTR"}
WEIGHT = "PERWT15F"


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    """The fixture as aif360 reads h181.csv."""
    return pd.read_csv(FIXTURE, sep=",", na_values=[])


@pytest.fixture(scope="module")
def ours() -> pd.DataFrame:
    return load_meps(FIXTURE)


@pytest.fixture(scope="module")
def aif360_defaults() -> dict[str, object]:
    """``MEPSDataset19``'s constructor defaults (label, features_to_keep, categorical_features, ...)."""
    from aif360.datasets.meps_dataset_panel19_fy2015 import MEPSDataset19

    parameters = inspect.signature(MEPSDataset19.__init__).parameters
    return {name: p.default for name, p in parameters.items() if p.default is not inspect.Parameter.empty}


def _aif360_reference(raw: pd.DataFrame, defaults: dict[str, object]) -> pd.DataFrame:
    """aif360's ``default_preprocessing``, then ``StandardDataset``'s column selection and NaN drop."""
    from aif360.datasets.meps_dataset_panel19_fy2015 import default_preprocessing

    df = default_preprocessing(raw.copy())
    keep = (
        set(defaults["features_to_keep"])
        | set(defaults["protected_attribute_names"])
        | set(defaults["categorical_features"])
        | {defaults["label_name"], defaults["instance_weights_name"]}
    )
    df = df[sorted(keep, key=df.columns.get_loc)].dropna()
    return df.drop(columns=[WEIGHT]).reset_index(drop=True)


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def test_fixture_exercises_the_filters(raw: pd.DataFrame) -> None:
    panel19 = raw[raw["PANEL"] == 19]
    assert set(raw["PANEL"]) == {19, 20}
    assert set(raw.columns) - set(MEPS_REQUIRED_COLUMNS) == EXTRA_COLUMNS
    assert set(MEPS_REQUIRED_COLUMNS) <= set(raw.columns)
    assert (panel19[["REGION53", "MARRY53X", "ASTHDX", "AGE53X"]] == -1).any(axis=None)
    assert panel19[["FTSTU53X", "EDUCYR", "HIDEG", "PHQ242"]].isin([-7, -8, -9]).any(axis=None)
    assert (panel19[["PCS42", "K6SUM42"]] < 0).any(axis=None)  # kept by aif360: not filtered
    assert panel19[[WEIGHT, "OBTOTV15", "HISPANX", "SEX"]].isna().any(axis=None)


def test_matches_aif360_preprocessing(
    raw: pd.DataFrame, ours: pd.DataFrame, aif360_defaults: dict[str, object]
) -> None:
    reference = _aif360_reference(raw, aif360_defaults)
    expected_columns = [c for c in aif360_defaults["features_to_keep"] if c != WEIGHT]
    assert list(ours.columns) == expected_columns == list(MEPS_COLUMNS)
    assert set(MEPS_CATEGORICAL) == set(aif360_defaults["categorical_features"])
    assert len(ours) == len(reference) > 100
    assert ours[MEPS_SENSITIVE_COLUMN].value_counts().to_dict() == reference["RACE"].value_counts().to_dict()
    assert ours[MEPS_LABEL].value_counts().to_dict() == reference["UTILIZATION"].value_counts().to_dict()
    assert set(ours[MEPS_LABEL]) == {0, 1}
    assert set(ours[MEPS_SENSITIVE_COLUMN]) == {"White", "Non-White"}
    for column in expected_columns:
        np.testing.assert_array_equal(ours[column].to_numpy(), reference[column].to_numpy(), err_msg=column)


def test_matches_aif360_standard_dataset(
    raw: pd.DataFrame, ours: pd.DataFrame, aif360_defaults: dict[str, object]
) -> None:
    """aif360's StandardDataset itself (weights, one-hot codes, binarised race) agrees row for row."""
    from aif360.datasets import StandardDataset
    from aif360.datasets.meps_dataset_panel19_fy2015 import default_preprocessing

    def preprocessing(df: pd.DataFrame) -> pd.DataFrame:
        # StandardDataset calls np.issubdtype on RACE, which fails on pandas 3's string dtype
        return default_preprocessing(df).astype({"RACE": object})

    names = ("label_name", "favorable_classes", "protected_attribute_names", "privileged_classes",
             "instance_weights_name", "categorical_features", "features_to_keep")  # fmt: skip
    dataset = StandardDataset(
        df=raw.copy(), custom_preprocessing=preprocessing, **{n: aif360_defaults[n] for n in names}
    )
    assert dataset.labels.shape[0] == len(ours)
    np.testing.assert_array_equal(dataset.labels.ravel(), ours[MEPS_LABEL].to_numpy())
    white = ours[MEPS_SENSITIVE_COLUMN].isin(MEPS_PRIVILEGED).to_numpy()
    np.testing.assert_array_equal(dataset.protected_attributes.ravel(), white.astype(float))
    features = pd.DataFrame(dataset.features, columns=dataset.feature_names)
    for column in ("AGE", "PCS42", "MCS42", "K6SUM42"):
        np.testing.assert_array_equal(features[column].to_numpy(), ours[column].to_numpy(), err_msg=column)


def test_output_types_and_threshold(ours: pd.DataFrame) -> None:
    for column in (*MEPS_CATEGORICAL, "AGE", "K6SUM42", MEPS_LABEL):
        assert ours[column].dtype == np.int64, column
    assert ours["PCS42"].dtype == np.float64
    assert ours.index.equals(pd.RangeIndex(len(ours)))
    # the fixture's first six rows are clean, with visit totals 9, 10, 9, 10, 0 and 40
    assert ours[MEPS_LABEL].head(6).tolist() == [0, 1, 0, 1, 0, 1]


@pytest.mark.parametrize("column", ["PANEL", "RACEV2X", "HISPANX", "AGE53X", "HIDEG", "HHTOTD15", WEIGHT])
def test_missing_required_column(raw: pd.DataFrame, column: str) -> None:
    with pytest.raises(DatasetUnavailableError) as info:
        load_meps(_csv_bytes(raw.drop(columns=[column])), name="h181.csv")
    message = str(info.value)
    assert column in message
    assert "h181.csv" in message and "HC-181" in message and "https://meps.ahrq.gov/" in message
    assert "aif360" in message


def test_several_missing_columns_are_all_named(raw: pd.DataFrame) -> None:
    with pytest.raises(DatasetUnavailableError, match=r"PCS42, MCS42"):
        load_meps(_csv_bytes(raw.drop(columns=["MCS42", "PCS42"])))


def test_text_in_a_required_column(raw: pd.DataFrame) -> None:
    broken = raw.astype({"AGE53X": object})
    broken.loc[3, "AGE53X"] = "forty"
    with pytest.raises(DatasetUnavailableError, match=r"AGE53X.*'forty'"):
        load_meps(_csv_bytes(broken))


def test_bytes_input_equals_path_input(ours: pd.DataFrame) -> None:
    from_bytes = load_meps(FIXTURE.read_bytes(), name="h181.csv")
    pd.testing.assert_frame_equal(from_bytes, ours)


def test_no_panel_19_rows(raw: pd.DataFrame) -> None:
    with pytest.raises(DatasetUnavailableError, match=r"no panel-19 rows \(PANEL values found: 20, 21\)"):
        load_meps(_csv_bytes(raw.assign(PANEL=np.where(raw["PANEL"] == 19, 21, 20))), name="h192.csv")


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [("REGION53", -1, "missing-value code"), (WEIGHT, np.nan, "empty cell")],
)
def test_no_row_survives(raw: pd.DataFrame, column: str, value: float, reason: str) -> None:
    with pytest.raises(DatasetUnavailableError, match=rf"has panel-19 rows, but none survives.*{reason}"):
        load_meps(_csv_bytes(raw.assign(**{column: value})))
