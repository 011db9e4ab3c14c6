"""Schema inference and user overrides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairgen_core.data.schema import ColumnKind, infer_schema, suggest_label, suggest_predictions
from fairgen_core.errors import SchemaError


@pytest.fixture
def frame() -> pd.DataFrame:
    n = 40
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "row_id": np.arange(n),
        "name": [f"person {i}" for i in range(n)],
        "age": rng.integers(18, 80, n),
        "income": rng.normal(5e4, 1e4, n),
        "sex": rng.choice(["F", "M"], n),
        "city": rng.choice(["a", "b", "c", "d"], n),
        "country": ["DE"] * n,
        "score_text": [str(v) for v in rng.integers(0, 100, n - 1)] + ["n/a"],
    })


def test_inferred_kinds(frame: pd.DataFrame) -> None:
    schema = infer_schema(frame)
    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds == {
        "row_id": ColumnKind.ID,
        "name": ColumnKind.ID,
        "age": ColumnKind.NUMERIC,
        "income": ColumnKind.NUMERIC,
        "sex": ColumnKind.BINARY,
        "city": ColumnKind.CATEGORICAL,
        "country": ColumnKind.CONSTANT,
        "score_text": ColumnKind.NUMERIC,
    }
    assert schema["age"].integer_valued and not schema["income"].integer_valued
    assert schema["score_text"].n_non_numeric == 1
    assert schema.feature_names() == ("age", "income", "sex", "city", "score_text")
    assert schema.feature_names(exclude=("sex",)) == ("age", "income", "city", "score_text")


def test_warnings_name_the_columns(frame: pd.DataFrame) -> None:
    notes = infer_schema(frame).warnings()
    assert any("'row_id' looks like an identifier" in n for n in notes)
    assert any("'country' has a single value" in n for n in notes)
    assert any("'score_text' is numeric but has 1 non-numeric" in n for n in notes)


def test_an_empty_column_is_called_empty_not_single_valued(frame: pd.DataFrame) -> None:
    notes = infer_schema(frame.assign(religion=np.nan, notes=pd.Series([None] * len(frame), dtype=object))).warnings()
    assert any("'religion' is empty (all values are missing) and is not modelled" in n for n in notes)
    assert any("'notes' is empty" in n for n in notes)
    assert not any("'religion' has a single value" in n for n in notes)


def test_nan_and_inf_count_as_missing() -> None:
    frame = pd.DataFrame({"x": [1.0, np.nan, np.inf, 4.0, 5.5]})
    column = infer_schema(frame)["x"]
    assert column.kind is ColumnKind.NUMERIC
    assert column.n_missing == 2


def test_kinds_can_be_overridden(frame: pd.DataFrame) -> None:
    schema = infer_schema(frame).with_kinds({"age": "categorical", "row_id": ColumnKind.NUMERIC})
    assert schema.kind("age") is ColumnKind.CATEGORICAL
    assert schema.kind("row_id") is ColumnKind.NUMERIC
    assert infer_schema(frame).kind("age") is ColumnKind.NUMERIC  # the original is unchanged


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"city": "numeric"}, "'city' holds text.*cannot be numeric"),
        ({"city": "binary"}, "'city' has 4 distinct values, so it cannot be binary"),
        ({"nope": "numeric"}, "column 'nope' is not in the data"),
    ],
)
def test_invalid_overrides_raise(frame: pd.DataFrame, overrides: dict, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        infer_schema(frame).with_kinds(overrides)


@pytest.mark.parametrize(
    ("columns", "label"),
    [
        # UCI credit-card default: the target is not last, one-hot columns follow it
        ({"ID": range(30), "SEX": [1, 2] * 15, "default payment next month": [0, 1, 1] * 10,
          "MARRIAGE_1": [1, 0, 0] * 10, "MARRIAGE_2": [0, 1, 0] * 10, "MARRIAGE_3": [0, 0, 1] * 10},
         "default payment next month"),
        ({"isFraud": [0, 1] * 15, "amount": np.arange(30) * 1.5, "Outcome": ["a", "b", "c"] * 10}, "isFraud"),
        ({"grade": ["a", "b", "c"] * 10, "target": ["x", "y", "z"] * 10, "sex": ["F", "M"] * 15}, "target"),
        ({"frisked": [0, 1] * 15, "sex": ["F", "M"] * 15, "build_H": [0, 1] * 15, "build_Z": [1, 0] * 15}, "frisked"),
        # no target-like name: the last binary column outside the one-hot 'build_*' group
        ({"sex": ["F", "M"] * 15, "build_H": [0, 1] * 15, "build_Z": [1, 0] * 15}, "sex"),
        ({"a_1": [0, 1] * 15, "a_2": [1, 0] * 15, "n": np.arange(30) * 0.5}, "a_2"),
        ({"n": np.arange(30) * 0.5, "city": ["a", "b", "c"] * 10}, "city"),
    ],
)
def test_suggested_label_prefers_target_names_then_binary_columns_outside_one_hot_groups(
    columns: dict, label: str
) -> None:
    assert suggest_label(infer_schema(pd.DataFrame(columns))) == label


def test_suggest_predictions_finds_model_outputs_by_name_among_numeric_columns() -> None:
    frame = pd.DataFrame({
        "age": [20, 30, 40, 50], "decile_score": [1, 5, 9, 3], "score_text": ["Low", "Med", "High", "Low"],
        "yPred": [0, 1, 1, 0], "prob_default": [0.1, 0.7, 0.4, 0.9], "riskScore": [2.0, 3.5, 1.0, 4.0],
        "problems": [1, 2, 3, 4], "score": [0.2, 0.2, 0.2, 0.2], "approved": [0, 1, 1, 0],
    })
    schema = infer_schema(frame)
    assert suggest_predictions(schema) == ("decile_score", "yPred", "prob_default", "riskScore")
    assert suggest_predictions(schema, exclude=("yPred",)) == ("decile_score", "prob_default", "riskScore")
    assert suggest_predictions(infer_schema(frame[["age", "approved"]])) == ()
