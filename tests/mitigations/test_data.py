"""MethodData: built from a generator like the ratio sweep's inputs, and checked on creation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairgen_core.classifier import encode_rows
from fairgen_core.data.spec import assign_domains
from fairgen_core.data.splits import Split
from fairgen_core.errors import FairGenError
from fairgen_core.generator import FairGenerator
from fairgen_core.mitigations import MethodData


def test_method_data_matches_the_encoded_split(german_run: tuple[FairGenerator, pd.DataFrame, Split],
                                               german: MethodData) -> None:
    generator, frame, split = german_run
    assignment = assign_domains(frame, generator.spec)
    for part, rows in (("train", split.train), ("val", split.val), ("test", split.test)):
        x, y, group = german.part(part)
        expected_x, expected_y, _ = encode_rows(generator, frame, rows)
        np.testing.assert_array_equal(x, expected_x.astype(np.float32))
        np.testing.assert_array_equal(y, expected_y)
        np.testing.assert_array_equal(group, assignment.group[rows])
    assert german.group_names == ("sex=female", "sex=male")
    assert (len(german.y_train), len(german.y_val), len(german.y_test)) == (700, 150, 150)


def test_numeric_columns_are_the_encoded_numeric_values(german: MethodData) -> None:
    numeric = list(german.numeric_columns)
    assert len(numeric) == 6  # duration, credit amount, installment rate, residence, age, existing credits
    values = german.x_train[:, numeric]
    assert all(len(np.unique(values[:, i])) > 2 for i in range(len(numeric)))
    assert np.isfinite(values).all()
    one_hot = np.delete(german.x_train, numeric, axis=1)  # categories (and any point-mass spans)
    assert set(np.unique(one_hot)) <= {0.0, 1.0}


def _arrays(n: int = 4) -> list[np.ndarray]:
    return [np.zeros((n, 2)), np.array([0, 1] * (n // 2)), np.array([0, 0, 1, 1] * (n // 4))]


@pytest.mark.parametrize(("change", "message"), [
    (lambda parts: parts.__setitem__(1, np.array([0, 1, 2, 1])), "0/1"),
    (lambda parts: parts.__setitem__(2, np.array([0, 0, 1, 2])), "group indices"),
    (lambda parts: parts.__setitem__(0, np.zeros((4, 3))), "disagree"),
    (lambda parts: parts.__setitem__(1, np.array([0, 1, 0])), "disagree"),
])
def test_inconsistent_arrays_are_refused(change, message: str) -> None:
    train = _arrays()
    change(train)
    with pytest.raises(FairGenError, match=message):
        MethodData(*train, *_arrays(), *_arrays(), group_names=("a", "b"))


def test_one_group_and_bad_numeric_columns_are_refused() -> None:
    with pytest.raises(FairGenError, match="two groups"):
        MethodData(*_arrays(), *_arrays(), *_arrays(), group_names=("a",))
    with pytest.raises(FairGenError, match="numeric_columns"):
        MethodData(*_arrays(), *_arrays(), *_arrays(), group_names=("a", "b"), numeric_columns=(2,))
