"""Turn decoded feature rows plus their domains into rows of the original table.

The generator models the feature columns; the label and sensitive columns follow from each row's domain.
A binary column's value is fixed by its bit; a column with several values per bit (``race ∉ {White}``,
``age ≥ 25``) draws from the values seen in that bit's training rows, at their observed frequencies.
ID-like columns get fresh identifiers and constant columns their constant, so the output has the
input's columns, order and dtypes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairgen_core.data.encoding import plain_value
from fairgen_core.data.schema import ColumnKind, Schema
from fairgen_core.data.spec import DatasetSpec


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
    """Everything needed to rebuild full rows from features and domains (JSON-serialisable)."""

    columns: tuple[str, ...]
    dtypes: tuple[str, ...]
    label: str
    label_pool: ValuePool
    sensitive: tuple[str, ...]
    sensitive_pools: tuple[ValuePool, ...]
    constants: tuple[tuple[str, Any], ...]
    id_columns: tuple[str, ...]

    @classmethod
    def fit(cls, frame: pd.DataFrame, schema: Schema, spec: DatasetSpec, group: np.ndarray,
            label: np.ndarray) -> RowAssembler:
        """Learn the value pools from the (training) rows of ``frame`` with their groups and labels."""
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
        return cls(
            columns=tuple(frame.columns), dtypes=tuple(str(t) for t in frame.dtypes), label=spec.label,
            label_pool=ValuePool.from_rows(frame[spec.label], label), sensitive=spec.sensitive_columns,
            sensitive_pools=sensitive_pools, constants=constants, id_columns=ids,
        )

    def assemble(self, features: pd.DataFrame, domains: np.ndarray, rng: np.random.Generator,
                 first_id: int = 1) -> pd.DataFrame:
        """Full rows: decoded ``features`` plus label, sensitive, constant and ID columns."""
        n = len(domains)
        group, label = domains // 2, domains % 2
        drawn: dict[str, Any] = {self.label: self.label_pool.draw(label, rng)}
        n_attributes = len(self.sensitive)
        for i, (name, pool) in enumerate(zip(self.sensitive, self.sensitive_pools)):
            drawn[name] = pool.draw((group >> (n_attributes - 1 - i)) & 1, rng)
        for name, value in self.constants:
            drawn[name] = np.full(n, value, dtype=object)
        for name in self.id_columns:
            drawn[name] = np.arange(first_id, first_id + n)
        features = features.reset_index(drop=True)
        columns = {}
        for name, dtype in zip(self.columns, self.dtypes):
            if name in features.columns:
                columns[name] = features[name]
            elif name in drawn:
                columns[name] = _cast(pd.Series(drawn[name]), dtype, name in self.id_columns)
        return pd.DataFrame(columns)

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "columns": list(self.columns), "dtypes": list(self.dtypes), "label": self.label,
            "label_pool": _pool_state(self.label_pool), "sensitive": list(self.sensitive),
            "sensitive_pools": [_pool_state(p) for p in self.sensitive_pools],
            "constants": [list(c) for c in self.constants], "id_columns": list(self.id_columns),
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> RowAssembler:
        """Inverse of :meth:`state_dict`."""
        return cls(
            columns=tuple(state["columns"]), dtypes=tuple(state["dtypes"]), label=state["label"],
            label_pool=_pool_from_state(state["label_pool"]), sensitive=tuple(state["sensitive"]),
            sensitive_pools=tuple(_pool_from_state(p) for p in state["sensitive_pools"]),
            constants=tuple((c[0], c[1]) for c in state["constants"]), id_columns=tuple(state["id_columns"]),
        )


def _pool_state(pool: ValuePool) -> dict[str, Any]:
    return {"values": [list(v) for v in pool.values], "weights": [list(w) for w in pool.weights]}


def _pool_from_state(state: dict[str, Any]) -> ValuePool:
    values, weights = state["values"], state["weights"]
    return ValuePool((tuple(values[0]), tuple(values[1])), (tuple(weights[0]), tuple(weights[1])))



def _cast(series: pd.Series, dtype: str, is_id: bool) -> pd.Series:
    if is_id and not dtype.startswith(("int", "uint", "float")):
        return series.map(lambda i: f"synthetic-{i}").astype(dtype)
    try:
        return series.astype(dtype)
    except (TypeError, ValueError):
        return series
