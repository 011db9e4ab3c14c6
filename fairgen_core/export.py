"""Safe CSV export: text cells that a spreadsheet would run as formulas are escaped (OWASP CSV injection).

Identifier columns (kind ``id``) of synthetic rows are a choice (:data:`ID_CHOICES`): ``fresh`` identifiers that
never equal one of the real table's (integers above its largest, or text with a prefix none of its values starts
with), or ``omit`` to leave the column out. A translated row never carries its source row's identifier.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import pandas as pd

from fairgen_core.data.spec import assign_domains
from fairgen_core.data.splits import Split
from fairgen_core.errors import FairGenError
from fairgen_core.generator.assembly import fresh_id_start, fresh_ids
from fairgen_core.generator.model import FairGenerator

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
#: Extra columns of :func:`translated_pairs` (prefixed so they never clash with the data's own columns).
PAIR_COLUMNS = ("fairgen_pair", "fairgen_row", "fairgen_domain")
#: RFC 4180 line ends: the writer then quotes every cell holding a CR or LF, so no cell can start a row.
CSV_LINE_END = "\r\n"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
IdChoice = Literal["fresh", "omit"]
#: What synthetic rows' identifier columns hold: fresh identifiers disjoint from the real ones, or nothing.
ID_CHOICES: tuple[IdChoice, ...] = ("fresh", "omit")


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
            escape_formulas(chunk).to_csv(handle, index=False, header=rows == 0, lineterminator=CSV_LINE_END)
            rows += len(chunk)
    return rows


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The escaped CSV of ``frame`` as UTF-8 bytes (for downloads)."""
    return escape_formulas(frame).to_csv(index=False, lineterminator=CSV_LINE_END).encode("utf-8")


def safe_file_name(stem: str, extension: str, *, max_length: int = 120) -> str:
    """A download file name made of ``[A-Za-z0-9_.-]`` only: other runs of characters become ``_``.

    Examples
    --------
    >>> safe_file_name("fairgen_my data (v2)/../x_synthetic_400", "csv")
    'fairgen_my_data_v2_.._x_synthetic_400.csv'
    >>> safe_file_name("<script>", ".html")
    'script.html'
    """
    clean = _UNSAFE.sub("_", stem).strip("._-")[:max_length] or "fairgen"
    return f"{clean}.{_UNSAFE.sub('', extension).strip('.')}"


def with_identifiers(rows: pd.DataFrame, id_columns: Iterable[str], real: pd.DataFrame,
                     ids: IdChoice = "fresh") -> pd.DataFrame:
    """``rows`` with each identifier column numbered afresh so that no value equals one in ``real``, or left out.

    Parameters
    ----------
    rows : pandas.DataFrame
        Synthetic rows.
    id_columns : iterable of str
        Their identifier columns (``FairGenerator.assembler.id_columns``).
    real : pandas.DataFrame
        The real table whose identifiers the fresh ones must avoid.
    ids : {"fresh", "omit"}
        Fresh identifiers (1, 2, … counted from above the real ones), or no identifier column.

    Raises
    ------
    FairGenError
        If ``ids`` is not one of :data:`ID_CHOICES`.

    Examples
    --------
    >>> real = pd.DataFrame({"ID": [5, 9], "x": [1, 2]})
    >>> with_identifiers(pd.DataFrame({"ID": [1, 9], "x": [3, 4]}), ["ID"], real)["ID"].tolist()
    [10, 11]
    >>> list(with_identifiers(real, ["ID"], real, "omit").columns)
    ['x']
    """
    if ids not in ID_CHOICES:
        raise FairGenError(f"unknown choice '{ids}' for the identifier columns: choose one of {', '.join(ID_CHOICES)}.")
    columns = [c for c in id_columns if c in rows.columns]
    if ids == "omit":
        return rows.drop(columns=columns)
    out = rows.copy()
    for column in columns:
        values = fresh_ids(fresh_id_start(real[column]) if column in real.columns else 1, 1, len(rows))
        out[column] = pd.Series(values, index=rows.index).astype(rows[column].dtype, errors="ignore")
    return out


def synthetic_rows(model: FairGenerator, n: int, real: pd.DataFrame, *, seed: int = 0,
                   ids: IdChoice = "fresh") -> pd.DataFrame:
    """``n`` balanced synthetic rows (:meth:`FairGenerator.sample`) with identifiers as chosen (see
    :func:`with_identifiers`; ``real`` is the table the model was trained on)."""
    return with_identifiers(model.sample(n, seed=seed), model.assembler.id_columns, real, ids)


def translated_pairs(model: FairGenerator, frame: pd.DataFrame, split: Split, *, seed: int = 0,
                     ids: IdChoice = "fresh") -> pd.DataFrame:
    """Every real training row followed by its synthetic counterpart in the paper's target domain.

    Parameters
    ----------
    model : FairGenerator
        The trained translator.
    frame : pandas.DataFrame
        The table it was trained on.
    split : Split
        The run's split; its training rows with a label and sensitive values are translated.
    seed : int
        Seed of the target draw and the latent noise (:meth:`FairGenerator.translate`).
    ids : {"fresh", "omit"}
        The synthetic rows' identifiers: fresh ones that equal no real identifier, or empty cells. Never the
        source row's.

    Returns
    -------
    pandas.DataFrame
        Two rows per pair: ``fairgen_pair`` (1-based pair number), ``fairgen_row`` (``real`` or
        ``synthetic``), ``fairgen_domain`` (the row's group · label), then the original columns and dtypes.
    """
    real = frame.iloc[split.train]
    assignment = assign_domains(real, model.spec)
    real = real[assignment.valid]
    source = assignment.domain[assignment.valid]
    synthetic = with_identifiers(model.translate(real, seed=seed), model.assembler.id_columns, frame, ids)
    synthetic = synthetic.reindex(columns=real.columns)
    target = model.paired_targets(source, seed=seed)  # the targets translate() drew with the same seed
    pair = pd.RangeIndex(1, len(real) + 1)
    sides = [
        side.reset_index(drop=True).assign(**{PAIR_COLUMNS[0]: pair, PAIR_COLUMNS[1]: kind,
                                              PAIR_COLUMNS[2]: [model.domain_names[d] for d in domains]})
        for side, kind, domains in ((real, "real", source), (synthetic[real.columns], "synthetic", target))
    ]
    pairs = pd.concat(sides, ignore_index=True).sort_values(PAIR_COLUMNS[0], kind="stable", ignore_index=True)
    return pairs[[*PAIR_COLUMNS, *real.columns]]
