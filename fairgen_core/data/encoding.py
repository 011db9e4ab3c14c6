"""Encode tables as model-ready matrices and back, with a per-column span layout.

Categorical and binary columns become one-hot blocks (a softmax span). A numeric column's present values go
through the map :class:`~fairgen_core.config.EncoderConfig` names (:mod:`fairgen_core.data.numeric`): divided by
their largest absolute training value, so they lie in [-1, 1] (the paper's normalisation, ``EncoderConfig()``;
the generator's own default is :attr:`~fairgen_core.config.GeneratorConfig.encoding`), a quantile map to normal
scores, or a Gaussian mixture's mode (a softmax span after the value) and offset. With ``point_mass``, a numeric
column whose most common value holds a large share gets a two-way "other / that value" softmax span, and its map
is fitted on the other values. A column with missing values gets one extra slot: an extra category, or for
numerics a two-way "present / missing" softmax span last. The layout tells the generator which output slice gets
which activation and loss: softmax, tanh (``numeric``, values in [-1, 1]) or none (``normal``, unbounded scores).

With :attr:`~fairgen_core.config.EncoderConfig.fold_one_hot`, a group of 0/1 columns of which every row has exactly
one 1 (or at most one) is folded into one softmax span, one slot per member (plus a "none" slot for an at-most-one
group), and written back as one-hot: a decoded row always has one 1 in the group, and the generator learns one
categorical instead of independent binaries.

Decoding inverts every step exactly on training values (up to float32 rounding; integer columns are rounded),
clips numerics to the training range and keeps categorical values among the training categories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairgen_core.config import EncoderConfig
from fairgen_core.data.numeric import MaxAbs, NumericMap, fit_map, map_from_dict, point_mass
from fairgen_core.data.rules import equals, is_one, is_zero
from fairgen_core.data.schema import ColumnKind, ColumnSchema, Schema, numeric_values
from fairgen_core.errors import EncodingError

SpanKind = Literal["softmax", "numeric", "normal"]
MISSING_SUFFIX = "__missing"
NONE_SUFFIX = "__none"
MODE_SUFFIX = "__mode"
OTHER_SUFFIX = "__other"


@dataclass(frozen=True)
class Span:
    """A slice of the encoded matrix.

    Attributes
    ----------
    column : str
        Source column (for a missing-value indicator, the numeric column it belongs to).
    kind : {"softmax", "numeric", "normal"}
        ``softmax``: one-hot block, decoded by argmax (categories, a numeric column's modes, point mass or
        missing slot); ``numeric``: one encoded value in [-1, 1]; ``normal``: one unbounded encoded value.
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

    @property
    def is_value(self) -> bool:
        """True for a numeric column's encoded value (``numeric`` or ``normal``)."""
        return self.kind != "softmax"


@dataclass(frozen=True)
class ColumnCodec:
    """Fitted parameters of one column (:meth:`to_dict` is JSON-serialisable).

    Attributes
    ----------
    name : str
        The column; a folded one-hot group's members joined by " | ".
    kind : {"categorical", "numeric", "one_hot"}
        ``one_hot``: a folded group of 0/1 columns (:attr:`members`).
    numeric : NumericMap or None
        A numeric column's map of its present values other than ``point``.
    point : float or None
        A numeric column's point mass: the value with its own indicator span (None: none).
    members : tuple of str
        A folded group's columns, one slot each.
    at_most_one : bool
        A folded group whose rows may have no 1: one more slot, "none".
    member_values : tuple
        A folded group's (zero, one) values as the training rows write them (e.g. ``(0, 1)`` or ``(False, True)``).
    """

    name: str
    kind: Literal["categorical", "numeric", "one_hot"]
    dtype: str
    has_missing: bool
    categories: tuple[Any, ...] = ()
    minimum: float = 0.0
    maximum: float = 0.0
    integer: bool = False
    numeric: NumericMap | None = None
    point: float | None = None
    members: tuple[str, ...] = ()
    at_most_one: bool = False
    member_values: tuple[Any, ...] = ()

    @property
    def width(self) -> int:
        """Encoded width of the column, including its missing slot."""
        if self.kind == "categorical":
            return len(self.categories) + int(self.has_missing)
        if self.kind == "one_hot":
            return len(self.members) + int(self.at_most_one) + int(self.has_missing)
        return 1 + self.value_map.n_modes + 2 * int(self.point is not None) + 2 * int(self.has_missing)

    @property
    def value_map(self) -> NumericMap:
        """A numeric column's map (an :class:`EncodingError` for a categorical one)."""
        if self.numeric is None:
            raise EncodingError(f"column '{self.name}' is categorical: it has no numeric map.")
        return self.numeric

    def spans(self, start: int) -> list[Span]:
        """The column's spans from encoded position ``start``: value, modes, point mass, missing slot."""
        if self.kind != "numeric":
            return [Span(self.name, "softmax", start, start + self.width)]
        value_map = self.value_map
        spans = [Span(self.name, "numeric" if value_map.bounded else "normal", start, start + 1)]
        position = start + 1
        for width, present in ((value_map.n_modes, value_map.n_modes > 0), (2, self.point is not None)):
            if present:
                spans.append(Span(self.name, "softmax", position, position + width))
                position += width
        if self.has_missing:
            spans.append(Span(self.name, "softmax", position, position + 2, is_missing_indicator=True))
        return spans

    def feature_columns(self) -> list[str]:
        """The source column of each encoded feature (a folded group's extra slots count as its first member's)."""
        if self.kind != "one_hot":
            return [self.name] * self.width
        return [*self.members, *[self.members[0]] * (self.width - len(self.members))]

    def feature_names(self) -> list[str]:
        """Names of the column's encoded features, e.g. ``sex=Male``, ``age``, ``age__mode0``, ``age__missing``."""
        if self.kind == "categorical":
            return [f"{self.name}={c}" for c in self.categories] + [f"{self.name}{MISSING_SUFFIX}"] * self.has_missing
        if self.kind == "one_hot":
            return [*self.members, *[f"{self.name}{NONE_SUFFIX}"] * self.at_most_one,
                    *[f"{self.name}{MISSING_SUFFIX}"] * self.has_missing]
        names = [self.name] + [f"{self.name}{MODE_SUFFIX}{k}" for k in range(self.value_map.n_modes)]
        names += [f"{self.name}{OTHER_SUFFIX}", f"{self.name}={self.point:g}"] if self.point is not None else []
        return names + ([f"{self.name}__present", f"{self.name}{MISSING_SUFFIX}"] if self.has_missing else [])

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary (see :meth:`from_dict`)."""
        state = {**asdict(self), "categories": list(self.categories)}
        state["numeric"] = None if self.numeric is None else self.numeric.to_dict()
        return state

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> ColumnCodec:
        """Rebuild from :meth:`to_dict`; a numeric codec saved before the maps existed (its ``scale`` and no
        ``numeric``) gets the max-abs map it was fitted with."""
        values = {k: v for k, v in state.items() if k != "scale"}
        values["categories"] = tuple(state["categories"])
        values["members"] = tuple(state.get("members", ()))
        values["member_values"] = tuple(state.get("member_values", ()))
        if state["kind"] == "numeric":
            saved = state.get("numeric")
            values["numeric"] = MaxAbs(float(state["scale"])) if saved is None else map_from_dict(saved)
        return cls(**values)


@dataclass(frozen=True)
class OneHotGroup:
    """Columns of which every row has exactly one 1 (or at most one, ``at_most_one``): a one-hot group of
    :class:`~fairgen_core.data.rules.Structure`, to fold into one softmax span."""

    members: tuple[str, ...]
    at_most_one: bool = False


class TabularEncoder:
    """Fit on the training split, then encode/decode any split.

    Parameters
    ----------
    schema : Schema
        Column kinds; numeric columns are scaled, categorical and binary ones one-hot encoded.
    columns : sequence of str, optional
        Columns to encode, in this order; defaults to every modelled column of ``schema``.
    config : EncoderConfig
        How numeric columns are encoded (default: the paper's max-abs scaling) and whether one-hot groups fold.
    one_hot_groups : sequence of OneHotGroup
        Groups to fold into one span when ``config.fold_one_hot``: those whose members are all among ``columns``
        and hold only 0/1 values in the training rows (at its first member's place; the others are skipped).

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

    def __init__(self, schema: Schema, columns: Sequence[str] | None = None,
                 config: EncoderConfig = EncoderConfig(), one_hot_groups: Sequence[OneHotGroup] = ()) -> None:
        self.schema = schema
        self.config = config
        self.columns = tuple(columns) if columns is not None else schema.feature_names()
        self.one_hot_groups = tuple(g for g in one_hot_groups if config.fold_one_hot and len(g.members) > 1
                                    and set(g.members) <= set(self.columns))
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
        folded = {g.members[0]: codec for g in self.one_hot_groups if (codec := _fit_group(frame, g)) is not None}
        skipped = {m for codec in folded.values() for m in codec.members[1:]}
        self._codecs = tuple(folded.get(name) or self._fit_column(frame[name], name)
                             for name in self.columns if name not in skipped)
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
            present = finite.to_numpy()
            point = point_mass(present, self.config.point_mass)
            integer = bool(np.all(np.mod(present, 1) == 0))
            value_map = fit_map(present if point is None else present[present != point], self.config)
            return ColumnCodec(name, "numeric", str(series.dtype), has_missing, minimum=float(present.min()),
                               maximum=float(present.max()), integer=integer, numeric=value_map, point=point)
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
            spans += codec.spans(start)
            start += codec.width
        return tuple(spans)

    @property
    def n_features(self) -> int:
        """Width of the encoded matrix."""
        return sum(codec.width for codec in self.codecs)

    def feature_names(self) -> tuple[str, ...]:
        """Names of the encoded columns (:meth:`ColumnCodec.feature_names`), e.g. ``sex=Male``, ``age``."""
        return tuple(name for codec in self.codecs for name in codec.feature_names())

    def feature_columns(self) -> tuple[str, ...]:
        """The source column of every encoded column (:meth:`ColumnCodec.feature_columns`)."""
        return tuple(name for codec in self.codecs for name in codec.feature_columns())

    # -- encoding ----------------------------------------------------------------------------------
    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode ``frame`` as a float32 matrix of width :attr:`n_features`.

        Unseen categories and missing values in columns that had none in training encode as all-zero
        one-hot blocks; a numeric missing value, or a numeric column's point mass, encodes as 0 in the first mode
        with its indicator set.
        """
        self._require_columns(frame)
        out = np.zeros((len(frame), self.n_features), dtype=np.float32)
        start = 0
        for codec in self.codecs:
            block = out[:, start:start + codec.width]
            if codec.kind == "one_hot":
                _encode_group(codec, frame, block)
            elif codec.kind == "categorical":
                series = frame[codec.name]
                codes = pd.Index(list(codec.categories)).get_indexer(series).astype(np.int64)
                if codec.has_missing:
                    codes = np.where(series.isna().to_numpy(), len(codec.categories), codes)
                rows = np.flatnonzero(codes >= 0)
                block[rows, codes[rows]] = 1.0
            else:
                _encode_numeric(codec, numeric_values(frame[codec.name]).to_numpy(), block)
            start += codec.width
        return out

    def inverse_transform(self, matrix: np.ndarray) -> pd.DataFrame:
        """Decode a matrix (encoded rows or generator output) into a table of the original columns.

        Softmax spans decode by argmax, so categorical values are always valid categories; numerics are
        mapped back, clipped to the training range, rounded for integer columns; dtypes are restored.
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
            if codec.kind == "one_hot":
                columns.update(_decode_group(codec, block))
            else:
                columns[codec.name] = (_decode_categorical if codec.kind == "categorical" else _decode_numeric)(
                    codec, block
                )
            start += codec.width
        return pd.DataFrame({name: columns[name] for name in self.columns})

    def max_abs_view(self) -> TabularEncoder:
        """This fitted encoder with the paper's encoding: the same columns and categories, every numeric column
        divided by its largest absolute training value, no point masses (the space the FID, its noise baseline
        and the other quality measures are defined in, whatever the model's encoding).

        Examples
        --------
        >>> from fairgen_core.data.schema import infer_schema
        >>> from fairgen_core.config import EncoderConfig
        >>> df = pd.DataFrame({"x": [-2.0, 1.0, 0.5, 4.0]})
        >>> enc = TabularEncoder(infer_schema(df), config=EncoderConfig(numeric="quantile")).fit(df)
        >>> enc.max_abs_view().transform(df)[:, 0].tolist()
        [-0.5, 0.25, 0.125, 1.0]
        """
        view = TabularEncoder(self.schema, self.columns)
        view._codecs = tuple(
            replace(codec, numeric=MaxAbs(max(abs(codec.minimum), abs(codec.maximum)) or 1.0), point=None)
            if codec.kind == "numeric" else codec for codec in self.codecs)
        return view

    # -- persistence -------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description of the fitted encoder."""
        return {
            "columns": list(self.columns),
            "schema": [{**asdict(c), "kind": c.kind.value} for c in self.schema.columns],
            "config": self.config.to_dict(),
            "codecs": [codec.to_dict() for codec in self.codecs],
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> TabularEncoder:
        """Rebuild a fitted encoder from :meth:`state_dict` output (a state saved before :class:`EncoderConfig`
        existed is the paper's max-abs encoder)."""
        try:
            schema = Schema(tuple(
                ColumnSchema(**{**c, "kind": ColumnKind(c["kind"])}) for c in state["schema"]
            ))
            config = EncoderConfig.from_dict(state["config"]) if "config" in state else EncoderConfig()
            encoder = cls(schema, state["columns"], config)
            encoder._codecs = tuple(ColumnCodec.from_dict(c) for c in state["codecs"])
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


def _fit_group(frame: pd.DataFrame, group: OneHotGroup) -> ColumnCodec | None:
    """A folded group's codec, or None when its members hold anything but one "0" and one "1" value."""
    present = pd.unique(pd.concat([frame[m] for m in group.members], ignore_index=True).dropna())
    ones = [plain_value(v) for v in present if is_one(v)]
    zeros = [plain_value(v) for v in present if not is_one(v)]
    if len(ones) != 1 or len(zeros) > 1 or (zeros and not is_zero(zeros[0])):
        return None
    zero = zeros[0] if zeros else type(ones[0])(0)
    has_missing = bool(frame[list(group.members)].isna().any().any())
    return ColumnCodec(" | ".join(group.members), "one_hot", str(frame[group.members[0]].dtype), has_missing,
                       members=group.members, at_most_one=group.at_most_one, member_values=(zero, ones[0]))


def _encode_group(codec: ColumnCodec, frame: pd.DataFrame, block: np.ndarray) -> None:
    """A folded group's slot per row: its first member at 1; "none" when none is (at-most-one groups); the missing
    slot when a member is missing. A row with no 1 in an exactly-one group (the rule's rare exception) encodes as
    an all-zero block, as an unseen category does."""
    ones = np.column_stack([equals(frame[m], codec.member_values[1]) for m in codec.members])
    missing = np.column_stack([frame[m].isna().to_numpy() for m in codec.members]).any(axis=1)
    some = ones.any(axis=1) & ~missing
    rows = np.arange(len(block))
    block[rows[some], ones[some].argmax(axis=1)] = 1.0
    if codec.at_most_one:
        block[rows[~some & ~missing], len(codec.members)] = 1.0
    if codec.has_missing:
        block[rows[missing], codec.width - 1] = 1.0


def _decode_group(codec: ColumnCodec, block: np.ndarray) -> dict[str, pd.Series]:
    """A folded group's members: 1 in the most probable slot's member, 0 elsewhere (all 0 for "none"), missing for
    the missing slot."""
    slot = block.argmax(axis=1)
    zero, one = codec.member_values
    missing = slot == codec.width - 1 if codec.has_missing else np.zeros(len(block), dtype=bool)
    out = {}
    for index, member in enumerate(codec.members):
        values = pd.Series(np.where(slot == index, one, zero), dtype=object)
        values[missing] = None
        out[member] = _restore_dtype(values, codec.dtype, ())
    return out


def _decode_categorical(codec: ColumnCodec, block: np.ndarray) -> pd.Series:
    codes = block.argmax(axis=1)
    lookup = np.array([*codec.categories, None], dtype=object)
    values = lookup[np.minimum(codes, len(codec.categories))]
    return _restore_dtype(pd.Series(values, dtype=object), codec.dtype, codec.categories)


def _encode_numeric(codec: ColumnCodec, values: np.ndarray, block: np.ndarray) -> None:
    """Write a numeric column's encoding of ``values`` (NaN: missing) into ``block``, its columns of the matrix.

    Every softmax span gets exactly one 1 per row, as the generator's softmax outputs do (a discriminator would
    otherwise tell real rows by an empty span): a missing value or the point mass encodes as value 0 in the first
    mode, and a missing value as "other" in the point-mass span.
    """
    value_map, missing = codec.value_map, np.isnan(values)
    at_point = ~missing & (values == codec.point) if codec.point is not None else np.zeros_like(missing)
    regular = ~missing & ~at_point
    encoded, mode = value_map.encode(values[regular])
    block[regular, 0] = encoded
    if mode is not None:
        block[:, 1] = ~regular
        block[np.flatnonzero(regular), 1 + mode] = 1.0
    position = 1 + value_map.n_modes
    if codec.point is not None:
        block[:, position] = ~at_point
        block[:, position + 1] = at_point
        position += 2
    if codec.has_missing:
        block[:, position] = ~missing
        block[:, position + 1] = missing


def _numeric_parts(codec: ColumnCodec, block: np.ndarray) -> tuple[np.ndarray, int]:
    """The map's decoding of a numeric block (unclipped), and the position of the spans after the modes."""
    value_map = codec.value_map
    mode = block[:, 1:1 + value_map.n_modes].argmax(axis=1) if value_map.n_modes else None
    return value_map.decode(block[:, 0].astype(np.float64), mode), 1 + value_map.n_modes


def numeric_score(codec: ColumnCodec, probabilities: np.ndarray) -> np.ndarray:
    """A numeric column's value in a block of decoder probabilities (softmax per span) as a continuous score:
    the map's value, unrounded, averaged with the point mass by the point mass's probability.

    Examples
    --------
    >>> from fairgen_core.data.schema import infer_schema
    >>> from fairgen_core.config import EncoderConfig
    >>> df = pd.DataFrame({"n": [0, 0, 0, 2]})
    >>> schema = infer_schema(df).with_kinds({"n": ColumnKind.NUMERIC})
    >>> enc = TabularEncoder(schema, config=EncoderConfig(point_mass=0.5)).fit(df)
    >>> enc.feature_names()
    ('n', 'n__other', 'n=0')
    >>> numeric_score(enc.codecs[0], np.array([[1.0, 0.25, 0.75]])).tolist()  # 0.25 · 2 + 0.75 · 0
    [0.5]
    """
    values, position = _numeric_parts(codec, probabilities)
    if codec.point is None:
        return values
    share = probabilities[:, position + 1]
    return share * codec.point + (1.0 - share) * values


def _decode_numeric(codec: ColumnCodec, block: np.ndarray) -> pd.Series:
    raw, position = _numeric_parts(codec, block)
    values = np.clip(raw, codec.minimum, codec.maximum)
    if codec.integer:
        values = np.rint(values)
    if codec.point is not None:
        values = np.where(block[:, position + 1] > block[:, position], codec.point, values)
        position += 2
    if codec.has_missing:
        values = np.where(block[:, position + 1] > block[:, position], np.nan, values)
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
