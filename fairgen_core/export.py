"""Safe CSV export: text cells that a spreadsheet would run as formulas are escaped (OWASP CSV injection)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


def escape_cell(value: object) -> object:
    """Prefix a text value that starts with ``= + - @``, tab, CR or LF with ``'``; leave others alone.

    Examples
    --------
    >>> escape_cell("=HYPERLINK(1)"), escape_cell("-3 apples"), escape_cell(-3), escape_cell("ok")
    ("'=HYPERLINK(1)", "'-3 apples", -3, 'ok')
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` with text cells and column names escaped; numeric columns stay numeric."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]) and not pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].map(escape_cell, na_action="ignore")
    out.columns = [escape_cell(str(c)) for c in out.columns]
    return out


def write_csv(chunks: Iterable[pd.DataFrame], path: str | Path) -> int:
    """Write frames to one CSV (header once), escaping formulas; returns the number of rows written.

    Chunks are written as they come, so memory stays bounded by one chunk.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        for chunk in chunks:
            escape_formulas(chunk).to_csv(handle, index=False, header=rows == 0)
            rows += len(chunk)
    return rows


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The escaped CSV of ``frame`` as UTF-8 bytes (for downloads)."""
    return escape_formulas(frame).to_csv(index=False).encode("utf-8")
