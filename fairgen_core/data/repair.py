"""Making rows keep a table's structure: the one repair every synthetic row goes through.

The generator models each column on its own (a one-hot group as one categorical when the encoder folds it,
:attr:`~fairgen_core.config.EncoderConfig.fold_one_hot`; member by member otherwise, as in models saved before
folding), so its rows can break the rules of :class:`~fairgen_core.data.rules.Structure`; :func:`repair_rows` mends
them. It applies, in this order (the columns a rule reads are settled before the columns computed from them):

* **one-hot groups**: a row with exactly one 1 is kept; otherwise the 1 goes to the member with the largest
  decoded probability of being 1 among those decoded as 1 (among all members when none is, for an
  "exactly one" group; an "at most one" group decoded all-zero stays all-zero);
* **implications** (``source = v ⇒ target = w``): when the target is a label or sensitive column (set by the row's
  domain, never rewritten) the *source* changes, to its most probable value (by the decoder) that no implication
  forbids for the row, so that exact per-(group, label) counts stay exact; otherwise the target takes ``w``;
* **computed columns**, a column before the rules that read it (:data:`COMPUTING`): a complement's column that
  :meth:`~fairgen_core.data.rules.Rule.computed` names is ``1 −`` the other; a derived column is computed from its
  source by the mapping learned on the training rows (a one-to-one recoding whose target is the label or a
  sensitive column is applied backwards); a concatenation is rebuilt from its parts;
* **ranges, signs, whole numbers**: values clipped to the observed range and sign, rounded.

The decoder's probabilities (``scores``: per column, one column per value) choose between one-hot members and
between a source's allowed values; without them one-hot ties are broken at random and a source's new value is drawn
with the frequencies of its values in the rows that keep the rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairgen_core.data.rules import Rule, RuleKind, Structure, equals, is_one
from fairgen_core.data.schema import numeric_values

#: The kinds of rule that compute a column from others (applied in the order of their dependencies).
COMPUTING = (RuleKind.COMPLEMENT, RuleKind.DERIVED, RuleKind.CONCATENATION)
#: The kinds of rule that bound a number.
BOUNDING = (RuleKind.RANGE, RuleKind.SIGN, RuleKind.INTEGER)
#: Per column, each row's decoded probability of each of the column's values (a column per value).
ValueScores = Mapping[str, pd.DataFrame]


def repair_rows(rows: pd.DataFrame, structure: Structure, *, fixed: Collection[str] = (),
                scores: ValueScores | None = None, rng: np.random.Generator | None = None) -> pd.DataFrame:
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
        Per column, each row's probability of each value (:data:`ValueScores`): of one-hot members and of the
        sources of implications whose target is fixed.
    rng : numpy.random.Generator, optional
        Breaks ties and draws values where ``scores`` has no column.

    Returns
    -------
    pandas.DataFrame
        The repaired rows; a column a complement, recoding or concatenation computes is added when absent.

    Examples
    --------
    >>> rules = (Rule(RuleKind.ONE_HOT, ("c_a", "c_b"), 10, 0, variant="exactly_one"),
    ...          Rule(RuleKind.COMPLEMENT, ("p_N", "p_Y"), 10, 0))
    >>> rows = pd.DataFrame({"c_a": [1, 0, 1], "c_b": [0, 0, 1], "p_N": [1, 1, 0]})
    >>> repair_rows(rows, Structure(rules), scores={"c_a": pd.DataFrame({1: [.9, .2, .3]}),
    ...                                             "c_b": pd.DataFrame({1: [.1, .6, .7]})})
       c_a  c_b  p_N  p_Y
    0    1    0    1    0
    1    0    1    1    0
    2    0    1    0    1

    An implication whose target is fixed changes its source:

    >>> husband = Rule(RuleKind.IMPLICATION, ("relationship", "sex"), 10, 0, mapping=(("Husband", "Male"),))
    >>> rows = pd.DataFrame({"relationship": ["Husband", "Husband"], "sex": ["Male", "Female"]})
    >>> probabilities = pd.DataFrame({"Husband": [.9, .8], "Own-child": [.05, .05], "Wife": [.05, .15]})
    >>> repair_rows(rows, Structure((husband,)), fixed=["sex"], scores={"relationship": probabilities})
      relationship     sex
    0      Husband    Male
    1         Wife  Female
    """
    out = rows.copy()
    fixed = frozenset(fixed)
    scores = scores or {}
    rng = rng if rng is not None else np.random.default_rng(0)
    for rule in structure.of_kind(RuleKind.ONE_HOT):
        _repair_one_hot(out, rule, fixed, scores, rng)
    _repair_implications(out, structure.of_kind(RuleKind.IMPLICATION), fixed, scores, rng)
    for rule in dependency_order([r for r in structure.rules if r.kind in COMPUTING], fixed):
        _COMPUTE[rule.kind](out, rule, fixed)
    for rule in (r for r in structure.rules if r.kind in BOUNDING):
        _repair_number(out, rule, fixed)
    return out


def dependency_order(rules: Sequence[Rule], fixed: Collection[str] = ()) -> list[Rule]:
    """``rules`` so that a rule computing a column comes before the rules reading it (their order otherwise; a cycle
    keeps it).

    Examples
    --------
    >>> first = Rule(RuleKind.DERIVED, ("b", "c"), 10, 0, mapping=((1, 2),))
    >>> second = Rule(RuleKind.DERIVED, ("a", "b"), 10, 0, mapping=((0, 1),))
    >>> [r.columns for r in dependency_order([first, second])]
    [('a', 'b'), ('b', 'c')]
    """
    pending, ordered = list(rules), []
    while pending:
        computed = {rule.computed(fixed) for rule in pending}
        ready = [rule for rule in pending if not (set(rule.columns) - {rule.computed(fixed)}) & computed]
        ready = ready or pending[:1]
        ordered += ready
        pending = [rule for rule in pending if rule not in ready]
    return ordered


def _repair_one_hot(rows: pd.DataFrame, rule: Rule, fixed: frozenset[str], scores: ValueScores,
                    rng: np.random.Generator) -> None:
    members = list(rule.columns)
    if not all(c in rows.columns for c in members) or fixed & set(members):
        return
    values = np.column_stack([numeric_values(rows[c]).to_numpy() for c in members])
    judged = ~np.isnan(values).any(axis=1)
    ones = values == 1
    score = np.column_stack([_one_probability(scores.get(c), len(rows), rng) for c in members])
    candidates = ones if rule.variant == "at_most_one" else np.where(ones.any(axis=1, keepdims=True), ones, True)
    chosen = np.where(candidates, score, -np.inf).argmax(axis=1)
    repaired = np.zeros_like(values)
    keep = candidates.any(axis=1)
    repaired[np.flatnonzero(keep), chosen[keep]] = 1.0
    repaired = np.where(judged[:, None], repaired, values)
    for index, column in enumerate(members):
        _write(rows, column, repaired[:, index])


def _one_probability(probabilities: pd.DataFrame | None, n: int, rng: np.random.Generator) -> np.ndarray:
    """Each row's probability of the value 1: random numbers without ``probabilities``, 0 for a column the model
    never saw at 1 (a value absent from the training rows, which the encoder cannot write)."""
    if probabilities is None:
        return rng.random(n)
    ones = [value for value in probabilities.columns if is_one(value)]
    return probabilities[ones[0]].to_numpy(dtype=np.float64) if ones else np.zeros(n)


def _repair_implications(rows: pd.DataFrame, rules: Sequence[Rule], fixed: frozenset[str], scores: ValueScores,
                         rng: np.random.Generator) -> None:
    """Sources of implications with a fixed target move to an allowed value; other targets take the implied value.

    A change can break another implication (a new source value implies something else), so the rules are applied
    again until no row changes, at most once per rule.
    """
    active = [r for r in rules if not set(r.columns) <= fixed and all(c in rows.columns for c in r.columns)]
    moved: dict[str, list[Rule]] = defaultdict(list)
    for rule in active:
        if rule.columns[1] in fixed:
            moved[rule.columns[0]].append(rule)
    setting = [rule for rule in active if rule.columns[1] not in fixed]
    for _ in range(len(active)):
        changed = [_move_source(rows, source, group, scores.get(source), rng) for source, group in moved.items()]
        changed += [_set_implied(rows, rule) for rule in setting]
        if not any(changed):
            return


def _move_source(rows: pd.DataFrame, source: str, rules: Sequence[Rule], probabilities: pd.DataFrame | None,
                 rng: np.random.Generator) -> bool:
    """Give every row whose ``source`` value implies something its fixed target contradicts another value: the
    most probable one no rule forbids (drawn by frequency among the rows that keep the rules without
    ``probabilities``). Returns whether a row changed."""
    n = len(rows)
    allowed_by: dict[Any, np.ndarray] = {}
    for rule in rules:
        (value, implied), = rule.mapping
        target = rows[rule.columns[1]]
        allowed_by[value] = allowed_by.get(value, np.ones(n, dtype=bool)) & (equals(target, implied)
                                                                             | target.isna().to_numpy())
    current = rows[source]
    broken = np.zeros(n, dtype=bool)
    for value, allowed in allowed_by.items():
        broken |= equals(current, value) & ~allowed
    if not broken.any():
        return False
    candidates = list(probabilities.columns) if probabilities is not None else list(pd.unique(current.dropna()))
    allowed = np.column_stack([allowed_by.get(v, np.ones(n, dtype=bool)) for v in candidates])[broken]
    if probabilities is not None:
        weight = probabilities.to_numpy(dtype=np.float64)[broken]
    else:  # keys u ** (1 / frequency): the largest is drawn with probability proportional to the frequency
        frequency = np.array([equals(current[~broken], v).sum() for v in candidates], dtype=np.float64)
        weight = rng.random((int(broken.sum()), len(candidates))) ** (1.0 / np.maximum(frequency, 1e-9))
    choice = np.where(allowed, weight, -np.inf).argmax(axis=1)
    possible = allowed.any(axis=1)
    values = current.to_numpy(dtype=object).copy()
    values[np.flatnonzero(broken)[possible]] = np.asarray(candidates, dtype=object)[choice[possible]]
    _write(rows, source, values)
    return bool(possible.any())


def _set_implied(rows: pd.DataFrame, rule: Rule) -> bool:
    """Give ``target`` the implied value where ``source`` has the rule's value; returns whether a row changed."""
    source, target = rule.columns
    (value, implied), = rule.mapping
    broken = equals(rows[source], value) & rows[target].notna().to_numpy() & ~equals(rows[target], implied)
    if not broken.any():
        return False
    values = rows[target].to_numpy(dtype=object).copy()
    values[broken] = implied
    _write(rows, target, values)
    return True


def _repair_complement(rows: pd.DataFrame, rule: Rule, fixed: frozenset[str]) -> None:
    target = rule.computed(fixed)
    if target is None:
        return
    source = rule.columns[0] if target == rule.columns[1] else rule.columns[1]
    if source not in rows.columns and target in rows.columns and target not in fixed:
        source, target = target, source  # the usual source is not modelled (a leak): compute it instead
    if source in rows.columns:
        _write(rows, target, 1.0 - numeric_values(rows[source]).to_numpy(), like=source)


def _repair_derived(rows: pd.DataFrame, rule: Rule, fixed: frozenset[str]) -> None:
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


def _repair_concatenation(rows: pd.DataFrame, rule: Rule, fixed: frozenset[str]) -> None:
    target, first, second = rule.columns
    if target in fixed or first not in rows.columns or second not in rows.columns:
        return
    both = (rows[first].notna() & rows[second].notna()).to_numpy()
    joined = (rows[first].astype(str) + rule.separator + rows[second].astype(str)).to_numpy(dtype=object)
    current = rows[target].to_numpy(dtype=object) if target in rows.columns else np.full(len(rows), None, object)
    _write(rows, target, np.where(both, joined, current))


def _repair_number(rows: pd.DataFrame, rule: Rule, fixed: frozenset[str]) -> None:
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


_COMPUTE: dict[RuleKind, Callable[[pd.DataFrame, Rule, frozenset[str]], None]] = {
    RuleKind.COMPLEMENT: _repair_complement, RuleKind.DERIVED: _repair_derived,
    RuleKind.CONCATENATION: _repair_concatenation}


def _write(rows: pd.DataFrame, column: str, values: np.ndarray, like: str | None = None) -> None:
    """Store ``values`` in ``rows[column]`` in the column's dtype (a new column: that of ``like``) when it can
    hold them."""
    series = pd.Series(values, index=rows.index)
    model = column if column in rows.columns else like
    if model is not None:
        series = cast(series, str(rows[model].dtype))
    rows[column] = series


def cast(series: pd.Series, dtype: str) -> pd.Series:
    """``series`` in ``dtype`` when it can hold the values (text identifiers in a text column), else as it is."""
    try:
        return series.astype(dtype)
    except (TypeError, ValueError):
        return series
