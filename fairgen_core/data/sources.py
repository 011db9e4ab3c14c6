"""One entry point for "some data": a built-in dataset name, a CSV path, or uploaded bytes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fairgen_core.data.datasets import BUILTIN_DATASETS, get_builtin
from fairgen_core.data.io import ReadLimits, describe_delimiter, read_csv
from fairgen_core.data.schema import Schema, infer_schema
from fairgen_core.data.spec import DatasetSpec
from fairgen_core.errors import DataReadError


@dataclass(frozen=True)
class DataSource:
    """A loaded table with its inferred schema and, for built-ins, the paper's specification.

    Attributes
    ----------
    name : str
        Built-in name or file name.
    frame : pandas.DataFrame
        The rows.
    schema : Schema
        Inferred column kinds (with a built-in's overrides).
    default_spec : DatasetSpec or None
        The built-in's specification; None for user files.
    notes : tuple of str
        What the reader and schema inference found worth telling (encoding, renamed columns, ID columns).
    """

    name: str
    frame: pd.DataFrame
    schema: Schema
    default_spec: DatasetSpec | None
    notes: tuple[str, ...]


def open_data(
    data: str | Path | bytes,
    *,
    name: str | None = None,
    file: str | Path | bytes | None = None,
    limits: ReadLimits = ReadLimits(),
) -> DataSource:
    """Load a built-in dataset by name, or read a CSV from a path or bytes.

    Parameters
    ----------
    data : str, pathlib.Path or bytes
        A built-in name (``adult``, ``compas``, ``german``, ``meps``), a CSV path, or CSV bytes.
    name : str, optional
        Display name for bytes input.
    file : str, pathlib.Path or bytes, optional
        The raw file for built-ins that need one (MEPS).
    limits : ReadLimits
        Size and row bounds for CSV input.

    Returns
    -------
    DataSource

    Raises
    ------
    DataReadError
        If the file cannot be read as a table or has a single column.
    """
    if isinstance(data, str) and data.strip().lower() in BUILTIN_DATASETS:
        dataset = get_builtin(data)
        frame = dataset.load(file)
        schema = dataset.schema(frame)
        return DataSource(dataset.name, frame, schema, dataset.default_spec(), schema.warnings())
    table = read_csv(data, name=name, limits=limits)
    if table.frame.shape[1] < 2:
        raise DataReadError(
            f"{table.source} has a single column ('{table.frame.columns[0]}'): FairGen needs a label column, a "
            "sensitive attribute and feature columns. If the file has more columns, its separator is not one of "
            "comma, semicolon, tab, pipe or space: save it as comma-separated CSV."
        )
    schema = infer_schema(table.frame)
    read_notes = (f"read as {table.encoding} text, delimiter '{describe_delimiter(table.delimiter)}', "
                  f"{'with' if table.has_header else 'without'} a header row",)
    return DataSource(table.source.strip("'"), table.frame, schema, None,
                      read_notes + table.warnings + schema.warnings())

