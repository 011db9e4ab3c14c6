"""Dataset specification: binarisation, intersectional domains, validation messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairgen_core.data.schema import infer_schema
from fairgen_core.data.spec import (
    DatasetSpec,
    SensitiveAttribute,
    assign_domains,
    domain_table,
    infer_favourable,
    validate_spec,
)
from fairgen_core.errors import SpecError


def _frame() -> pd.DataFrame:
    # 2 sexes x 2 races x 2 labels, with known counts per cell
    cells = {
        ("M", "White", "yes"): 30, ("M", "White", "no"): 20, ("M", "Black", "yes"): 10, ("M", "Black", "no"): 25,
        ("F", "White", "yes"): 12, ("F", "White", "no"): 28, ("F", "Black", "yes"): 5, ("F", "Black", "no"): 21,
    }
    rows = [key for key, n in cells.items() for _ in range(n)]
    frame = pd.DataFrame(rows, columns=["sex", "race", "hired"])
    frame["age"] = np.arange(len(frame)) % 60 + 18
    return frame


SEX = SensitiveAttribute("sex", ("M",))
RACE = SensitiveAttribute("race", ("White",))


def test_single_attribute_domain_table_counts() -> None:
    frame = _frame()
    spec = DatasetSpec("hired", ("yes",), (SEX,))
    table = domain_table(frame, spec)
    assert table.index.tolist() == ["sex=F", "sex=M"]
    assert table["n_favourable"].tolist() == [17, 40]
    assert table["n_unfavourable"].tolist() == [49, 45]
    assert table["base_rate"].tolist() == pytest.approx([17 / 66, 40 / 85])
    assert table[["p_unfavourable", "p_favourable"]].to_numpy().sum() == pytest.approx(1.0)


def test_two_attributes_form_four_intersectional_groups_and_eight_domains() -> None:
    frame = _frame()
    spec = DatasetSpec("hired", ("yes",), (SEX, RACE))
    assert spec.n_groups == 4 and spec.n_domains == 8
    assignment = assign_domains(frame, spec)
    assert assignment.group_names == (
        "sex=F & race=Black", "sex=F & race=White", "sex=M & race=Black", "sex=M & race=White",
    )
    table = domain_table(frame, spec)
    assert table["n_favourable"].tolist() == [5, 12, 10, 30]
    assert table["n_unfavourable"].tolist() == [21, 28, 25, 20]
    # every row's domain agrees with its raw values
    expected = (2 * (frame["sex"] == "M") + (frame["race"] == "White")) * 2 + (frame["hired"] == "yes")
    np.testing.assert_array_equal(assignment.domain, expected.to_numpy())
    assert assignment.domain_name(7) == "sex=M & race=White · hired=yes"


def test_numeric_threshold_attribute() -> None:
    frame = _frame()
    spec = DatasetSpec("hired", ("yes",), (SensitiveAttribute("age", threshold=25),), min_domain_rows=5)
    assignment = assign_domains(frame, spec)
    assert assignment.group_names == ("age<25", "age≥25")
    np.testing.assert_array_equal(assignment.group, (frame["age"] >= 25).astype(int).to_numpy())
    assert validate_spec(frame, infer_schema(frame), spec) == ()


def test_parse_rules() -> None:
    assert SensitiveAttribute.parse("sex=Male") == SensitiveAttribute("sex", ("Male",))
    assert SensitiveAttribute.parse(" race = White, Asian ") == SensitiveAttribute("race", ("White", "Asian"))
    assert SensitiveAttribute.parse("age>=25.5") == SensitiveAttribute("age", threshold=25.5)
    with pytest.raises(SpecError, match="COLUMN=VALUE"):
        SensitiveAttribute.parse("age")
    with pytest.raises(SpecError, match="either privileged values or a threshold"):
        SensitiveAttribute("age", ("1",), threshold=3)


def test_numeric_values_match_text_rules() -> None:
    frame = pd.DataFrame({"y": [0, 1, 1, 0], "g": [1, 1, 0, 0]})
    spec = DatasetSpec("y", ("1",), (SensitiveAttribute("g", ("1",)),), min_domain_rows=1)
    assert domain_table(frame, spec)["n"].tolist() == [2, 2]
    assert infer_favourable(frame["y"], "y") == (1,)


def test_missing_label_and_sensitive_rows_are_left_out_with_a_warning() -> None:
    frame = _frame()
    frame.loc[[0, 1], "hired"] = None
    frame.loc[[2], "sex"] = None
    spec = DatasetSpec("hired", ("yes",), (SEX,))
    warnings = validate_spec(frame, infer_schema(frame), spec)
    assert any("3 row(s) have a missing label or sensitive value ('hired': 2, 'sex': 1)" in w for w in warnings)
    assert domain_table(frame, spec)["n"].sum() == len(frame) - 3


def test_small_domain_warns_and_names_it() -> None:
    frame = _frame()
    spec = DatasetSpec("hired", ("yes",), (SEX, RACE), min_domain_rows=10)
    warnings = validate_spec(frame, infer_schema(frame), spec)
    assert len(warnings) == 1
    assert "domain 'sex=F & race=Black · hired=yes' has only 5 row(s)" in warnings[0]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (DatasetSpec("hire", ("yes",), (SEX,)), "label column 'hire' is not in the data: did you mean 'hired'"),
        (DatasetSpec("hired", ("yes",), (SensitiveAttribute("gender", ("M",)),)),
         "sensitive attribute column 'gender' is not in the data"),
        (DatasetSpec("sex", ("M",), (SEX,)), "'sex' is both the label and a sensitive attribute"),
        (DatasetSpec("hired", ("yes",), (SEX, SEX)), "'sex' is listed twice"),
        (DatasetSpec("hired", ("maybe",), (SEX,)), "'maybe'.* do not occur in the label 'hired': choose among"),
        (DatasetSpec("hired", ("yes", "no"), (SEX,)), "label 'hired' has only one class after binarisation"),
        (DatasetSpec("hired", ("yes",), (SensitiveAttribute("sex", ("X",)),)),
         "privileged value.*'X'.*do not occur in the sensitive attribute 'sex'"),
        (DatasetSpec("hired", ("yes",), (SensitiveAttribute("sex", ("M", "F")),)),
         "'sex' has no unprivileged rows"),
        (DatasetSpec("hired", ("yes",), (SensitiveAttribute("age", threshold=100),)),
         "'age' has no privileged rows"),
        (DatasetSpec("hired", ("yes",), (SensitiveAttribute("race", threshold=1),)),
         "'race' is not numeric, so a threshold"),
    ],
)
def test_invalid_specs_raise_naming_the_column(spec: DatasetSpec, message: str) -> None:
    frame = _frame()
    with pytest.raises(SpecError, match=message):
        validate_spec(frame, infer_schema(frame), spec)


def test_empty_intersection_is_an_error_naming_the_group() -> None:
    frame = _frame()
    frame = frame[~((frame["sex"] == "F") & (frame["race"] == "Black"))]
    with pytest.raises(SpecError, match="group 'sex=F & race=Black' has no rows"):
        validate_spec(frame, infer_schema(frame), DatasetSpec("hired", ("yes",), (SEX, RACE)))


def test_label_with_one_class_is_rejected() -> None:
    frame = _frame().assign(hired="yes")
    with pytest.raises(SpecError, match="only one class"):
        validate_spec(frame, infer_schema(frame), DatasetSpec("hired", ("yes",), (SEX,)))


def test_favourable_must_be_chosen_for_text_labels() -> None:
    with pytest.raises(SpecError, match="choose the favourable value.*'no', 'yes'"):
        infer_favourable(_frame()["hired"], "hired")
    with pytest.raises(SpecError, match="favourable"):
        DatasetSpec("hired", (), (SEX,))
    with pytest.raises(SpecError, match="at least one sensitive attribute"):
        DatasetSpec("hired", ("yes",), ())


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (DatasetSpec("hired", ("yes",), (SensitiveAttribute("religion", ("x",)),)),
         r"sensitive attribute 'religion' is empty \(all 151 values are missing\): choose another column"),
        (DatasetSpec("hired", ("yes",), (SensitiveAttribute("religion", threshold=1),)),
         "sensitive attribute 'religion' is empty"),
        (DatasetSpec("religion", ("x",), (SEX,)), "label column 'religion' is empty"),
    ],
)
def test_an_empty_column_is_called_empty(spec: DatasetSpec, message: str) -> None:
    frame = _frame().assign(religion=np.nan)
    with pytest.raises(SpecError, match=message):
        validate_spec(frame, infer_schema(frame), spec)
