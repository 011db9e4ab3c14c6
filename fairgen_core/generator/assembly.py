"""Turn decoded feature rows plus their domains into rows of the original table.

The generator models the feature columns; the label and sensitive columns follow from each row's domain.
A binary column's value is fixed by its bit; a column with several values per bit (``race ∉ {White}``,
``age ≥ 25``) draws from the values seen in that bit's training rows, at their observed frequencies.
ID-like columns get fresh identifiers that never equal a real one (integers above the real maximum, or text
with a prefix no real identifier starts with) and constant columns their constant, so the output has the
input's columns, order and dtypes.

Rows then keep the training rows' :class:`~fairgen_core.data.structure.Structure` (found at fit time): the
generator models one-hot groups column by column, so they are *repaired* here rather than folded into one
categorical in the encoder (folding would change every consumer of the encoder's span layout).
:func:`repair_rows` applies, in this order:

* **one-hot groups**: a row with exactly one 1 is kept; otherwise the 1 goes to the member with the largest
  decoded probability of being 1 among those decoded as 1 (among all members when none is, for an
  "exactly one" group; an "at most one" group decoded all-zero stays all-zero);
* **complements**: the second column (or the one that is not a label or sensitive column) is ``1 −`` the other;
* **derived columns**: the target is computed from its source by the mapping learned on the training rows (a
  one-to-one recoding whose target is the label or a sensitive column is applied backwards);
* **concatenations**: rebuilt from their parts;
* **ranges, signs, whole numbers**: values clipped to the observed range and sign, rounded.

The label and sensitive columns are never rewritten: they come from the row's domain. A leaking column left out
of the model (kind ``leak``) is added back when a rule computes it (a complement or recoding of the label).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairgen_core.data.encoding import TabularEncoder, numeric_score, plain_value
from fairgen_core.data.schema import ColumnKind, Schema, numeric_values
from fairgen_core.data.spec import DatasetSpec
from fairgen_core.data.structure import Rule, RuleKind, Structure

#: Prefix of fresh text identifiers (lengthened until no real identifier starts with it).
SYNTHETIC_ID_PREFIX = "synthetic-"
#: The order in which :func:`repair_rows` applies the rules (sources before the columns computed from them).
REPAIR_ORDER = (RuleKind.ONE_HOT, RuleKind.COMPLEMENT, RuleKind.DERIVED, RuleKind.CONCATENATION, RuleKind.RANGE,
                RuleKind.SIGN, RuleKind.INTEGER)


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
        """Members of one-hot groups: the columns whose probability of being 1 :meth:`assemble` can use."""
        if self.structure is None:
            return ()
        return tuple(dict.fromkeys(c for r in self.structure.of_kind(RuleKind.ONE_HOT) for c in r.columns))

    def assemble(self, features: pd.DataFrame, domains: np.ndarray, rng: np.random.Generator,
                 first_id: int = 1, scores: Mapping[str, np.ndarray] | None = None) -> pd.DataFrame:
        """Full rows: decoded ``features`` plus label, sensitive, constant and ID columns, repaired to keep the
        structure (see :func:`repair_rows`; ``scores``: each one-hot member's probability of being 1)."""
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
                columns[name] = _cast(pd.Series(drawn[name]), dtype)
        rows = pd.DataFrame(columns, index=pd.RangeIndex(n))
        if self.structure is None:
            return rows
        rows = repair_rows(rows, self.structure, fixed=(self.label, *self.sensitive), scores=scores, rng=rng)
        return pd.DataFrame({name: rows[name] if name in columns else _cast(rows[name], dtypes[name])
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


def one_scores(encoder: TabularEncoder, probabilities: np.ndarray, columns: Collection[str]) -> dict[str, np.ndarray]:
    """Each of ``columns``' probability of being 1 in decoded rows (the generator's activated output).

    A categorical column gives its slot of the value 1; a numeric one its value as a continuous score
    (:func:`~fairgen_core.data.encoding.numeric_score`). Columns the encoder does not model, or without a value 1,
    are left out.
    """
    scores = {}
    start = 0
    for codec in encoder.codecs:
        if codec.name in columns:
            if codec.kind == "numeric":
                scores[codec.name] = numeric_score(codec, probabilities[:, start:start + codec.width])
            else:
                ones = [i for i, value in enumerate(codec.categories) if _is_one(value)]
                if ones:
                    scores[codec.name] = probabilities[:, start + ones[0]]
        start += codec.width
    return scores


def repair_rows(rows: pd.DataFrame, structure: Structure, *, fixed: Collection[str] = (),
                scores: Mapping[str, np.ndarray] | None = None,
                rng: np.random.Generator | None = None) -> pd.DataFrame:
    """A copy of ``rows`` that keeps every row rule of ``structure`` it can (see the module's description).

    Parameters
    ----------
    rows : pandas.DataFrame
        Decoded rows (any index).
    structure : Structure
        The rules.
    fixed : collection of str
        Columns never rewritten (the label and sensitive columns).
    scores : mapping, optional
        Per one-hot member, each row's probability of the value 1; without it ties are broken at random.
    rng : numpy.random.Generator, optional
        Breaks ties between one-hot members without scores.

    Returns
    -------
    pandas.DataFrame
        The repaired rows; a column a complement, recoding or concatenation computes is added when absent.

    Examples
    --------
    >>> rules = (Rule(RuleKind.ONE_HOT, ("c_a", "c_b"), 10, 0, variant="exactly_one"),
    ...          Rule(RuleKind.COMPLEMENT, ("p_N", "p_Y"), 10, 0))
    >>> rows = pd.DataFrame({"c_a": [1, 0, 1], "c_b": [0, 0, 1], "p_N": [1, 1, 0]})
    >>> repair_rows(rows, Structure(rules), scores={"c_a": np.array([.9, .2, .3]), "c_b": np.array([.1, .6, .7])})
       c_a  c_b  p_N  p_Y
    0    1    0    1    0
    1    0    1    1    0
    2    0    1    0    1
    """
    out = rows.copy()
    fixed = set(fixed)
    rng = rng if rng is not None else np.random.default_rng(0)
    for kind in REPAIR_ORDER:
        for rule in structure.of_kind(kind):
            _REPAIRS[kind](out, rule, fixed, scores or {}, rng)
    return out


def _repair_one_hot(rows: pd.DataFrame, rule: Rule, fixed: set[str], scores: Mapping[str, np.ndarray],
                    rng: np.random.Generator) -> None:
    members = list(rule.columns)
    if not all(c in rows.columns for c in members) or fixed & set(members):
        return
    values = np.column_stack([numeric_values(rows[c]).to_numpy() for c in members])
    judged = ~np.isnan(values).any(axis=1)
    ones = values == 1
    score = np.column_stack([np.asarray(scores[c], dtype=np.float64) if c in scores else rng.random(len(rows))
                             for c in members])
    candidates = ones if rule.variant == "at_most_one" else np.where(ones.any(axis=1, keepdims=True), ones, True)
    chosen = np.where(candidates, score, -np.inf).argmax(axis=1)
    repaired = np.zeros_like(values)
    keep = candidates.any(axis=1)
    repaired[np.flatnonzero(keep), chosen[keep]] = 1.0
    repaired = np.where(judged[:, None], repaired, values)
    for index, column in enumerate(members):
        _write(rows, column, repaired[:, index])


def _repair_complement(rows: pd.DataFrame, rule: Rule, fixed: set[str], scores: Mapping[str, np.ndarray],
                       rng: np.random.Generator) -> None:
    first, second = rule.columns
    if second not in fixed and first in rows.columns:
        source, target = first, second
    elif first not in fixed and second in rows.columns:
        source, target = second, first
    else:
        return
    _write(rows, target, 1.0 - numeric_values(rows[source]).to_numpy(), like=source)


def _repair_derived(rows: pd.DataFrame, rule: Rule, fixed: set[str], scores: Mapping[str, np.ndarray],
                    rng: np.random.Generator) -> None:
    source, target = rule.columns
    mapping = dict(rule.mapping)
    if target in fixed or source not in rows.columns:
        if rule.variant != "one_to_one" or source in fixed or target not in rows.columns:
            return
        source, target, mapping = target, source, {t: s for s, t in rule.mapping}
    values = rows[source].to_numpy(dtype=object)
    known = np.array([pd.notna(v) and v in mapping for v in values], dtype=bool)
    current = rows[target].to_numpy(dtype=object) if target in rows.columns else np.full(len(rows), None, object)
    computed = np.array([mapping[v] if ok else old for v, ok, old in zip(values, known, current)], dtype=object)
    _write(rows, target, computed)


def _repair_concatenation(rows: pd.DataFrame, rule: Rule, fixed: set[str], scores: Mapping[str, np.ndarray],
                          rng: np.random.Generator) -> None:
    target, first, second = rule.columns
    if target in fixed or first not in rows.columns or second not in rows.columns:
        return
    both = (rows[first].notna() & rows[second].notna()).to_numpy()
    joined = (rows[first].astype(str) + rule.separator + rows[second].astype(str)).to_numpy(dtype=object)
    current = rows[target].to_numpy(dtype=object) if target in rows.columns else np.full(len(rows), None, object)
    _write(rows, target, np.where(both, joined, current))


def _repair_number(rows: pd.DataFrame, rule: Rule, fixed: set[str], scores: Mapping[str, np.ndarray],
                   rng: np.random.Generator) -> None:
    (column,) = rule.columns
    if column in fixed or column not in rows.columns:
        return
    values = numeric_values(rows[column]).to_numpy()
    if rule.kind is RuleKind.RANGE and rule.bounds is not None:
        values = np.clip(values, *rule.bounds)
    elif rule.kind is RuleKind.SIGN:
        values = np.maximum(values, 0.0) if rule.variant == "non_negative" else np.minimum(values, 0.0)
    else:
        values = np.round(values)
    if pd.api.types.is_numeric_dtype(rows[column]) and not pd.api.types.is_bool_dtype(rows[column]):
        _write(rows, column, values)


_REPAIRS = {RuleKind.ONE_HOT: _repair_one_hot, RuleKind.COMPLEMENT: _repair_complement,
            RuleKind.DERIVED: _repair_derived, RuleKind.CONCATENATION: _repair_concatenation,
            RuleKind.RANGE: _repair_number, RuleKind.SIGN: _repair_number, RuleKind.INTEGER: _repair_number}


def _write(rows: pd.DataFrame, column: str, values: np.ndarray, like: str | None = None) -> None:
    """Store ``values`` in ``rows[column]`` in the column's dtype (a new column: that of ``like``) when it can
    hold them."""
    series = pd.Series(values, index=rows.index)
    model = column if column in rows.columns else like
    if model is not None:
        series = _cast(series, str(rows[model].dtype))
    rows[column] = series


def _is_one(value: Any) -> bool:
    """Whether a category stands for "1" (True, 1, 1.0 or the text "1")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value == 1
    return isinstance(value, str) and value.strip() in ("1", "1.0")


def _pool_state(pool: ValuePool) -> dict[str, Any]:
    return {"values": [list(v) for v in pool.values], "weights": [list(w) for w in pool.weights]}


def _pool_from_state(state: dict[str, Any]) -> ValuePool:
    values, weights = state["values"], state["weights"]
    return ValuePool((tuple(values[0]), tuple(values[1])), (tuple(weights[0]), tuple(weights[1])))


def _cast(series: pd.Series, dtype: str) -> pd.Series:
    """``series`` in ``dtype`` when it can hold the values (text identifiers in a text column), else as it is."""
    try:
        return series.astype(dtype)
    except (TypeError, ValueError):
        return series
