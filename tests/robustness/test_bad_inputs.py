"""The catalogue of bad inputs: each through the core API and, for the upload path, through the Data page.

Every entry must end in a clear message that names the file or column and says what to do, never in a
traceback, and must not lose what the user chose before.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from dashboard import state
from fairgen_core.config import GeneratorConfig
from fairgen_core.data.io import ReadLimits
from fairgen_core.data.schema import ColumnKind
from fairgen_core.data.sources import open_data
from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute, infer_favourable, validate_spec
from fairgen_core.errors import DataReadError, DataTooLargeError, FairGenError, SpecError
from fairgen_core.export import write_csv
from fairgen_core.generator import fit_generator
from tests.app.conftest import fresh_app
from tests.robustness.conftest import PEOPLE_ROWS, people_table


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("people.csv", _csv(people_table()))
    return buffer.getvalue()


SPEC = DatasetSpec("hired", ("yes",), (SensitiveAttribute("sex", ("M",)),))

# name, bytes, what the message must say (the file name and the fix)
UNREADABLE: list[tuple[str, bytes, list[str]]] = [
    ("empty.csv", b"", ["'empty.csv' is empty", "upload a CSV with a header row"]),
    ("blank.csv", b" \n\n  \n", ["'blank.csv' contains only whitespace", "upload a CSV"]),
    ("archive.csv", _zip(), ["'archive.csv' is a ZIP archive", "export the table as CSV"]),
    ("photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), ["'photo.csv' is a PNG image", "export the table"]),
    ("scan.csv", b"%PDF-1.7\n" + bytes(64), ["'scan.csv' is a PDF document", "export the table"]),
    ("binary.csv", bytes(range(256)) * 4, ["'binary.csv' contains NUL bytes", "save it as CSV in UTF-8"]),
    ("utf16.csv", _csv(people_table()).decode().encode("utf-16"), ["NUL bytes", "UTF-16", "save it as CSV in UTF-8"]),
    ("header.csv", b"age,sex,hired\n", ["'header.csv' has a header row but no data rows", "add at least one row"]),
    ("single.csv", b"score\n1\n2\n3\n", ["'single.csv' has a single column ('score')", "save it as comma-separated"]),
    ("ragged.csv", b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n", ["'ragged.csv' is not a well-formed CSV", "same number of"]),
]


@pytest.mark.parametrize(("name", "raw", "fragments"), UNREADABLE, ids=[case[0] for case in UNREADABLE])
def test_unreadable_files_raise_a_message_with_the_file_and_the_fix(name: str, raw: bytes,
                                                                   fragments: list[str]) -> None:
    with pytest.raises(DataReadError) as caught:
        open_data(raw, name=name)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_file_over_the_limit_is_refused_with_the_limit_and_the_fix() -> None:
    raw = _csv(people_table(rows=2_000))
    with pytest.raises(DataTooLargeError, match=r"'big.csv' is 0\.\d MB, over the 0\.0 MB limit: upload a sample"):
        open_data(raw, name="big.csv", limits=ReadLimits(max_bytes=len(raw) - 1))


def test_windows_1252_file_is_decoded_without_losing_accents() -> None:
    raw = "name,city,hired\nJosé,Zürich,yes\nRenée,Köln,no\nÅsa,Malmö,yes\n".encode("cp1252")
    source = open_data(raw, name="accents.csv")
    assert source.frame["city"].tolist() == ["Zürich", "Köln", "Malmö"]
    assert any("latin-1" in note for note in source.notes)


def test_duplicate_column_names_are_renamed_and_reported() -> None:
    raw = b"age,sex,age,hired\n30,F,31,yes\n40,M,41,no\n50,F,51,yes\n"
    source = open_data(raw, name="dup.csv")
    assert list(source.frame.columns) == ["age", "sex", "age.1", "hired"]
    assert source.frame["age.1"].tolist() == [31, 41, 51]
    assert any("duplicate column name(s) 'age'" in note and "Rename them" in note for note in source.notes)


def test_label_with_one_class_is_refused_naming_the_label() -> None:
    frame = people_table().assign(hired="yes")
    source = open_data(_csv(frame), name="one.csv")
    with pytest.raises(SpecError, match="label 'hired' has only one class"):
        validate_spec(source.frame, source.schema, SPEC)


def test_label_with_many_classes_asks_for_the_favourable_values_then_binarises() -> None:
    frame = people_table().assign(hired=np.random.default_rng(1).choice(["A", "B", "C", "D", "E"], PEOPLE_ROWS))
    with pytest.raises(SpecError, match="choose the favourable value.*'A', 'B', 'C', 'D', 'E'"):
        infer_favourable(frame["hired"], "hired")
    spec = DatasetSpec("hired", ("A", "B"), SPEC.sensitive, min_domain_rows=1)
    assert validate_spec(frame, open_data(_csv(frame)).schema, spec) == ()


def test_sensitive_attribute_with_one_group_is_refused_naming_the_column() -> None:
    frame = people_table().assign(sex="M")
    with pytest.raises(SpecError, match="sensitive attribute 'sex' has no unprivileged rows.*Choose privileged"):
        validate_spec(frame, open_data(_csv(frame)).schema, SPEC)


def test_empty_intersection_is_refused_naming_the_group() -> None:
    frame = people_table().assign(race=lambda f: np.where(f["sex"] == "F", "black", "white"))
    frame.loc[frame.index[:5], "race"] = "black"  # a few black men, no white women
    spec = DatasetSpec("hired", ("yes",), (SensitiveAttribute("sex", ("M",)), SensitiveAttribute("race", ("white",))))
    with pytest.raises(SpecError, match="group 'sex=F & race=white' has no rows.*Drop one sensitive attribute"):
        validate_spec(frame, open_data(_csv(frame)).schema, spec)


def test_domain_with_zero_rows_is_refused_naming_the_cell_and_the_fix() -> None:
    frame = people_table()
    frame.loc[frame["sex"] == "F", "hired"] = "no"
    with pytest.raises(SpecError) as caught:
        validate_spec(frame, open_data(_csv(frame)).schema, SPEC)
    message = str(caught.value)
    assert "domain 'sex=F · hired=yes' has no rows" in message
    assert "every row of group 'sex=F' has the unfavourable label" in message
    assert "Choose other favourable values of 'hired'" in message


def test_nan_inf_and_text_in_a_numeric_column_are_missing_values_the_generator_handles() -> None:
    frame = people_table().astype({"hours": object})
    frame.loc[[0, 1, 2], "hours"] = ["NaN", "inf", "n/a-ish"]
    source = open_data(_csv(frame), name="messy.csv")
    assert source.schema.kind("hours") is ColumnKind.NUMERIC
    assert any("column 'hours' is numeric but has" in note and "set the kind to categorical" in note
               for note in source.notes)
    model = fit_generator(source.frame, SPEC, schema=source.schema,
                          config=GeneratorConfig(epochs=1, device="cpu", seed=0))
    rows = model.sample(per_domain=10, seed=0)
    assert len(rows) == 40 and np.isfinite(pd.to_numeric(rows["hours"], errors="coerce").dropna()).all()


def test_id_like_column_is_reported_and_not_modelled() -> None:
    frame = people_table().assign(customer=[f"C{i:06d}" for i in range(PEOPLE_ROWS)])
    source = open_data(_csv(frame), name="ids.csv")
    assert source.schema.kind("customer") is ColumnKind.ID
    assert any("column 'customer' looks like an identifier" in note for note in source.notes)
    assert "customer" not in source.schema.feature_names(exclude=("hired", "sex"))


def test_a_thousand_columns_are_read_and_trained_on() -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.normal(size=(200, 1_000)).round(3), columns=[f"f{i}" for i in range(1_000)])
    frame["sex"], frame["hired"] = rng.choice(["F", "M"], 200), rng.choice(["yes", "no"], 200)
    source = open_data(_csv(frame), name="wide.csv")
    assert source.frame.shape == (200, 1_002)
    model = fit_generator(source.frame, SPEC, schema=source.schema, config=GeneratorConfig(epochs=1, device="cpu"))
    assert model.sample(per_domain=5, seed=0).shape == (20, 1_002)


def test_formula_cells_are_read_as_text_and_escaped_when_exported(tmp_path) -> None:
    frame = people_table()
    frame["job"] = np.resize(["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@HYPERLINK(x)"], PEOPLE_ROWS)
    source = open_data(_csv(frame), name="formulas.csv")
    assert sorted(source.frame["job"].unique()) == sorted(frame["job"].unique())  # nothing altered on input
    model = fit_generator(source.frame, SPEC, schema=source.schema, config=GeneratorConfig(epochs=1, device="cpu"))
    out = tmp_path / "synthetic.csv"
    write_csv([model.sample(per_domain=25, seed=0)], out)
    written = pd.read_csv(out)["job"]
    assert len(written) == 100 and written.str[0].eq("'").all()
    assert set(written.str[1:]) <= set(frame["job"])


# -- the same inputs through the Data page ----------------------------------------------------------------


@pytest.fixture
def page_with_a_good_upload() -> AppTest:
    """The Data page after uploading people.csv and choosing hired=yes and sex with privileged M."""
    at = fresh_app()
    at.run()
    at.radio(key="data.origin").set_value("Upload a CSV").run()
    at.file_uploader(key="data.upload").set_value(("people.csv", _csv(people_table()), "text/csv")).run()
    at.selectbox(key="people.csv.label").set_value("hired").run()
    at.multiselect(key="people.csv.hired.favourable").set_value(["yes"]).run()
    at.multiselect(key="people.csv.hired.sensitive").set_value(["sex"]).run()
    at.multiselect(key="people.csv.sex.privileged").set_value(["M"]).run()
    assert not at.exception and not at.error
    assert at.session_state[state.SPEC_KEY] == ("people.csv", SPEC)
    return at


def _upload(at: AppTest, name: str, raw: bytes) -> AppTest:
    at.file_uploader(key="data.upload").set_value((name, raw, "text/csv")).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize(("name", "raw", "fragments"), UNREADABLE, ids=[case[0] for case in UNREADABLE])
def test_unreadable_upload_shows_the_reason_and_keeps_the_earlier_file_and_choices(
        page_with_a_good_upload: AppTest, name: str, raw: bytes, fragments: list[str]) -> None:
    at = _upload(page_with_a_good_upload, name, raw)
    assert len(at.error) == 1 and all(fragment in at.error[0].value for fragment in fragments)
    assert any("Still using **people.csv**" in caption.value for caption in at.caption)
    assert at.session_state[state.SPEC_KEY] == ("people.csv", SPEC)  # the earlier choices are still in force
    assert at.multiselect(key="people.csv.sex.privileged").value == ["M"]


def test_upload_over_the_limit_is_refused_on_the_page(page_with_a_good_upload: AppTest, monkeypatch) -> None:
    monkeypatch.setattr("dashboard.loading.UPLOAD_LIMIT_MB", 0.001)
    at = _upload(page_with_a_good_upload, "big.csv", _csv(people_table(rows=500)))
    assert "'big.csv' is 0.0 MB, over the 0.0 MB limit" in at.error[0].value
    assert at.session_state[state.SPEC_KEY] == ("people.csv", SPEC)


SPEC_FAULTS: list[tuple[str, pd.DataFrame, str]] = [
    ("one-class.csv", people_table().assign(hired="yes"), "only one class"),
    ("one-group.csv", people_table().assign(sex="M"), "'sex' has no unprivileged rows"),
    ("zero-domain.csv", people_table().assign(hired=lambda f: np.where(f["sex"] == "F", "no", f["hired"])),
     "domain 'sex=F · hired=yes' has no rows"),
]


@pytest.mark.parametrize(("name", "frame", "fragment"), SPEC_FAULTS, ids=[case[0] for case in SPEC_FAULTS])
def test_unusable_choice_is_explained_and_the_earlier_files_choices_come_back(
        page_with_a_good_upload: AppTest, name: str, frame: pd.DataFrame, fragment: str) -> None:
    at = _upload(page_with_a_good_upload, name, _csv(frame))
    at.selectbox(key=f"{name}.label").set_value("hired").run()
    at.multiselect(key=f"{name}.hired.favourable").set_value(["yes"]).run()
    at.multiselect(key=f"{name}.hired.sensitive").set_value(["sex"]).run()
    at.multiselect(key=f"{name}.sex.privileged").set_value(["M"]).run()
    assert not at.exception
    assert any(fragment in error.value for error in at.error)
    assert at.session_state[state.SPEC_KEY] is None  # an unusable spec is never handed to the other pages
    at = _upload(at, "people.csv", _csv(people_table()))
    assert not at.error
    assert at.session_state[state.SPEC_KEY] == ("people.csv", SPEC)  # its choices were remembered


def test_many_class_label_asks_which_values_are_favourable(page_with_a_good_upload: AppTest) -> None:
    frame = people_table().assign(grade=np.resize(["A", "B", "C", "D", "E"], PEOPLE_ROWS))
    at = _upload(page_with_a_good_upload, "grades.csv", _csv(frame))
    at.selectbox(key="grades.csv.label").set_value("grade").run()
    assert any("'grade' has 5 distinct values: choose which count as favourable" in info.value for info in at.info)
    at.multiselect(key="grades.csv.grade.favourable").set_value(["A", "B"]).run()
    at.multiselect(key="grades.csv.grade.sensitive").set_value(["sex"]).run()
    at.multiselect(key="grades.csv.sex.privileged").set_value(["M"]).run()
    assert not at.exception and not at.error
    _, spec = at.session_state[state.SPEC_KEY]
    assert spec.label == "grade" and spec.favourable == ("A", "B")


def test_messy_columns_are_explained_on_the_page(page_with_a_good_upload: AppTest) -> None:
    frame = people_table().astype({"hours": object}).assign(customer=[f"C{i:06d}" for i in range(PEOPLE_ROWS)])
    frame.loc[[0, 1], "hours"] = ["inf", "unknown"]
    at = _upload(page_with_a_good_upload, "messy.csv", _csv(frame))
    captions = " ".join(caption.value for caption in at.caption)
    assert "column 'hours' is numeric but has" in captions
    assert "column 'customer' looks like an identifier" in captions


def test_a_thousand_column_upload_opens_the_page() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.integers(0, 5, size=(100, 1_000)), columns=[f"f{i}" for i in range(1_000)])
    frame["sex"], frame["hired"] = rng.choice(["F", "M"], 100), rng.choice(["yes", "no"], 100)
    at = fresh_app(timeout=120)
    at.run()
    at.radio(key="data.origin").set_value("Upload a CSV").run()
    at = _upload(at, "wide.csv", _csv(frame))
    assert "100 rows × 1,002 columns" in at.markdown[0].value
    assert at.selectbox(key="wide.csv.label").value == "hired"  # the last column is proposed


CELLS = ["", "?", "0", "1", "-2.5", "1e309", "inf", "nan", "a", "b c", '"q"', '"x;y"', "é", "=1+1", "\r", "\t", "'"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(st.sampled_from(CELLS), min_size=1, max_size=6), min_size=1, max_size=12),
       separator=st.sampled_from([",", ";", "\t", "|", " "]), line_end=st.sampled_from(["\n", "\r\n", "\r"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]))
def test_any_generated_csv_opens_with_a_schema_or_raises_fairgen_error(rows: list[list[str]], separator: str,
                                                                      line_end: str, encoding: str) -> None:
    raw = line_end.join(separator.join(row) for row in rows).encode(encoding, errors="replace")
    try:
        source = open_data(raw, name="fuzz.csv")
    except FairGenError as error:
        assert "fuzz.csv" in str(error) or "column" in str(error)
        return
    assert source.frame.shape[1] >= 2 and len(source.frame) >= 1
    assert source.schema.names == tuple(source.frame.columns)
