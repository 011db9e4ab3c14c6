"""CSV export escapes formula-like text cells (OWASP CSV injection) and keeps numbers numeric."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from fairgen_core.data.io import read_csv
from fairgen_core.export import csv_bytes, escape_formulas, write_csv


def test_text_cells_starting_with_formula_characters_are_prefixed() -> None:
    frame = pd.DataFrame({
        "name": ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "plain", None],
        "amount": [-5, 3, 0, 1, 2, 9, 4],
        "=header": ["a", "b", "c", "d", "e", "f", "g"],
    })
    escaped = escape_formulas(frame)
    assert escaped["name"].tolist()[:6] == ["'=cmd|' /C calc'!A0", "'+1", "'-2", "'@SUM(A1)", "'\tx", "plain"]
    assert pd.isna(escaped["name"].iloc[6])
    assert escaped["amount"].tolist() == [-5, 3, 0, 1, 2, 9, 4]  # numbers are not text: untouched
    assert list(escaped.columns) == ["name", "amount", "'=header"]
    assert frame["name"].iloc[0].startswith("=")  # the input is not modified


def test_written_csv_reads_back_with_the_escapes_and_counts(tmp_path) -> None:
    chunks = [pd.DataFrame({"v": ["=1+1", "ok"], "n": [1.5, -2.0]}), pd.DataFrame({"v": ["-x"], "n": [np.nan]})]
    path = tmp_path / "out.csv"
    assert write_csv(chunks, path) == 3
    table = read_csv(path).frame
    assert table["v"].tolist() == ["'=1+1", "ok", "'-x"]
    assert table["n"].iloc[:2].tolist() == [1.5, -2.0] and np.isnan(table["n"].iloc[2])
    assert pd.read_csv(io.BytesIO(csv_bytes(chunks[0])))["v"].tolist() == ["'=1+1", "ok"]
