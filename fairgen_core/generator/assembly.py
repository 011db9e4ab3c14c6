"""Turn decoded feature rows plus their domains into rows of the original table.

The generator models the feature columns; the label and sensitive columns follow from each row's domain.
A binary column's value is fixed by its bit; a column with several values per bit (``race ∉ {White}``,
``age ≥ 25``) draws from the values seen in that bit's training rows, at their observed frequencies.
ID-like columns get fresh identifiers that never equal a real one (integers above the real maximum, or text
with a prefix no real identifier starts with) and constant columns their constant, so the output has the
input's columns, order and dtypes.

Rows then keep the training rows' :class:`~fairgen_core.data.rules.Structure` (found at fit time): every assembled
row goes through :func:`~fairgen_core.data.repair.repair_rows`, with the decoder's probabilities of the values of
one-hot members and of the sources of implications whose target is a label or sensitive column (:func:`value_scores`).
The label and sensitive columns are never rewritten: they come from the row's domain. A leaking column left out
of the model (kind ``leak``) is added back when a rule computes it (a complement or recoding of the label).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairgen_core.data.encoding import TabularEncoder, numeric_score, plain_value
from fairgen_core.data.repair import ValueScores, cast, repair_rows
from fairgen_core.data.rules import RuleKind, Structure
from fairgen_core.data.schema import ColumnKind, Schema, numeric_values
from fairgen_core.data.spec import DatasetSpec

#: Prefix of fresh text identifiers (lengthened until no real identifier starts with it).
SYNTHETIC_ID_PREFIX = "synthetic-"


@dataclass(frozen=True)
class ValuePool:
    """Observed values of one column for rows whose bit is 0 and for rows whose bit is 1."""

    values: tuple[tuple[Any, ...], tuple[Any, ...]]
    weights: tuple[tuple[float, ...], tuple[float, ...]]

    @classmethod
    def from_rows(cls, series: pd.Series, bits: np.ndarray) -> ValuePool:
        """Frequencies of ``series`` values among rows with ``bits == 0`` and ``bits == 1``."""
        values, weights = [], []
        for bit in (0, 1):
            counts = series[bits == bit].value_counts()
            values.append(tuple(plain_value(v) for v in counts.index))
            weights.append(tuple(float(c) / max(int(counts.sum()), 1) for c in counts.to_numpy()))
        return cls((values[0], values[1]), (weights[0], weights[1]))

    def draw(self, bits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One value per row for the given bits."""
        out = np.empty(len(bits), dtype=object)
        for bit in (0, 1):
            rows = np.flatnonzero(bits == bit)
            if len(rows) and self.values[bit]:
                choice = rng.choice(len(self.values[bit]), size=len(rows), p=np.asarray(self.weights[bit]))
                out[rows] = np.asarray(self.values[bit], dtype=object)[choice]
        return out


@dataclass(frozen=True)
class RowAssembler:
    """Everything needed to rebuild full rows from features and domains (JSON-serialisable).

    ``structure`` is None and ``id_starts`` empty for models saved before they were recorded: their rows are
    not repaired, and their integer identifiers count from 1.
    """

    columns: tuple[str, ...]
    dtypes: tuple[str, ...]
    label: str
    label_pool: ValuePool
    sensitive: tuple[str, ...]
    sensitive_pools: tuple[ValuePool, ...]
    constants: tuple[tuple[str, Any], ...]
    id_columns: tuple[str, ...]
    structure: Structure | None = None
    id_starts: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def fit(cls, frame: pd.DataFrame, schema: Schema, spec: DatasetSpec, group: np.ndarray, label: np.ndarray, *,
            structure: Structure | None = None, id_rows: pd.DataFrame | None = None) -> RowAssembler:
        """Learn the value pools from the (training) rows of ``frame`` with their groups and labels.

        Parameters
        ----------
        frame, schema, spec, group, label
            The training rows, their column kinds, the specification and each row's group and label.
        structure : Structure, optional
            The rules the rows keep (found on the training rows); assembled rows are repaired to keep them.
        id_rows : pandas.DataFrame, optional
            Rows whose identifiers fresh ones must never equal (the whole table); by default ``frame``.
        """
        n_attributes = len(spec.sensitive)
        sensitive_pools = tuple(
            ValuePool.from_rows(frame[attribute.column], (group >> (n_attributes - 1 - i)) & 1)
            for i, attribute in enumerate(spec.sensitive)
        )
        constants = tuple(
            (c.name, plain_value(frame[c.name].dropna().iloc[0]) if frame[c.name].notna().any() else None)
            for c in schema.columns if c.kind is ColumnKind.CONSTANT and c.name not in (spec.label,)
        )
        ids = tuple(c.name for c in schema.columns if c.kind is ColumnKind.ID)
        id_rows = frame if id_rows is None else id_rows
        return cls(
            columns=tuple(frame.columns), dtypes=tuple(str(t) for t in frame.dtypes), label=spec.label,
            label_pool=ValuePool.from_rows(frame[spec.label], label), sensitive=spec.sensitive_columns,
            sensitive_pools=sensitive_pools, constants=constants, id_columns=ids, structure=structure,
            id_starts=tuple((name, fresh_id_start(id_rows[name])) for name in ids),
        )

    @property
    def scored_columns(self) -> tuple[str, ...]:
        """The columns whose decoded probabilities :meth:`assemble` can use: members of one-hot groups, and sources
        of implications whose target is the label or a sensitive column (the repair chooses their new value)."""
        if self.structure is None:
            return ()
        fixed = {self.label, *self.sensitive}
        members = (c for r in self.structure.of_kind(RuleKind.ONE_HOT) for c in r.columns)
        sources = (r.columns[0] for r in self.structure.of_kind(RuleKind.IMPLICATION) if r.columns[1] in fixed)
        return tuple(dict.fromkeys([*members, *sources]))

    def assemble(self, features: pd.DataFrame, domains: np.ndarray, rng: np.random.Generator,
                 first_id: int = 1, scores: ValueScores | None = None) -> pd.DataFrame:
        """Full rows: decoded ``features`` plus label, sensitive, constant and ID columns, repaired to keep the
        structure (see :func:`repair_rows`; ``scores``: :func:`value_scores` of :attr:`scored_columns`)."""
        n = len(domains)
        group, label = domains // 2, domains % 2
        drawn: dict[str, Any] = {self.label: self.label_pool.draw(label, rng)}
        n_attributes = len(self.sensitive)
        for i, (name, pool) in enumerate(zip(self.sensitive, self.sensitive_pools)):
            drawn[name] = pool.draw((group >> (n_attributes - 1 - i)) & 1, rng)
        for name, value in self.constants:
            drawn[name] = np.full(n, value, dtype=object)
        starts, dtypes = dict(self.id_starts), dict(zip(self.columns, self.dtypes))
        for name in self.id_columns:
            numeric = dtypes[name].startswith(("int", "uint", "float"))
            drawn[name] = fresh_ids(starts.get(name, 1 if numeric else SYNTHETIC_ID_PREFIX), first_id, n)
        features = features.reset_index(drop=True)
        columns = {}
        for name, dtype in zip(self.columns, self.dtypes):
            if name in features.columns:
                columns[name] = features[name]
            elif name in drawn:
                columns[name] = cast(pd.Series(drawn[name]), dtype)
        rows = pd.DataFrame(columns, index=pd.RangeIndex(n))
        if self.structure is None:
            return rows
        rows = repair_rows(rows, self.structure, fixed=(self.label, *self.sensitive), scores=scores, rng=rng)
        return pd.DataFrame({name: rows[name] if name in columns else cast(rows[name], dtypes[name])
                             for name in self.columns if name in rows.columns})

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "columns": list(self.columns), "dtypes": list(self.dtypes), "label": self.label,
            "label_pool": _pool_state(self.label_pool), "sensitive": list(self.sensitive),
            "sensitive_pools": [_pool_state(p) for p in self.sensitive_pools],
            "constants": [list(c) for c in self.constants], "id_columns": list(self.id_columns),
            "structure": self.structure.to_dict() if self.structure is not None else None,
            "id_starts": [list(pair) for pair in self.id_starts],
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> RowAssembler:
        """Inverse of :meth:`state_dict` (states saved before the structure was recorded load without one)."""
        structure = state.get("structure")
        return cls(
            columns=tuple(state["columns"]), dtypes=tuple(state["dtypes"]), label=state["label"],
            label_pool=_pool_from_state(state["label_pool"]), sensitive=tuple(state["sensitive"]),
            sensitive_pools=tuple(_pool_from_state(p) for p in state["sensitive_pools"]),
            constants=tuple((c[0], c[1]) for c in state["constants"]), id_columns=tuple(state["id_columns"]),
            structure=Structure.from_dict(structure) if structure is not None else None,
            id_starts=tuple((pair[0], pair[1]) for pair in state.get("id_starts", ())),
        )


def fresh_id_start(values: pd.Series) -> int | str:
    """Where fresh identifiers of a column start so that none equals one of ``values``: the integer above the
    largest number, or for text a prefix that no value starts with.

    Examples
    --------
    >>> fresh_id_start(pd.Series([3, 10, 7])), fresh_id_start(pd.Series(["a1", "synthetic-1"]))
    (11, 'synthetic-x-')
    """
    numbers = numeric_values(values)
    if pd.api.types.is_numeric_dtype(values) and numbers.notna().any():
        return int(np.floor(numbers.max())) + 1
    texts = values.dropna().astype(str)
    prefix = SYNTHETIC_ID_PREFIX
    while texts.str.startswith(prefix).any():
        prefix += "x-"
    return prefix


def fresh_ids(start: int | str, first: int, n: int) -> np.ndarray:
    """Identifiers ``first … first + n − 1`` counted from ``start`` (a number, or a text prefix)."""
    numbers = np.arange(first, first + n)
    if isinstance(start, str):
        return np.array([f"{start}{i}" for i in numbers], dtype=object)
    return numbers + start - 1


def value_scores(encoder: TabularEncoder, probabilities: np.ndarray,
                 columns: Collection[str]) -> dict[str, pd.DataFrame]:
    """Each of ``columns``' decoded probability of each of its values (softmax or tanh output of the generator).

    A categorical column gives a column per category (its softmax slots); a numeric one a column for the value 1
    holding its value as a continuous score (:func:`~fairgen_core.data.encoding.numeric_score`; a 0/1 column
    modelled as a number). Columns the encoder does not model are left out.

    Examples
    --------
    >>> from fairgen_core.data.schema import infer_schema
    >>> real = pd.DataFrame({"colour": ["red", "blue", "red"], "age": [20.0, 40.0, 30.0]})
    >>> encoder = TabularEncoder(infer_schema(real)).fit(real)
    >>> value_scores(encoder, np.array([[0.25, 0.75, 0.5]]), ["colour"])["colour"]
       blue   red
    0  0.25  0.75
    """
    scores = {}
    start = 0
    for codec in encoder.codecs:
        if codec.kind == "one_hot":  # each member: the probability of its slot is that of its "1"
            zero, one = codec.member_values
            for index, member in enumerate(codec.members):
                if member in columns:
                    p = probabilities[:, start + index]
                    scores[member] = pd.DataFrame({0: 1.0 - p, 1: p}).set_axis(
                        pd.Index([zero, one], dtype=object), axis=1)
        elif codec.name in columns:
            if codec.kind == "numeric":
                scores[codec.name] = pd.DataFrame(
                    {1: numeric_score(codec, probabilities[:, start:start + codec.width])})
            else:
                block = probabilities[:, start:start + len(codec.categories)]
                scores[codec.name] = pd.DataFrame(block, columns=pd.Index(list(codec.categories), dtype=object))
        start += codec.width
    return scores


def _pool_state(pool: ValuePool) -> dict[str, Any]:
    return {"values": [list(v) for v in pool.values], "weights": [list(w) for w in pool.weights]}


def _pool_from_state(state: dict[str, Any]) -> ValuePool:
    values, weights = state["values"], state["weights"]
    return ValuePool((tuple(values[0]), tuple(values[1])), (tuple(weights[0]), tuple(weights[1])))
