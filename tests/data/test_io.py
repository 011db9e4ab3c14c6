"""CSV reading: encodings, delimiters, headers, missing values, bounds and error messages."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fairgen_core.data.io import ReadLimits, read_csv
from fairgen_core.data.schema import ColumnKind, infer_schema
from fairgen_core.errors import DataReadError, DataTooLargeError, FairGenError


def test_semicolon_delimiter_with_utf8_bom() -> None:
    raw = "\ufeffname;age;city\nAnna;31;Köln\nBen;45;Graz\n".encode()
    table = read_csv(raw, name="people.csv")
    assert table.delimiter == ";"
    assert table.encoding == "utf-8"
    assert list(table.frame.columns) == ["name", "age", "city"]  # BOM not glued to the first name
    assert table.frame["city"].tolist() == ["Köln", "Graz"]
    assert table.frame["age"].dtype.kind == "i"


def test_latin1_file_is_decoded() -> None:
    raw = "nom,ville\nMüller,Zürich\nRené,Besançon\n".encode("latin-1")
    table = read_csv(raw)
    assert table.encoding == "latin-1"
    assert table.frame["nom"].tolist() == ["Müller", "René"]
    assert table.frame["ville"].tolist() == ["Zürich", "Besançon"]


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_each_candidate_delimiter_is_sniffed(sep: str) -> None:
    rows = [["id", "x", "label"]] + [[str(i), f"{i * 0.5}", "yes" if i % 2 else "no"] for i in range(30)]
    raw = "\n".join(sep.join(r) for r in rows).encode()
    table = read_csv(raw)
    assert table.delimiter == sep
    assert table.frame.shape == (30, 3)


def test_quoted_fields_with_newlines_and_delimiters() -> None:
    raw = b'comment,score\n"first line\nsecond line, with comma",3\n"plain",4\n'
    frame = read_csv(raw).frame
    assert frame.shape == (2, 2)
    assert frame.loc[0, "comment"] == "first line\nsecond line, with comma"
    assert frame["score"].tolist() == [3, 4]


def test_missing_value_tokens_become_nan() -> None:
    raw = b"a,b,c\n1,?,x\n2,,NA\n?,5,y\n"
    frame = read_csv(raw).frame
    assert frame.isna().sum().to_dict() == {"a": 1, "b": 2, "c": 1}
    assert frame["b"].dropna().tolist() == [5.0]


def test_file_without_header_gets_positional_names() -> None:
    raw = b"39, State-gov, 77516, <=50K\n50, Private, 83311, >50K\n38, Private, 215646, <=50K\n"
    table = read_csv(raw)
    assert not table.has_header
    assert list(table.frame.columns) == ["column_1", "column_2", "column_3", "column_4"]
    assert table.frame["column_2"].tolist() == ["State-gov", "Private", "Private"]  # leading space stripped


def test_header_can_be_forced() -> None:
    raw = b"a,b\nc,d\ne,f\n"
    assert read_csv(raw, header=True).frame.columns.tolist() == ["a", "b"]
    assert read_csv(raw, header=False).frame.shape == (3, 2)


def test_raw_adult_file_reads_like_the_uci_description(shared_datasets) -> None:
    table = read_csv(shared_datasets / "adult" / "adult.data")
    frame = table.frame
    assert not table.has_header and table.delimiter == ","
    assert frame.shape == (32_561, 15)
    assert frame["column_15"].value_counts().to_dict() == {"<=50K": 24_720, ">50K": 7_841}
    raw_text = (shared_datasets / "adult" / "adult.data").read_text()
    assert int(frame.isna().sum().sum()) == raw_text.count("?")


def test_space_separated_uci_german_file_is_read_without_header(shared_datasets) -> None:
    table = read_csv(shared_datasets / "german" / "german.data")
    assert table.delimiter == " " and not table.has_header
    assert table.frame.shape == (1000, 21)
    assert table.frame.iloc[0, :3].tolist() == ["A11", 6, "A34"]
    assert sorted(table.frame["column_21"].unique().tolist()) == [1, 2]


def test_space_is_not_chosen_when_a_real_delimiter_splits_the_lines() -> None:
    table = read_csv(b"first name,last name\nAda Mary,Lovelace King\nAlan M,Turing X\n")
    assert table.delimiter == "," and list(table.frame.columns) == ["first name", "last name"]


def test_raw_compas_file_has_duplicate_columns_reported(shared_datasets) -> None:
    table = read_csv(shared_datasets / "compas" / "compas-scores-two-years.csv")
    assert table.has_header
    assert table.frame.shape == (7_214, 53)
    assert any("'decile_score', 'priors_count'" in w for w in table.warnings)
    assert "decile_score.1" in table.frame.columns


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"", "is empty"),
        (b"  \n\n ", "only whitespace"),
        (b"a,b,c\n", "no data rows"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "PNG image"),
        (b"%PDF-1.7 ...", "PDF document"),
        (b"a,b\x00,c\n1,2,3\n", "NUL bytes"),
        (b'a,b\n1,2\n3,4,5,6\n7,8\n', "not a well-formed CSV"),
    ],
)
def test_bad_files_raise_with_the_file_name_and_a_fix(raw: bytes, fragment: str) -> None:
    with pytest.raises(DataReadError) as info:
        read_csv(raw, name="upload.csv")
    message = str(info.value)
    assert "'upload.csv'" in message
    assert fragment in message


def test_zip_archive_is_rejected() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", "a,b\n1,2\n")
    with pytest.raises(DataReadError, match="ZIP archive.*export the table as CSV"):
        read_csv(buffer.getvalue(), name="data.zip")


def test_missing_path_names_the_path(tmp_path) -> None:
    with pytest.raises(DataReadError, match="nope.csv.*does not exist"):
        read_csv(tmp_path / "nope.csv")


def test_size_bound_is_enforced_for_bytes_and_paths(tmp_path) -> None:
    raw = b"a,b\n" + b"1,2\n" * 1000
    path = tmp_path / "big.csv"
    path.write_bytes(raw)
    limits = ReadLimits(max_bytes=1000)
    for source in (raw, path):
        with pytest.raises(DataTooLargeError, match="over the 0.0 MB limit"):
            read_csv(source, limits=limits)


def test_row_bound_is_enforced() -> None:
    raw = b"a,b\n" + b"1,2\n" * 50
    with pytest.raises(DataTooLargeError, match="more than 10 rows"):
        read_csv(raw, limits=ReadLimits(max_rows=10))
    assert len(read_csv(raw, limits=ReadLimits(max_rows=50)).frame) == 50


def test_trailing_delimiter_column_is_dropped_with_a_note() -> None:
    table = read_csv(b"a,b,\n1,2,\n3,4,\n")
    assert table.frame.columns.tolist() == ["a", "b"]
    assert any("dropped 1 empty column" in w for w in table.warnings)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=400),
    st.lists(
        st.lists(st.sampled_from(["", "?", "1", "-2.5", "a", "b c", '"q"', '"x,y"', "NA", "é", "=1+1"]),
                 min_size=1, max_size=5),
        min_size=1, max_size=8,
    ).map(lambda rows: "\n".join(",".join(r) for r in rows).encode()),
))
def test_any_bytes_either_parse_or_raise_fairgen_error(raw: bytes) -> None:
    try:
        table = read_csv(raw)
    except FairGenError:
        return
    assert isinstance(table.frame, pd.DataFrame)
    assert table.frame.shape[0] >= 1
    assert np.all([isinstance(c, str) for c in table.frame.columns])


def test_decimal_commas_are_read_as_numbers_with_a_note() -> None:
    raw = ("name;amount;balance;code\n" + "".join(f"p{i};{i}234,{i}6;{i}.234,5;{i},{i}.{i}\n" for i in range(1, 30))
           + "q;;-0,5;x\n").encode()
    table = read_csv(raw, name="money.csv")
    frame = table.frame
    assert frame["amount"].dtype.kind == "f" and frame.loc[0, "amount"] == 1234.16
    assert frame["balance"].tolist()[:2] == [1234.5, 2234.5] and frame["balance"].iloc[-1] == -0.5
    assert frame["amount"].isna().sum() == 1
    assert frame["code"].dtype.kind != "f"  # '1,1.1' is not a number
    assert any("'amount', 'balance' hold numbers with a decimal comma" in w for w in table.warnings)
    assert infer_schema(frame).kind("amount") is ColumnKind.NUMERIC


def test_comma_separated_files_keep_quoted_commas_as_text() -> None:
    table = read_csv(b'id,value\n1,"1,5"\n2,"2,5"\n')
    assert table.frame["value"].tolist() == ["1,5", "2,5"] and not table.warnings


def test_spaces_around_column_names_are_named_in_a_note() -> None:
    table = read_csv(b"age ,\tsex,hired\n30,F,yes\n40,M,no\n", name="spaced.csv")
    assert list(table.frame.columns) == ["age", "sex", "hired"]
    assert any("'age ', '\\tsex'" in w and "refer to them as 'age', 'sex'" in w for w in table.warnings)



def test_names_that_collide_once_trimmed_are_told_apart() -> None:
    table = read_csv(b"a;a ;b\n1,5;2;x\n3;4;y\n")
    assert list(table.frame.columns) == ["a", "a.1", "b"]
    assert table.frame["a"].tolist() == [1.5, 3.0]
    assert any("duplicate column name(s) 'a'" in w for w in table.warnings)


@pytest.mark.parametrize(("hint", "sep"), [("sep=;", ";"), ("SEP=|", "|"), ("sep=\t", "\t"), ("sep=,", ",")])
def test_excel_separator_line_is_honoured_and_skipped(hint: str, sep: str) -> None:
    body = sep.join(["hired", "sex", "note"]) + "\r\n" + "".join(
        sep.join(["yes" if i % 2 else "no", "F", "a;b" if sep != ";" else "ab"]) + "\r\n" for i in range(5))
    table = read_csv(f"\ufeff{hint}\r\n{body}".encode(), name="excel.csv")
    assert table.delimiter == sep and table.has_header
    assert list(table.frame.columns) == ["hired", "sex", "note"] and len(table.frame) == 5
    assert any(f"first line '{hint.lower()}'" in w.lower() and "skipped" in w for w in table.warnings)


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        (b"\n<!DOCTYPE html>\n<html><head><title>x</title></head><body><table></table></body></html>\n",
         "an HTML page"),
        (b"<html>\n<body>hired,sex</body></html>", "an HTML page"),
        (b'[{"hired": "yes", "sex": "F"},\n {"hired": "no", "sex": "M"}]\n', "a JSON document"),
        (b'{"rows": [{"hired": "yes"}]}', "a JSON document"),
        (b'<?xml version="1.0"?><rows><row/></rows>', "an XML document"),
    ],
)
def test_web_pages_and_json_saved_as_csv_are_named(raw: bytes, what: str) -> None:
    with pytest.raises(DataReadError, match=f"'saved.csv' looks like {what}, not a CSV: export the table as CSV"):
        read_csv(raw, name="saved.csv")
