"""Column kinds: inferred from the data, editable by the caller."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np
import pandas as pd

from fairgen_core.errors import SchemaError

TARGET_WORDS: frozenset[str] = frozenset({
    "label", "target", "class", "outcome", "y", "default", "income", "result", "decision", "response",
    "approved", "approval", "hired", "admitted", "churn", "fraud", "recid", "recidivism", "survived", "arrested",
    "diagnosis", "success", "pass", "passed", "frisked",
})
"""Words that make a column name look like a prediction target (see :func:`suggest_label`)."""
PREDICTION_WORDS: frozenset[str] = frozenset({
    "score", "scores", "scoring", "pred", "preds", "prediction", "predictions", "predicted", "predict", "prob",
    "probs", "proba", "probability", "probabilities", "yhat", "propensity", "logit",
})
"""Words that make a column name look like a model's output (see :func:`suggest_predictions`)."""
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


class ColumnKind(StrEnum):
    """How a column is treated by the encoder and the generator."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BINARY = "binary"
    ID = "id"
    CONSTANT = "constant"
    #: The user's own model's predictions or scores: audited (Model audit), never modelled nor generated.
    PREDICTION = "prediction"
    #: A column that leaks the label or a sensitive attribute (see :func:`fairgen_core.data.structure.exclude_leaks`):
    #: kept in the table, but neither modelled by the generator nor an input of its classifiers or the data audit.
    LEAK = "leak"

    @property
    def is_feature(self) -> bool:
        """Whether columns of this kind are modelled (ID-like, constant, prediction and leaking columns are not)."""
        return self in (ColumnKind.NUMERIC, ColumnKind.CATEGORICAL, ColumnKind.BINARY)


@dataclass(frozen=True)
class ColumnSchema:
    """What is known about one column.

    Attributes
    ----------
    name : str
        Column name.
    kind : ColumnKind
        Inferred or user-chosen kind.
    dtype : str
        The pandas dtype as read.
    n_unique : int
        Distinct non-missing values.
    n_missing : int
        Missing values (NaN, and infinities in numeric columns).
    integer_valued : bool
        Numeric column whose non-missing values are all whole numbers.
    numeric : bool
        Whether the values are numbers (so the column may be treated as numeric).
    n_non_numeric : int
        For text columns inferred as numeric: values that are not numbers (read as missing).
    """

    name: str
    kind: ColumnKind
    dtype: str
    n_unique: int
    n_missing: int
    integer_valued: bool = False
    numeric: bool = False
    n_non_numeric: int = 0


@dataclass(frozen=True)
class InferenceRules:
    """Thresholds used by :func:`infer_schema`.

    Parameters
    ----------
    id_unique_fraction : float
        A text column whose share of distinct values reaches this is ID-like.
    max_categories : int
        A text column with more distinct values than this (and not ID-like) is still categorical but
        flagged through :meth:`Schema.warnings`.
    numeric_text_fraction : float
        A text column whose non-missing values parse as numbers at least this often is numeric.
    """

    id_unique_fraction: float = 0.5
    max_categories: int = 100
    numeric_text_fraction: float = 0.95


@dataclass(frozen=True)
class Schema:
    """Kinds of all columns of a table, in the table's order."""

    columns: tuple[ColumnSchema, ...]
    rules: InferenceRules = InferenceRules()

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in order."""
        return tuple(c.name for c in self.columns)

    def __getitem__(self, name: str) -> ColumnSchema:
        for column in self.columns:
            if column.name == name:
                return column
        raise SchemaError(f"column '{name}' is not in the data: choose one of {_preview(self.names)}.")

    def kind(self, name: str) -> ColumnKind:
        """Return the kind of column ``name``."""
        return self[name].kind

    def with_kinds(self, kinds: Mapping[str, ColumnKind | str]) -> Schema:
        """Return a copy with some columns' kinds overridden by the caller.

        Raises
        ------
        SchemaError
            If a column is unknown, or a kind cannot apply (numeric on text, binary with >2 values).
        """
        overrides = {name: ColumnKind(kind) for name, kind in kinds.items()}
        columns = []
        for column in self.columns:
            new_kind = overrides.pop(column.name, column.kind)
            _check_kind_allowed(column, new_kind)
            columns.append(replace(column, kind=new_kind))
        if overrides:
            self[next(iter(overrides))]  # raises with the list of valid names
        return replace(self, columns=tuple(columns))

    def feature_names(self, exclude: tuple[str, ...] = ()) -> tuple[str, ...]:
        """Names of modelled columns (numeric, categorical, binary) not in ``exclude``."""
        return tuple(c.name for c in self.columns if c.kind.is_feature and c.name not in exclude)

    def warnings(self) -> tuple[str, ...]:
        """Findings a user should see: columns that will be ignored, mixed types, huge category sets."""
        notes = []
        for c in self.columns:
            if c.kind is ColumnKind.ID:
                notes.append(f"column '{c.name}' looks like an identifier ({c.n_unique:,} distinct values) and "
                             "is not modelled; set its kind to categorical or numeric to use it.")
            elif c.kind is ColumnKind.LEAK:
                notes.append(f"column '{c.name}' leaks the label or a sensitive attribute and is left out of the "
                             "models' inputs; set its kind back to numeric or categorical to keep it.")
            elif c.kind is ColumnKind.CONSTANT and not c.n_unique:
                notes.append(f"column '{c.name}' is empty (all values are missing) and is not modelled.")
            elif c.kind is ColumnKind.CONSTANT:
                notes.append(f"column '{c.name}' has a single value and is not modelled.")
            elif c.kind is ColumnKind.NUMERIC and c.n_non_numeric:
                notes.append(f"column '{c.name}' is numeric but has {c.n_non_numeric:,} non-numeric value(s); "
                             "they are treated as missing. Fix them in the file or set the kind to categorical.")
            elif c.kind is ColumnKind.CATEGORICAL and c.n_unique > self.rules.max_categories:
                notes.append(f"column '{c.name}' has {c.n_unique:,} categories; consider dropping it or "
                             "grouping rare values.")
        return tuple(notes)


def infer_schema(frame: pd.DataFrame, rules: InferenceRules = InferenceRules()) -> Schema:
    """Infer each column's kind from its values.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table as read.
    rules : InferenceRules
        Thresholds for ID-like and numeric-as-text detection.

    Returns
    -------
    Schema
        One :class:`ColumnSchema` per column, in order.

    Examples
    --------
    >>> df = pd.DataFrame({"age": [20, 30, 40], "sex": ["F", "M", "F"], "c": [1, 1, 1]})
    >>> [c.kind.value for c in infer_schema(df).columns]
    ['numeric', 'binary', 'constant']
    """
    return Schema(tuple(_infer_column(frame[name], str(name), rules) for name in frame.columns), rules)


def suggest_label(schema: Schema) -> str:
    """The column most likely to be the label, as a default choice for a file without a specification.

    The first rule that finds a column wins; within a rule the rightmost column (targets tend to come last):

    1. a binary column whose name looks like a target: one of its words (split at non-letters and at
       camelCase humps) is in :data:`TARGET_WORDS`, e.g. ``default payment next month``, ``Outcome``,
       ``isFraud``, ``y``;
    2. a categorical column whose name looks like a target;
    3. a binary column that is not part of a one-hot group (two or more binary columns named
       ``PREFIX_VALUE`` with the same prefix, e.g. ``MARRIAGE_1``, ``MARRIAGE_2``);
    4. any binary column;
    5. the last column.

    Parameters
    ----------
    schema : Schema
        The table's column kinds.

    Returns
    -------
    str
        A column name.

    Examples
    --------
    >>> df = pd.DataFrame({"default payment": [0, 1, 0], "SEX": [1, 2, 1], "MARRIAGE_1": [0, 1, 1],
    ...                    "MARRIAGE_2": [1, 0, 0]})
    >>> suggest_label(infer_schema(df))
    'default payment'
    >>> suggest_label(infer_schema(df.drop(columns="default payment")))
    'SEX'
    """
    binary = [c.name for c in schema.columns if c.kind is ColumnKind.BINARY]
    categorical = [c.name for c in schema.columns if c.kind is ColumnKind.CATEGORICAL]
    one_hot = _one_hot_columns(binary)
    for candidates in (
        [n for n in binary if _looks_like_target(n)],
        [n for n in categorical if _looks_like_target(n)],
        [n for n in binary if n not in one_hot],
        binary,
    ):
        if candidates:
            return candidates[-1]
    return schema.names[-1]


def suggest_predictions(schema: Schema, exclude: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Columns that look like a model's predictions or scores, as a default choice on the Data page.

    A column is suggested when its values are numbers (or true/false) and one of its name's words (split as for
    :func:`suggest_label`) is in :data:`PREDICTION_WORDS`, e.g. ``score``, ``decile_score``, ``y_pred``,
    ``predicted``, ``prob_default``, ``riskScore``; text columns such as ``score_text`` are not.

    Parameters
    ----------
    schema : Schema
        The table's column kinds.
    exclude : tuple of str
        Columns never suggested (the label and the sensitive attributes).

    Returns
    -------
    tuple of str
        The suggested columns, in table order; empty when none looks like a prediction.

    Examples
    --------
    >>> df = pd.DataFrame({"age": [20, 30, 40], "decile_score": [1, 5, 9], "score_text": ["Low", "Med", "High"],
    ...                    "y_pred": [0, 1, 1], "two_year_recid": [0, 1, 0], "problems": [1, 2, 3]})
    >>> suggest_predictions(infer_schema(df), exclude=("two_year_recid",))
    ('decile_score', 'y_pred')
    """
    return tuple(c.name for c in schema.columns
                 if c.name not in exclude and (c.numeric or c.dtype == "bool") and c.kind is not ColumnKind.CONSTANT
                 and any(word.lower() in PREDICTION_WORDS for word in _WORD.findall(c.name)))


def _looks_like_target(name: str) -> bool:
    return any(word.lower() in TARGET_WORDS for word in _WORD.findall(name))


def _one_hot_columns(names: list[str]) -> set[str]:
    prefixes = Counter(name.rpartition("_")[0] for name in names if "_" in name)
    return {name for name in names if "_" in name and prefixes[name.rpartition("_")[0]] >= 2}


def numeric_values(series: pd.Series) -> pd.Series:
    """Return ``series`` as float64 with non-numbers and infinities as NaN."""
    values = pd.to_numeric(series, errors="coerce") if not _is_numeric_dtype(series) else series
    values = values.astype("float64")
    return values.where(np.isfinite(values))


def _is_numeric_dtype(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _infer_column(series: pd.Series, name: str, rules: InferenceRules) -> ColumnSchema:
    present = series.dropna()
    n_rows = len(series)
    n_unique = int(present.nunique())
    dtype = str(series.dtype)
    if _is_numeric_dtype(series) or _mostly_numeric(present, rules):
        values = numeric_values(series)
        finite = values.dropna()
        n_non_numeric = int(present.size - finite.size) if not _is_numeric_dtype(series) else 0
        integer_valued = bool(finite.size) and bool(np.all(np.mod(finite.to_numpy(), 1) == 0))
        n_unique = int(finite.nunique())
        kind = _numeric_kind(n_unique, n_rows, integer_valued)
        return ColumnSchema(
            name, kind, dtype, n_unique, int(values.isna().sum()), integer_valued, True, n_non_numeric
        )
    if n_unique <= 1:
        kind = ColumnKind.CONSTANT
    elif n_unique == 2:
        kind = ColumnKind.BINARY
    elif n_rows >= 20 and n_unique >= rules.id_unique_fraction * present.size:
        kind = ColumnKind.ID
    else:
        kind = ColumnKind.CATEGORICAL
    return ColumnSchema(name, kind, dtype, n_unique, int(series.isna().sum()))


def _mostly_numeric(present: pd.Series, rules: InferenceRules) -> bool:
    if present.empty or pd.api.types.is_bool_dtype(present):
        return False
    parsed = pd.to_numeric(present, errors="coerce")
    return bool(parsed.notna().mean() >= rules.numeric_text_fraction)


def _numeric_kind(n_unique: int, n_rows: int, integer_valued: bool) -> ColumnKind:
    if n_unique <= 1:
        return ColumnKind.CONSTANT
    if n_unique == 2:
        return ColumnKind.BINARY
    if integer_valued and n_rows >= 20 and n_unique == n_rows:
        return ColumnKind.ID
    return ColumnKind.NUMERIC


def _check_kind_allowed(column: ColumnSchema, kind: ColumnKind) -> None:
    if kind is ColumnKind.NUMERIC and not column.numeric:
        raise SchemaError(
            f"column '{column.name}' holds text ({column.dtype}), so it cannot be numeric: "
            "keep it categorical or convert the values to numbers in the file."
        )
    if kind is ColumnKind.BINARY and column.n_unique > 2:
        raise SchemaError(
            f"column '{column.name}' has {column.n_unique} distinct values, so it cannot be binary: "
            "make it categorical."
        )


def _preview(names: tuple[str, ...], limit: int = 12) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f", … ({len(names)} columns)" if len(names) > limit else "")
