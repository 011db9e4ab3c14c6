"""Encoder: round trips on the real datasets, span layout, missing values, dtypes, persistence."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from fairgen_core.data.datasets import get_builtin
from fairgen_core.data.encoding import TabularEncoder
from fairgen_core.data.schema import ColumnKind, infer_schema
from fairgen_core.errors import EncodingError


def _assert_round_trip(frame: pd.DataFrame, encoder: TabularEncoder) -> None:
    decoded = encoder.inverse_transform(encoder.transform(frame))
    original = frame[list(encoder.columns)].reset_index(drop=True)
    assert list(decoded.columns) == list(original.columns)
    for column in original.columns:
        assert decoded[column].dtype == original[column].dtype, column
        if encoder.schema.kind(column) is ColumnKind.NUMERIC:
            np.testing.assert_allclose(decoded[column].to_numpy(float), original[column].to_numpy(float),
                                       rtol=1e-6, equal_nan=True, err_msg=column)
        else:
            pd.testing.assert_series_equal(decoded[column], original[column], check_names=False)


@pytest.mark.parametrize("name", ["adult", "compas", "german"])
def test_round_trip_on_builtin_datasets(name: str) -> None:
    dataset = get_builtin(name)
    frame = dataset.load()
    schema = dataset.schema(frame)
    encoder = TabularEncoder(schema).fit(frame)
    encoded = encoder.transform(frame)
    assert encoded.dtype == np.float32
    assert encoded.shape == (len(frame), encoder.n_features)
    assert np.abs(encoded).max() <= 1.0
    _assert_round_trip(frame, encoder)


def test_adult_layout_is_softmax_for_categories_and_numeric_for_numbers() -> None:
    frame = get_builtin("adult").load()
    encoder = TabularEncoder(infer_schema(frame)).fit(frame)
    spans = {(s.column, s.is_missing_indicator): s for s in encoder.layout}
    assert spans[("age", False)].kind == "numeric" and spans[("age", False)].width == 1
    assert spans[("sex", False)].kind == "softmax" and spans[("sex", False)].width == 2
    # workclass has 8 categories plus missing ('?') values -> 9 slots
    assert spans[("workclass", False)].width == frame["workclass"].nunique() + 1
    # spans tile the matrix without gaps
    layout = encoder.layout
    assert layout[0].start == 0 and layout[-1].stop == encoder.n_features
    assert all(a.stop == b.start for a, b in itertools.pairwise(layout))
    assert len(encoder.feature_names()) == encoder.n_features
    encoded = encoder.transform(frame)
    for span in layout:
        if span.kind == "softmax" and span.column != "workclass":
            block = encoded[:, span.slice]
            assert set(np.unique(block.sum(axis=1))) <= {0.0, 1.0}


def test_fit_uses_only_the_given_rows_and_unseen_categories_encode_as_zero() -> None:
    train = pd.DataFrame({"x": [1.5, -4.0, 2.0], "c": ["a", "b", "a"]})
    test = pd.DataFrame({"x": [8.0, 0.5], "c": ["z", "b"]})
    encoder = TabularEncoder(infer_schema(train)).fit(train)
    encoded = encoder.transform(test)
    assert encoded[:, 0].tolist() == [2.0, 0.125]  # scale = max |x| of train = 4
    assert encoded[0, 1:].tolist() == [0.0, 0.0] and encoded[1, 1:].tolist() == [0.0, 1.0]
    decoded = encoder.inverse_transform(encoded)
    assert decoded["x"].tolist() == [2.0, 0.5]  # clipped to the training range [-4, 2]


def test_missing_values_round_trip_in_numeric_and_categorical_columns() -> None:
    frame = pd.DataFrame({
        "n": [1.5, np.nan, -3.0, 2.25, np.nan],
        "k": [1, 2, 3, 4, 5],
        "c": ["u", None, "v", "u", "w"],
    })
    frame["c"] = frame["c"].astype("str")
    encoder = TabularEncoder(infer_schema(frame)).fit(frame)
    assert [s.kind for s in encoder.layout] == ["numeric", "softmax", "numeric", "softmax"]
    assert encoder.layout[1].is_missing_indicator
    _assert_round_trip(frame, encoder)
    decoded = encoder.inverse_transform(encoder.transform(frame))
    assert decoded["n"].isna().tolist() == [False, True, False, False, True]
    assert decoded["c"].isna().tolist() == [False, True, False, False, False]


def test_generator_like_output_decodes_to_valid_categories_and_integers() -> None:
    frame = get_builtin("german").load()
    encoder = TabularEncoder(infer_schema(frame)).fit(frame)
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 1, (500, encoder.n_features)).astype(np.float32)
    decoded = encoder.inverse_transform(noise)
    for column in encoder.columns:
        if encoder.schema.kind(column) is ColumnKind.NUMERIC:
            assert decoded[column].between(frame[column].min(), frame[column].max()).all()
            assert decoded[column].dtype == frame[column].dtype == np.int64
        else:
            assert set(decoded[column]) <= set(frame[column])


def test_state_dict_is_json_and_restores_the_same_encoder() -> None:
    frame = get_builtin("compas").load()
    encoder = TabularEncoder(infer_schema(frame)).fit(frame)
    state = json.loads(json.dumps(encoder.state_dict()))
    restored = TabularEncoder.from_state_dict(state)
    np.testing.assert_array_equal(restored.transform(frame), encoder.transform(frame))
    assert restored.layout == encoder.layout
    pd.testing.assert_frame_equal(restored.inverse_transform(encoder.transform(frame[:50])),
                                  encoder.inverse_transform(encoder.transform(frame[:50])))
    with pytest.raises(EncodingError, match="saved encoder state is invalid"):
        TabularEncoder.from_state_dict({"columns": []})


def test_errors_name_the_column_and_the_fix() -> None:
    frame = pd.DataFrame({"id": range(30), "x": np.linspace(0, 1, 30), "c": ["a", "b", "c"] * 10})
    schema = infer_schema(frame)
    with pytest.raises(EncodingError, match="column 'id' is id, so it cannot be encoded"):
        TabularEncoder(schema, ["id", "x"])
    encoder = TabularEncoder(schema)
    with pytest.raises(EncodingError, match="not fitted"):
        encoder.transform(frame)
    encoder.fit(frame)
    with pytest.raises(EncodingError, match="'c' are missing from the data"):
        encoder.transform(frame.drop(columns="c"))
    with pytest.raises(EncodingError, match="expected a matrix with 4 columns"):
        encoder.inverse_transform(np.zeros((2, 3)))
    with pytest.raises(EncodingError, match="empty table"):
        TabularEncoder(schema).fit(frame.iloc[:0])
    with pytest.raises(EncodingError, match="numeric column 'x' has no finite values"):
        TabularEncoder(schema).fit(frame.assign(x=np.nan))
