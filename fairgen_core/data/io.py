"""Robust CSV reading: encodings, delimiters, header detection, missing-value tokens, decimal commas, size bounds."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fairgen_core.errors import DataReadError, DataTooLargeError

MISSING_TOKENS: tuple[str, ...] = ("", "?", "NA", "N/A", "NaN", "nan", "null", "NULL", "None")
CANDIDATE_DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
_SNIFF_BYTES = 256 * 1024
_SNIFF_RECORDS = 200
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# A number written with a decimal comma and optional dots between thousands: 1234,56 / 1.234,56 / -0,5 / 1.234
_COMMA_NUMBER = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$|^[+-]?,\d+$")
_SEPARATOR_HINT = re.compile(r"^sep=(?P<sep>[^\w\"'\r\n])\r?$", re.IGNORECASE)
_DOCUMENT_TAGS: tuple[str, ...] = ("<!doctype html", "<html", "<head", "<body")
_BINARY_SIGNATURES: dict[bytes, str] = {
    b"PK\x03\x04": "a ZIP archive (or an .xlsx/.docx file)",
    b"\x1f\x8b": "a gzip archive",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Excel/Office document",
    b"PAR1": "a Parquet file",
}


@dataclass(frozen=True)
class ReadLimits:
    """Bounds applied while reading a table.

    Parameters
    ----------
    max_bytes : int
        Largest accepted file size in bytes.
    max_rows : int
        Largest accepted number of data rows.
    """

    max_bytes: int = 200 * 1024 * 1024
    max_rows: int = 2_000_000


@dataclass(frozen=True)
class LoadedTable:
    """A parsed table and how it was parsed.

    Attributes
    ----------
    frame : pandas.DataFrame
        The data; missing-value tokens are NaN.
    source : str
        The file name the messages refer to.
    encoding : str
        ``"utf-8"`` (BOM stripped if present) or ``"latin-1"``.
    delimiter : str
        The field separator that was used.
    has_header : bool
        Whether the first record was taken as column names.
    warnings : tuple of str
        Non-fatal findings, each naming the file: an Excel ``sep=`` line used and skipped, columns read with
        a decimal comma, spaces removed around column names, renamed duplicate columns, dropped empty columns.
    """

    frame: pd.DataFrame
    source: str
    encoding: str
    delimiter: str
    has_header: bool
    warnings: tuple[str, ...] = field(default=())


def read_csv(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    delimiter: str | None = None,
    header: bool | None = None,
    limits: ReadLimits = ReadLimits(),
) -> LoadedTable:
    """Read a delimited text file into a DataFrame, detecting its dialect.

    Parameters
    ----------
    source : str, pathlib.Path or bytes
        A path to the file or its raw bytes (an upload).
    name : str, optional
        Name used in messages; defaults to the path's file name or ``"upload"``.
    delimiter : str, optional
        Field separator; when omitted, the one an Excel-style first line ``sep=;`` names (that line is skipped
        either way), else sniffed among ``, ; TAB |``. In a file not separated by commas, text columns whose
        values are all numbers with a decimal comma (``1.234,56``) are read as numbers.
    header : bool, optional
        Whether the first record holds column names; detected when omitted.
    limits : ReadLimits
        Size and row bounds.

    Returns
    -------
    LoadedTable
        The frame with the detected encoding, delimiter and header flag.

    Raises
    ------
    DataReadError
        If the file is missing, empty, binary, an HTML/XML page or a JSON document, or malformed; the message
        names the file and the fix.
    DataTooLargeError
        If the file exceeds ``limits``.

    Examples
    --------
    >>> table = read_csv(b"a;b\\n1;x\\n2;?\\n")
    >>> table.delimiter, list(table.frame.columns), int(table.frame["b"].isna().sum())
    (';', ['a', 'b'], 1)
    """
    raw, label = _read_bytes(source, name, limits)
    _reject_binary(raw, label)
    text, encoding = _decode(raw)
    if not text.strip():
        raise DataReadError(f"{label} contains only whitespace: upload a CSV with a header row and data rows.")
    _reject_document(text, label)
    hint = _separator_hint(text)
    skip = 0 if hint is None else 1
    sample_records = _sample_records(text)[skip:]
    sep = delimiter or hint or _sniff_delimiter(sample_records, label)
    records = _split_records(sample_records, sep)
    has_header = _detect_header(records) if header is None else header
    if has_header and len(records) < 2 and text.count("\n") - skip <= 1:
        raise DataReadError(f"{label} has a header row but no data rows: add at least one row of data.")
    del text  # the parser reads the bytes: a decoded copy of a 200 MB upload would double the peak memory
    frame, warnings = _parse(raw, encoding, sep, has_header, label, limits, skip)
    if hint is not None:
        warnings.insert(0, f"{label}: its first line 'sep={hint}' (written by Excel) names the separator; "
                           f"it was used ('{describe_delimiter(hint)}') and that line skipped.")
    if has_header and sample_records:
        warnings.extend(_spaced_name_warnings(sample_records[0], sep, label))
    if has_header and records:
        warnings.extend(_duplicate_name_warnings(records[0], label))
    return LoadedTable(frame, label, encoding, sep, has_header, tuple(warnings))


def _read_bytes(source: str | Path | bytes, name: str | None, limits: ReadLimits) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
        label = f"'{name or 'upload'}'"
    else:
        path = Path(source)
        label = f"'{name or path.name}'"
        if not path.is_file():
            raise DataReadError(f"{label} does not exist or is not a file: check the path ({path}).")
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise DataTooLargeError(_too_large_message(label, size, limits.max_bytes))
        raw = path.read_bytes()
    if len(raw) > limits.max_bytes:
        raise DataTooLargeError(_too_large_message(label, len(raw), limits.max_bytes))
    if not raw:
        raise DataReadError(f"{label} is empty (0 bytes): upload a CSV with a header row and data rows.")
    return raw, label


def _too_large_message(label: str, size: int, limit: int) -> str:
    return (
        f"{label} is {size / 1e6:.1f} MB, over the {limit / 1e6:.1f} MB limit: "
        "upload a sample of the rows, or raise the limit (ReadLimits.max_bytes / server.maxUploadSize)."
    )


def _reject_binary(raw: bytes, label: str) -> None:
    head = raw[:8]
    for signature, what in _BINARY_SIGNATURES.items():
        if head.startswith(signature):
            raise DataReadError(f"{label} is {what}, not a CSV: export the table as CSV (comma-separated text).")
    if b"\x00" in raw[:_SNIFF_BYTES]:
        raise DataReadError(
            f"{label} contains NUL bytes, so it is binary or UTF-16 text, not a CSV: "
            "save it as CSV in UTF-8."
        )


def _reject_document(text: str, label: str) -> None:
    """Refuse an HTML page, XML or JSON document saved under a .csv name, saying what it is."""
    head = text[:1024].lstrip().lower()
    tail = text[-1024:].rstrip()[-1:]
    if head.startswith("<") and any(tag in head for tag in _DOCUMENT_TAGS):
        what = "an HTML page"
    elif head.startswith("<?xml"):
        what = "an XML document"
    elif head[:1] in ("{", "[") and tail in ("}", "]"):
        what = "a JSON document"
    else:
        return
    raise DataReadError(
        f"{label} looks like {what}, not a CSV: export the table as CSV (comma-separated text with a header "
        "row and one row per line)."
    )


def _separator_hint(text: str) -> str | None:
    """The separator named by an Excel-style first line ``sep=;``, or None when there is no such line."""
    end = text.find("\n", 0, 16)
    match = _SEPARATOR_HINT.match(text[:end] if end >= 0 else text[:16])
    return match["sep"] if match else None


def _decode(raw: bytes) -> tuple[str, str]:
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _sample_records(text: str) -> list[str]:
    """Return the first complete records of ``text`` as raw lines (quoted newlines kept together)."""
    sample = text[:_SNIFF_BYTES]
    lines = sample.splitlines(keepends=True)
    if len(sample) < len(text) and lines:
        lines = lines[:-1]  # the last line may be cut in the middle
    return [line for line in lines[: _SNIFF_RECORDS * 4] if line.strip()]


def _split_records(lines: list[str], sep: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO("".join(lines)), delimiter=sep, skipinitialspace=True)
    try:
        records = [row for _, row in zip(range(_SNIFF_RECORDS), reader)]
    except csv.Error:
        return []
    return [row for row in records if row]


def _sniff_delimiter(lines: list[str], label: str) -> str:
    """Pick the candidate delimiter whose field count is largest and most consistent across records.

    A single space is tried only when no candidate splits the lines (files such as UCI's ``german.data``).
    """
    best, best_score = ",", (0.0, 0)
    for sep in CANDIDATE_DELIMITERS:
        records = _split_records(lines, sep)
        if not records:
            continue
        counts = [len(row) for row in records]
        modal = max(set(counts), key=counts.count)
        if modal < 2:
            continue
        consistency = counts.count(modal) / len(counts)
        score = (round(consistency, 2), modal)
        if score > best_score:
            best, best_score = sep, score
    if best_score == (0.0, 0):
        counts = [len(row) for row in _split_records(lines, " ")]
        if counts and min(counts) >= 2 and counts.count(counts[0]) / len(counts) >= 0.99:
            return " "
    return best


def _is_number(token: str) -> bool:
    token = token.strip()
    return bool(_NUMBER.match(token) or _COMMA_NUMBER.match(token))


def _detect_header(records: list[list[str]]) -> bool:
    """Decide whether the first record names the columns.

    The first record is a header when none of its non-empty cells is a number or a missing token and, in at
    least one column, it differs in type from the data below (text over numbers), or no first-row
    value appears again in its column.
    """
    if len(records) < 2:
        return True
    first, rest = records[0], records[1:]
    named = [cell.strip() for cell in first if cell.strip()]
    if not named or any(_is_number(cell) or cell in MISSING_TOKENS for cell in named):
        return False
    for j in range(len(first)):
        column = [row[j].strip() for row in rest if j < len(row) and row[j].strip() not in MISSING_TOKENS]
        if column and all(_is_number(value) for value in column):
            return True
    repeats = sum(
        any(j < len(row) and row[j].strip() == cell.strip() for row in rest) for j, cell in enumerate(first)
    )
    return repeats == 0


def _parse(
    raw: bytes, encoding: str, sep: str, has_header: bool, label: str, limits: ReadLimits, skip: int = 0
) -> tuple[pd.DataFrame, list[str]]:
    try:
        frame = pd.read_csv(
            io.BytesIO(raw),
            encoding="utf-8-sig" if encoding == "utf-8" else encoding,
            sep=sep,
            skiprows=skip,
            header=0 if has_header else None,
            na_values=list(MISSING_TOKENS),
            keep_default_na=False,
            skipinitialspace=True,
            skip_blank_lines=True,
            nrows=limits.max_rows + 1,
            engine="c",
            low_memory=False,
        )
    except pd.errors.EmptyDataError as exc:
        raise DataReadError(f"{label} has no columns: upload a CSV with a header row and data rows.") from exc
    except pd.errors.ParserError as exc:
        raise DataReadError(
            f"{label} is not a well-formed CSV ({_first_line(exc)}): check that every row has the same "
            f"number of '{describe_delimiter(sep)}'-separated fields and that quotes are closed."
        ) from exc
    if len(frame) > limits.max_rows:
        raise DataTooLargeError(
            f"{label} has more than {limits.max_rows:,} rows: upload a sample of the rows, "
            "or raise the limit (ReadLimits.max_rows)."
        )
    if frame.empty:
        raise DataReadError(f"{label} has a header row but no data rows: add at least one row of data.")
    frame, warnings = _clean_columns(frame, has_header, label)
    if sep != ",":  # a comma-separated file cannot hold unquoted decimal commas
        warnings.extend(_parse_decimal_commas(frame, label))
    return frame, warnings


def _clean_columns(frame: pd.DataFrame, has_header: bool, label: str) -> tuple[pd.DataFrame, list[str]]:
    warnings: list[str] = []
    if not has_header:
        frame.columns = [f"column_{j + 1}" for j in range(frame.shape[1])]
        return frame, warnings
    names = [str(c).strip() for c in frame.columns]
    unnamed = [j for j, n in enumerate(names) if n == "" or n.startswith("Unnamed: ")]
    empty_unnamed = [j for j in unnamed if frame.iloc[:, j].isna().all()]
    if empty_unnamed:
        frame = frame.drop(columns=frame.columns[empty_unnamed])
        names = [n for j, n in enumerate(names) if j not in empty_unnamed]
        warnings.append(f"{label}: dropped {len(empty_unnamed)} empty column(s) without a name.")
    names = [n if n and not n.startswith("Unnamed: ") else f"column_{j + 1}" for j, n in enumerate(names)]
    frame.columns = _deduplicate(names)
    return frame, warnings


def _deduplicate(names: list[str]) -> list[str]:
    """Suffix ``.1``, ``.2`` to names that collide once trimmed (``age`` and ``age ``), as pandas does for others."""
    used: set[str] = set()
    unique = []
    for name in names:
        candidate, k = name, 0
        while candidate in used:
            k += 1
            candidate = f"{name}.{k}"
        used.add(candidate)
        unique.append(candidate)
    return unique


def _parse_decimal_commas(frame: pd.DataFrame, label: str) -> list[str]:
    """Convert, in place, text columns whose every value is a number with a decimal comma (``1.234,56``).

    A column qualifies when all its non-missing values match a decimal-comma number (dots only between
    thousands) and at least one holds a comma; the note names the converted columns.
    """
    converted, example = [], ""
    for name in frame.columns:
        series = frame[name]
        if not pd.api.types.is_string_dtype(series) or not series.str.contains(",", regex=False, na=False).any():
            continue
        text = series.dropna().astype(str).str.strip()
        if not text.str.match(_COMMA_NUMBER).all():
            continue
        with_comma = text[text.str.contains(",", regex=False)]
        plain = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        frame[name] = pd.to_numeric(plain, errors="coerce").reindex(series.index)
        converted.append(name)
        example = example or f"{with_comma.iloc[0]!r} → {float(frame.at[with_comma.index[0], name])}"
    if not converted:
        return []
    return [
        f"{label}: column(s) {_name_list(converted)} hold numbers with a decimal comma, read as numbers "
        f"({example}). If they are codes rather than amounts, set their kind to categorical."
    ]


def _spaced_name_warnings(header_line: str, sep: str, label: str) -> list[str]:
    """Name the columns whose names had spaces around them (the reader removes the spaces)."""
    try:
        names = next(csv.reader([header_line.rstrip("\r\n")], delimiter=sep), [])
    except csv.Error:
        return []
    spaced = [name for name in names if name.strip() and name != name.strip()]
    if not spaced:
        return []
    return [
        f"{label}: removed the spaces around column name(s) {_name_list(spaced)}; refer to them as "
        f"{_name_list([name.strip() for name in spaced])}."
    ]


def _name_list(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(repr(str(n)) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _duplicate_name_warnings(header: list[str], label: str) -> list[str]:
    names = [cell.strip() for cell in header]
    duplicated = sorted({n for j, n in enumerate(names) if n and n in names[:j]})
    if not duplicated:
        return []
    return [
        f"{label}: duplicate column name(s) {', '.join(map(repr, duplicated))}; later copies were "
        "renamed with a '.1', '.2' suffix. Rename them in the file if they mean different things."
    ]


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def describe_delimiter(sep: str) -> str:
    """Printable form of a delimiter (a tab shows as ``\\t``, a space as ``space``)."""
    return {"\t": "\\t", " ": "space"}.get(sep, sep)
