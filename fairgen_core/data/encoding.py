"""Encode tables as model-ready matrices and back, with a per-column span layout.

Categorical and binary columns become one-hot blocks (a softmax span); numeric columns are divided by
their largest absolute training value, so they lie in [-1, 1] (the paper's normalisation). A column
with missing values gets one extra slot: an extra category, or for numerics a two-way
"present / missing" softmax span after the value. The layout tells the generator which output slice
gets which activation and loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairgen_core.data.schema import ColumnKind, ColumnSchema, Schema, numeric_values
from fairgen_core.errors import EncodingError

SpanKind = Literal["softmax", "numeric"]
MISSING_SUFFIX = "__missing"


@dataclass(frozen=True)
class Span:
    """A slice of the encoded matrix.

    Attributes
    ----------
    column : str
        Source column (for a missing-value indicator, the numeric column it belongs to).
    kind : {"softmax", "numeric"}
        ``softmax``: one-hot block, decoded by argmax; ``numeric``: one scaled value in [-1, 1].
    start, stop : int
        Slice bounds in the encoded matrix.
    is_missing_indicator : bool
        True for the ``(present, missing)`` span of a numeric column with missing values.
    """

    column: str
    kind: SpanKind
    start: int
    stop: int
    is_missing_indicator: bool = False

    @property
    def width(self) -> int:
        """Number of encoded columns in the span."""
        return self.stop - self.start

    @property
    def slice(self) -> slice:
        """The span as a Python slice."""
        return slice(self.start, self.stop)


@dataclass(frozen=True)
class ColumnCodec:
    """Fitted parameters of one column (JSON-serialisable)."""

    name: str
    kind: Literal["categorical", "numeric"]
    dtype: str
    has_missing: bool
    categories: tuple[Any, ...] = ()
    scale: float = 1.0
    minimum: float = 0.0
    maximum: float = 0.0
    integer: bool = False

    @property
    def width(self) -> int:
        """Encoded width of the column, including its missing slot."""
        if self.kind == "categorical":
            return len(self.categories) + int(self.has_missing)
        return 1 + 2 * int(self.has_missing)


class TabularEncoder:
    """Fit on the training split, then encode/decode any split.

    Parameters
    ----------
    schema : Schema
        Column kinds; numeric columns are scaled, categorical and binary ones one-hot encoded.
    columns : sequence of str, optional
        Columns to encode, in this order; defaults to every modelled column of ``schema``.

    Examples
    --------
    >>> from fairgen_core.data.schema import infer_schema
    >>> df = pd.DataFrame({"age": [20, 40, 30], "sex": ["F", "M", "F"]})
    >>> enc = TabularEncoder(infer_schema(df)).fit(df)
    >>> enc.transform(df).tolist()[0]
    [0.5, 1.0, 0.0]
    >>> enc.inverse_transform(enc.transform(df)).equals(df)
    True
    """

    def __init__(self, schema: Schema, columns: Sequence[str] | None = None) -> None:
        self.schema = schema
        self.columns = tuple(columns) if columns is not None else schema.feature_names()
        for name in self.columns:
            if not schema.kind(name).is_feature:
                raise EncodingError(
                    f"column '{name}' is {schema.kind(name).value}, so it cannot be encoded: "
                    "set its kind to numeric or categorical, or leave it out."
                )
        self._codecs: tuple[ColumnCodec, ...] | None = None

    # -- fitting -----------------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame) -> TabularEncoder:
        """Learn categories and scales from ``frame`` (the training split only)."""
        self._require_columns(frame)
        if frame.empty:
            raise EncodingError("cannot fit the encoder on an empty table: the training split has no rows.")
        self._codecs = tuple(self._fit_column(frame[name], name) for name in self.columns)
        return self

    def _fit_column(self, series: pd.Series, name: str) -> ColumnCodec:
        kind = self.schema.kind(name)
        has_missing = bool(series.isna().any())
        if kind is ColumnKind.NUMERIC:
            values = numeric_values(series)
            has_missing = bool(values.isna().any())
            finite = values.dropna()
            if finite.empty:
                raise EncodingError(
                    f"numeric column '{name}' has no finite values in the training split: "
                    "drop the column or make it categorical."
                )
            scale = float(finite.abs().max()) or 1.0
            integer = bool(np.all(np.mod(finite.to_numpy(), 1) == 0))
            return ColumnCodec(name, "numeric", str(series.dtype), has_missing, scale=scale,
                               minimum=float(finite.min()), maximum=float(finite.max()), integer=integer)
        categories = tuple(plain_value(v) for v in sorted(series.dropna().unique().tolist(), key=_sort_key))
        if not categories:
            raise EncodingError(
                f"column '{name}' has no values in the training split: drop it or fill its missing values."
            )
        return ColumnCodec(name, "categorical", str(series.dtype), has_missing, categories=categories)

    # -- layout ------------------------------------------------------------------------------------
    @property
    def codecs(self) -> tuple[ColumnCodec, ...]:
        """Fitted per-column parameters."""
        if self._codecs is None:
            raise EncodingError("the encoder is not fitted: call fit() on the training split first.")
        return self._codecs

    @property
    def layout(self) -> tuple[Span, ...]:
        """The span layout of the encoded matrix, in column order."""
        spans: list[Span] = []
        start = 0
        for codec in self.codecs:
            if codec.kind == "categorical":
                spans.append(Span(codec.name, "softmax", start, start + codec.width))
            else:
                spans.append(Span(codec.name, "numeric", start, start + 1))
                if codec.has_missing:
                    spans.append(Span(codec.name, "softmax", start + 1, start + 3, is_missing_indicator=True))
            start += codec.width
        return tuple(spans)

    @property
    def n_features(self) -> int:
        """Width of the encoded matrix."""
        return sum(codec.width for codec in self.codecs)

    def feature_names(self) -> tuple[str, ...]:
        """Names of the encoded columns, e.g. ``sex=Male``, ``age``, ``age__missing``."""
        names: list[str] = []
        for codec in self.codecs:
            if codec.kind == "categorical":
                names += [f"{codec.name}={c}" for c in codec.categories]
                names += [f"{codec.name}{MISSING_SUFFIX}"] if codec.has_missing else []
            else:
                names.append(codec.name)
                names += [f"{codec.name}__present", f"{codec.name}{MISSING_SUFFIX}"] if codec.has_missing else []
        return tuple(names)

    # -- encoding ----------------------------------------------------------------------------------
    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode ``frame`` as a float32 matrix of width :attr:`n_features`.

        Unseen categories and missing values in columns that had none in training encode as all-zero
        one-hot blocks; numeric missing values encode as 0 with the missing indicator set.
        """
        self._require_columns(frame)
        out = np.zeros((len(frame), self.n_features), dtype=np.float32)
        start = 0
        for codec in self.codecs:
            series = frame[codec.name]
            if codec.kind == "categorical":
                codes = pd.Index(list(codec.categories)).get_indexer(series).astype(np.int64)
                if codec.has_missing:
                    codes = np.where(series.isna().to_numpy(), len(codec.categories), codes)
                rows = np.flatnonzero(codes >= 0)
                out[rows, start + codes[rows]] = 1.0
            else:
                values = numeric_values(series).to_numpy()
                missing = np.isnan(values)
                out[:, start] = np.where(missing, 0.0, values / codec.scale)
                if codec.has_missing:
                    out[:, start + 1] = ~missing
                    out[:, start + 2] = missing
            start += codec.width
        return out

    def inverse_transform(self, matrix: np.ndarray) -> pd.DataFrame:
        """Decode a matrix (encoded rows or generator output) into a table of the original columns.

        Softmax spans decode by argmax, so categorical values are always valid categories; numerics are
        rescaled, clipped to the training range, rounded for integer columns; dtypes are restored.
        """
        matrix = np.asarray(matrix)
        if matrix.ndim != 2 or matrix.shape[1] != self.n_features:
            raise EncodingError(
                f"expected a matrix with {self.n_features} columns, got shape {matrix.shape}: "
                "decode with the encoder that produced the data."
            )
        columns: dict[str, pd.Series] = {}
        start = 0
        for codec in self.codecs:
            block = matrix[:, start:start + codec.width]
            columns[codec.name] = (_decode_categorical if codec.kind == "categorical" else _decode_numeric)(
                codec, block
            )
            start += codec.width
        return pd.DataFrame(columns)

    # -- persistence -------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description of the fitted encoder."""
        return {
            "columns": list(self.columns),
            "schema": [{**asdict(c), "kind": c.kind.value} for c in self.schema.columns],
            "codecs": [{**asdict(codec), "categories": list(codec.categories)} for codec in self.codecs],
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> TabularEncoder:
        """Rebuild a fitted encoder from :meth:`state_dict` output."""
        try:
            schema = Schema(tuple(
                ColumnSchema(**{**c, "kind": ColumnKind(c["kind"])}) for c in state["schema"]
            ))
            encoder = cls(schema, state["columns"])
            encoder._codecs = tuple(
                ColumnCodec(**{**c, "categories": tuple(c["categories"])}) for c in state["codecs"]
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise EncodingError(f"the saved encoder state is invalid ({exc}): re-fit the model.") from exc
        return encoder

    def _require_columns(self, frame: pd.DataFrame) -> None:
        absent = [c for c in self.columns if c not in frame.columns]
        if absent:
            raise EncodingError(
                f"column(s) {', '.join(map(repr, absent))} are missing from the data: the encoder was fitted "
                "on a table that had them; use data with the same columns."
            )


def _decode_categorical(codec: ColumnCodec, block: np.ndarray) -> pd.Series:
    codes = block.argmax(axis=1)
    lookup = np.array([*codec.categories, None], dtype=object)
    values = lookup[np.minimum(codes, len(codec.categories))]
    return _restore_dtype(pd.Series(values, dtype=object), codec.dtype, codec.categories)


def _decode_numeric(codec: ColumnCodec, block: np.ndarray) -> pd.Series:
    values = np.clip(block[:, 0].astype(np.float64) * codec.scale, codec.minimum, codec.maximum)
    if codec.integer:
        values = np.rint(values)
    if codec.has_missing:
        values = np.where(block[:, 2] > block[:, 1], np.nan, values)
    series = pd.Series(values)
    if np.isnan(values).any() and codec.dtype.startswith(("int", "uint")):
        return series.astype("Int64")
    return _restore_dtype(series, codec.dtype, ())


def _restore_dtype(series: pd.Series, dtype: str, categories: tuple[Any, ...]) -> pd.Series:
    if dtype == "category":
        return series.astype(pd.CategoricalDtype(list(categories)))
    if series.isna().any() and (dtype == "bool" or dtype.startswith(("int", "uint"))):
        return series  # the original dtype cannot hold missing values
    try:
        return series.astype(dtype)
    except (TypeError, ValueError):
        return series


def plain_value(value: Any) -> Any:
    """A NumPy scalar as the equivalent Python scalar (JSON and checkpoint friendly); others unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return (0, float(value))
    return (1, str(value))
