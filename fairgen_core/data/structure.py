"""Finding the structure every real row obeys: the rules synthetic rows should keep, and leaking columns.

:func:`detect_structure` finds, each as a :class:`~fairgen_core.data.rules.Rule` with its evidence (rows judged,
rows that break the rule):

* **one-hot groups**: 0/1 columns sharing a name prefix (``EDUCATION_1``, ``EDUCATION_2``, …) with exactly one
  (or at most one) 1 per row;
* **complement pairs**: two 0/1 columns that always sum to 1 (``frisked_N`` / ``frisked_Y``), whatever their names;
* **derived columns**: a column that is a function of another (Adult's ``education-num`` of ``education``), and a
  text column that is the concatenation of two others with a fixed separator (``race-sex`` = ``race`` + ``-`` +
  ``sex``);
* **implications**: one value of a categorical column that fixes the value of another (Adult's ``relationship`` =
  ``Husband`` ⇒ ``sex`` = ``Male``), when the pair is not already tied by a rule above;
* **numeric bounds**: the observed range of every numeric column, its sign when it never changes, and whole
  numbers in integer-valued columns;
* **identifiers**: integer or text columns with a distinct value in every row;
* **leaks**: a single column that predicts the label or a sensitive attribute with balanced accuracy of at least
  :attr:`StructureOptions.leak_accuracy` (an exact copy, a complement, a recoding, or a near-perfect predictor).

A rule is kept when at least :attr:`StructureOptions.min_share` of the rows that have values in its columns obey
it. An implication is kept when its breaking rows are a handful (:attr:`StructureOptions.noise_rows`, or the
``1 − min_share`` share when more) and at most ``1 −`` :attr:`StructureOptions.implication_share` of its support.
Complements, derived columns and implications must also say more than chance: at least
:attr:`StructureOptions.min_evidence` rows would break them were the columns unrelated (two nearly constant 0/1
columns are no complements, a nearly constant column is no function of anything, a rare value implies nothing).

Cost: every check is vectorised. One-hot groups and complement pairs are one matrix product over the 0/1 columns.
Derived columns and implications are checked between the columns with at most :attr:`StructureOptions.
max_categories` distinct values, on at most :attr:`StructureOptions.max_pair_columns` of them (the first in table
order; a note says when the cap applies): a pair is screened on a sample of :attr:`StructureOptions.screen_rows`
rows before it is counted on every row. Concatenations are looked for among text columns from
:attr:`StructureOptions.sample_rows` rows, then checked on all. 50,000 rows × 100 columns take about a second.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from fairgen_core.data.rules import INTEGER_TOLERANCE, LEAK_WORDS, ROLE_WORDS, Rule, RuleKind, Structure
from fairgen_core.data.schema import ColumnKind, ColumnSchema, Schema, infer_schema, numeric_values

#: Name separators of one-hot columns: ``PREFIX_VALUE`` or ``PREFIX=VALUE``.
ONE_HOT_SEPARATORS = ("_", "=")
#: Separators allowed between the two parts of a concatenated column (the empty one included).
MAX_SEPARATOR_LENGTH = 3


@dataclass(frozen=True)
class StructureOptions:
    """Thresholds and caps of :func:`detect_structure`.

    Parameters
    ----------
    min_share : float
        A rule is kept when at least this share of the judged rows obey it.
    leak_accuracy : float
        A column whose values alone predict the label (or a sensitive attribute) with at least this balanced
        accuracy leaks it.
    max_categories : int
        Columns with more distinct values are not sources or targets of derived columns, nor categorical
        predictors in the leak check (numeric ones are still checked there with a threshold).
    min_rows_per_value : float
        A derived column's source must have at least this many rows per distinct value on average (a column with
        a value in almost every row determines everything).
    max_pair_columns : int
        At most this many columns enter the pairwise derived-column check, and the implication check.
    screen_rows : int
        Rows of the sample a pair is screened on before it is counted on every row.
    sample_rows : int
        Rows from which concatenations are guessed.
    min_id_rows : int
        Fewer rows never make an identifier.
    noise_rows : int
        An implication may be broken by this many rows whatever its support (a handful of noisy records).
    implication_share : float
        An implication is broken by at most ``1 −`` this share of its support, however many rows that is.
    min_evidence : float
        A complement, a derived column or an implication is kept only when at least this many of its rows would
        break it by chance: were the two columns independent (a complement, an implication), or predicting a derived
        column by its most frequent value (two nearly constant columns are no complements, a nearly constant column
        is no function of anything, a rare value implies nothing).
    max_implication_values : int
        At most this many values (summed over the columns, in table order) enter the implication check.
    """

    min_share: float = 0.999
    leak_accuracy: float = 0.99
    max_categories: int = 50
    min_rows_per_value: float = 5.0
    max_pair_columns: int = 120
    screen_rows: int = 2_000
    sample_rows: int = 50
    min_id_rows: int = 20
    noise_rows: int = 5
    implication_share: float = 0.99
    min_evidence: float = 20.0
    max_implication_values: int = 1_500




def exclude_leaks(schema: Schema, structure: Structure, keep: Iterable[str] = ()) -> tuple[Schema, dict[str, str]]:
    """Set every modelled column that leaks (:attr:`Structure.leaks`) to kind ``leak``, except those in ``keep``.

    A column of kind ``leak`` is not modelled by the generator, so it is no input of the classifiers that encode
    rows with the generator's encoder, nor of the data audit's baseline.

    Parameters
    ----------
    schema : Schema
        The table's column kinds.
    structure : Structure
        Its structure, with the leaks of the label and the sensitive attributes.
    keep : iterable of str
        Leaking columns the user keeps as inputs.

    Returns
    -------
    tuple of (Schema, dict)
        The schema with the leaks left out, and per column left out (in the order of :attr:`Structure.leaks`) a
        message naming it, saying what it leaks and when to keep it.

    Examples
    --------
    >>> df = pd.DataFrame({"x": [1, 2, 3, 4, 5] * 8, "y_N": [1, 0, 1, 0] * 10, "y_Y": [0, 1, 0, 1] * 10})
    >>> schema, messages = exclude_leaks(infer_schema(df), detect_structure(df, label="y_Y"))
    >>> schema.kind("y_N").value, schema.kind("x").value
    ('leak', 'numeric')
    >>> messages["y_N"][:64]
    "column 'y_N' leaks the label 'y_Y' (it is its exact complement; "
    """
    kept = set(keep)
    rules = {r.columns[0]: r for r in structure.leaks if r.columns[0] in schema.names
             and schema.kind(r.columns[0]).is_feature and r.columns[0] not in kept}
    messages = {column: f"column '{column}' leaks {ROLE_WORDS.get(rule.role, 'column')} '{rule.columns[1]}' (it is "
                        f"{LEAK_WORDS[rule.variant]}; balanced accuracy {rule.score:.3f} from '{column}' alone), so "
                        "it is left out of the generator's and the classifiers' inputs. Keep it only if it is really "
                        "known when the decision is made." for column, rule in rules.items()}
    return schema.with_kinds({column: ColumnKind.LEAK for column in rules}), messages


def detect_structure(frame: pd.DataFrame, *, label: str | None = None, sensitive: Sequence[str] = (),
                     schema: Schema | None = None, options: StructureOptions = StructureOptions()) -> Structure:
    """Find the rules every (or nearly every) row of ``frame`` obeys, and the columns that leak the label or a
    sensitive attribute.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table as read.
    label : str, optional
        The label column: columns predicting it are leaks.
    sensitive : sequence of str
        The sensitive columns: columns predicting one are leaks.
    schema : Schema, optional
        The table's column kinds; inferred when omitted. Columns of a kind that is not modelled (identifiers,
        constants, the user's prediction columns) only get an identifier rule.
    options : StructureOptions
        Thresholds and caps.

    Returns
    -------
    Structure

    Examples
    --------
    >>> df = pd.DataFrame({"edu": ["BA", "HS", "MA", "HS"] * 10, "edu_num": [13, 9, 14, 9] * 10,
    ...                    "pay_N": [1, 0, 0, 1] * 10, "pay_Y": [0, 1, 1, 0] * 10})
    >>> [r.describe() for r in detect_structure(df).rules]  # doctest: +NORMALIZE_WHITESPACE
    ["'pay_N' and 'pay_Y' are complements (they sum to 1)",
     "'edu_num' is a one-to-one recoding of 'edu'",
     "'edu_num' lies between 9 and 14",
     "'edu_num' is never negative",
     "'edu_num' holds whole numbers"]
    """
    schema = schema if schema is not None else infer_schema(frame)
    columns = _Columns(frame, schema, options)
    notes: list[str] = []
    rules = [*_binary_rules(columns, options)]
    concatenations = _concatenations(columns, options)
    rules += _derived(columns, options, rules, concatenations, notes)
    rules += concatenations
    fixed = {c for c in (label, *sensitive) if c is not None}
    rules += _implications(columns, options, rules, fixed, notes)
    rules += _numeric_rules(columns, options)
    rules += columns.identifiers
    roles = {c: "sensitive" for c in sensitive if c in frame.columns}
    if label is not None and label in frame.columns:
        roles = {label: "label", **roles}
    rules += _leaks(columns, roles, options)
    return Structure(tuple(rules), len(frame), tuple(notes))


# -- column facts --------------------------------------------------------------------------------------
class _Columns:
    """What the checks need to know about each column, computed once."""

    def __init__(self, frame: pd.DataFrame, schema: Schema, options: StructureOptions) -> None:
        self.frame = frame
        self.n = len(frame)
        self.names = [str(c) for c in frame.columns]
        known = [c for c in schema.columns if c.name in frame.columns]
        self.numeric = {c.name: numeric_values(frame[c.name]) for c in known if c.numeric}
        self.identifiers = [rule for rule in (_identifier(frame, c, options) for c in known) if rule]
        ids = {r.columns[0] for r in self.identifiers}
        self.candidates = [c.name for c in known if c.kind.is_feature and c.name not in ids]
        self.binary = [name for name in self.candidates if name in self.numeric and _zero_one(self.numeric[name])]
        self.codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for c in known:
            if c.name in self.candidates and 2 <= c.n_unique <= options.max_categories:
                codes, values = pd.factorize(frame[c.name], sort=True, use_na_sentinel=True)
                self.codes[c.name] = (codes.astype(np.int64), np.asarray(values, dtype=object))
        self.text = [name for name in self.candidates if name not in self.numeric]
        self.categorical = [c.name for c in known if c.name in self.codes
                            and c.kind in (ColumnKind.CATEGORICAL, ColumnKind.BINARY)]


def _zero_one(values: pd.Series) -> bool:
    present = values.dropna()
    return bool(len(present)) and bool(present.isin((0.0, 1.0)).all())


def _identifier(frame: pd.DataFrame, column: ColumnSchema, options: StructureOptions) -> Rule | None:
    """An identifier rule for an integer or text column with (nearly) a distinct value per row."""
    present = len(frame) - column.n_missing
    if ((column.numeric and not column.integer_valued) or present < options.min_id_rows
            or column.n_unique < options.min_share * present):
        return None
    values = frame[column.name].dropna()
    return Rule(RuleKind.IDENTIFIER, (column.name,), len(values), int(values.duplicated(keep=False).sum()))


# -- one-hot groups and complements --------------------------------------------------------------------
def _binary_rules(columns: _Columns, options: StructureOptions) -> list[Rule]:
    """One-hot groups (by name prefix) and complement pairs (any two 0/1 columns), from one matrix product."""
    names = columns.binary
    if len(names) < 2:
        return []
    values = np.column_stack([columns.numeric[c].to_numpy() for c in names])
    present = ~np.isnan(values)
    ones = np.where(present, values, 0.0).astype(np.float32)
    zeros = present.astype(np.float32) - ones
    both = present.astype(np.float32).T @ present.astype(np.float32)
    agree = ones.T @ ones + zeros.T @ zeros
    share = ones.sum(axis=0) / np.maximum(present.sum(axis=0), 1)
    chance = both * (np.outer(share, share) + np.outer(1 - share, 1 - share))  # rows agreeing were they independent
    rules: list[Rule] = []
    paired: set[str] = set()
    for i, j in zip(*np.triu_indices(len(names), k=1)):
        judged, broken = int(both[i, j]), int(agree[i, j])
        if judged and broken <= (1 - options.min_share) * judged and chance[i, j] >= options.min_evidence:
            rules.append(Rule(RuleKind.COMPLEMENT, (names[i], names[j]), judged, broken))
            paired |= {names[i], names[j]}
    groups: dict[str, list[int]] = defaultdict(list)
    for index, name in enumerate(names):
        prefix = _prefix(name)
        if prefix:
            groups[prefix].append(index)
    for members in groups.values():
        group = tuple(names[i] for i in members)
        if len(group) < 2 or (len(group) == 2 and set(group) <= paired):
            continue
        rule = _one_hot(group, values[:, members], options)
        if rule is not None:
            rules.append(rule)
    return sorted(rules, key=lambda r: (r.kind is RuleKind.COMPLEMENT, columns.names.index(r.columns[0])))


def _prefix(name: str) -> str:
    cut = max(name.rfind(separator) for separator in ONE_HOT_SEPARATORS)
    return name[:cut] if cut > 0 else ""


def _one_hot(group: tuple[str, ...], values: np.ndarray, options: StructureOptions) -> Rule | None:
    judged = ~np.isnan(values).any(axis=1)
    total = values[judged].sum(axis=1)
    n = int(judged.sum())
    for variant, broken in (("exactly_one", int((total != 1).sum())), ("at_most_one", int((total > 1).sum()))):
        if n and broken <= (1 - options.min_share) * n:
            return Rule(RuleKind.ONE_HOT, group, n, broken, variant=variant)
    return None


# -- derived columns -----------------------------------------------------------------------------------
def _derived(columns: _Columns, options: StructureOptions, found: Sequence[Rule],
             concatenations: Sequence[Rule], notes: list[str]) -> list[Rule]:
    """Columns that are a function of another low-cardinality column (screened on a sample, then counted)."""
    names = [c for c in columns.candidates if c in columns.codes]
    if len(names) > options.max_pair_columns:
        notes.append(f"derived columns were looked for among the first {options.max_pair_columns} of the "
                     f"{len(names)} columns with at most {options.max_categories} values.")
        names = names[:options.max_pair_columns]
    explained = _tied_pairs([*found, *concatenations])
    screen = _screen_rows(columns.n, options)
    rules = []
    for a_index, a in enumerate(names):
        for b in names[a_index + 1:]:
            if frozenset((a, b)) in explained:
                continue
            rule = _derived_pair(columns, a, b, screen, options)
            if rule is not None:
                rules.append(rule)
    return rules


def _tied_pairs(rules: Iterable[Rule]) -> set[frozenset[str]]:
    """Pairs of columns a rule already ties: a complement, a derived column and its source, two members of a one-hot
    group, a concatenation and each part (which follows from it)."""
    tied: set[frozenset[str]] = set()
    for rule in rules:
        if rule.kind is RuleKind.ONE_HOT:
            tied |= {frozenset((a, b)) for a in rule.columns for b in rule.columns if a != b}
        elif rule.kind is RuleKind.CONCATENATION:
            tied |= {frozenset((rule.columns[0], part)) for part in rule.columns[1:]}
        elif rule.kind in (RuleKind.COMPLEMENT, RuleKind.DERIVED):
            tied.add(frozenset(rule.columns))
    return tied


def _screen_rows(n: int, options: StructureOptions) -> np.ndarray | None:
    if n <= options.screen_rows:
        return None
    return np.sort(np.random.default_rng(0).choice(n, size=options.screen_rows, replace=False))


def _derived_pair(columns: _Columns, a: str, b: str, screen: np.ndarray | None,
                  options: StructureOptions) -> Rule | None:
    """The derived rule between ``a`` and ``b`` (either direction, one-to-one when both), or None."""
    (codes_a, values_a), (codes_b, values_b) = columns.codes[a], columns.codes[b]
    if screen is not None:
        sample = _contingency(codes_a[screen], codes_b[screen], len(values_a), len(values_b))
        tolerance = max(2.0, 5 * (1 - options.min_share) * len(screen))
        if min(_fd_errors(sample), _fd_errors(sample.T)) > tolerance:
            return None
    table = _contingency(codes_a, codes_b, len(values_a), len(values_b))
    judged = int(table.sum())
    allowed = (1 - options.min_share) * judged
    # a column that is nearly constant is "a function" of every other: the rule must beat its most frequent value
    forward = (_fd_errors(table) <= allowed and judged >= options.min_rows_per_value * len(values_a)
               and judged - table.sum(axis=0).max() >= options.min_evidence)
    backward = (_fd_errors(table.T) <= allowed and judged >= options.min_rows_per_value * len(values_b)
                and judged - table.sum(axis=1).max() >= options.min_evidence)
    if not (forward or backward):
        return None
    if forward and backward:
        source_first = a in columns.text or b not in columns.text
        source, target = (a, b) if source_first else (b, a)
    else:
        source, target = (a, b) if forward else (b, a)
    counts = table if source == a else table.T
    source_values, target_values = (values_a, values_b) if source == a else (values_b, values_a)
    mapping = tuple((_plain(source_values[i]), _plain(target_values[int(j)]))
                    for i, j in enumerate(counts.argmax(axis=1)) if counts[i].sum())
    return Rule(RuleKind.DERIVED, (source, target), judged, int(_fd_errors(counts)),
                variant="one_to_one" if forward and backward else "function", mapping=mapping)


def _contingency(codes_a: np.ndarray, codes_b: np.ndarray, n_a: int, n_b: int) -> np.ndarray:
    both = (codes_a >= 0) & (codes_b >= 0)
    flat = np.bincount(codes_a[both] * n_b + codes_b[both], minlength=n_a * n_b)
    return flat.reshape(n_a, n_b)


def _fd_errors(table: np.ndarray) -> float:
    """Rows that break "the column is a function of the row variable" (all but the most frequent value per row)."""
    return float(table.sum() - table.max(axis=1).sum())


# -- implications --------------------------------------------------------------------------------------
def _implications(columns: _Columns, options: StructureOptions, found: Sequence[Rule], fixed: set[str],
                  notes: list[str]) -> list[Rule]:
    """``source = value ⇒ target = value`` between categorical columns that no rule in ``found`` ties already.

    Columns a rule computes (:meth:`Rule.computed`: its implications would repeat those of its sources) and
    one-hot members are left out, as are pairs of two ``fixed`` columns (the label and sensitive columns, which the
    domain sets). Every pair's contingency table comes from one co-occurrence matrix of the columns' values.
    """
    computed = {rule.computed(fixed) for rule in found} | {c for r in found if r.kind is RuleKind.ONE_HOT
                                                            for c in r.columns}
    names = [c for c in columns.categorical if c not in computed]
    widths = np.cumsum([len(columns.codes[c][1]) for c in names])
    kept = min(int(np.searchsorted(widths, options.max_implication_values, side="right")), options.max_pair_columns)
    if kept < len(names):
        notes.append(f"implications were looked for among the first {kept} of the {len(names)} categorical columns "
                     f"(at most {options.max_pair_columns} columns and {options.max_implication_values} values).")
        names = names[:kept]
    if len(names) < 2:
        return []
    counts = _cooccurrence([columns.codes[c][0] for c in names], [len(columns.codes[c][1]) for c in names])
    starts = dict(zip(names, np.r_[0, widths[:len(names) - 1]]))
    tied = _tied_pairs(found)
    rules = []
    for a_index, a in enumerate(names):
        for b in names[a_index + 1:]:
            if frozenset((a, b)) in tied or {a, b} <= fixed:
                continue
            table = counts[starts[a]:starts[a] + len(columns.codes[a][1]),
                           starts[b]:starts[b] + len(columns.codes[b][1])]
            rules += _implied(a, b, table, columns, options) + _implied(b, a, table.T, columns, options)
    return rules


def _cooccurrence(codes: Sequence[np.ndarray], widths: Sequence[int], chunk: int = 8_192) -> np.ndarray:
    """How many rows hold each pair of values: one-hot indicators of every column's values, multiplied (rows with a
    missing value count for no value of that column). Chunks keep float32 counts exact."""
    offsets = np.r_[0, np.cumsum(widths)]
    n = len(codes[0])
    counts = np.zeros((offsets[-1], offsets[-1]))
    for start in range(0, n, chunk):
        block = np.zeros((min(chunk, n - start), offsets[-1]), dtype=np.float32)
        for offset, column in zip(offsets, codes):
            part = column[start:start + chunk]
            rows = np.flatnonzero(part >= 0)
            block[rows, offset + part[rows]] = 1.0
        counts += block.T @ block
    return np.rint(counts).astype(np.int64)


def _implied(source: str, target: str, table: np.ndarray, columns: _Columns, options: StructureOptions) -> list[Rule]:
    """The implications ``source = v ⇒ target = w`` of a contingency table (rows: source values)."""
    support = table.sum(axis=1)
    best = table.argmax(axis=1)
    broken = support - table.max(axis=1)
    shares = table.sum(axis=0) / max(int(table.sum()), 1)
    chance = support * (1 - shares[best])
    allowed = np.minimum(np.maximum(options.noise_rows, (1 - options.min_share) * support),
                         (1 - options.implication_share) * support)
    source_values, target_values = columns.codes[source][1], columns.codes[target][1]
    return [Rule(RuleKind.IMPLICATION, (source, target), int(support[i]), int(broken[i]),
                 mapping=((_plain(source_values[i]), _plain(target_values[best[i]])),),
                 score=round(float(chance[i]), 1))
            for i in np.flatnonzero((support > 0) & (broken <= allowed) & (chance >= options.min_evidence))]


# -- concatenations ------------------------------------------------------------------------------------
def _concatenations(columns: _Columns, options: StructureOptions) -> list[Rule]:
    """Text columns equal to ``first + separator + second`` for two other columns (guessed from a few rows)."""
    head = columns.frame.head(options.sample_rows)
    present = head.notna()
    texts = {c: [str(value) for value in head[c]] for c in columns.candidates}
    rules = []
    for target in columns.text:
        rows = np.flatnonzero(present[target].to_numpy())
        if head[target].nunique() < 3:
            continue
        whole = [texts[target][i] for i in rows]
        parts = {c: [texts[c][i] for i in rows] for c in columns.candidates if c != target}
        starts = [c for c, values in parts.items() if all(v and t.startswith(v) and len(v) < len(t)
                                                             for v, t in zip(values, whole))]
        ends = [c for c, values in parts.items() if all(v and t.endswith(v) and len(v) < len(t)
                                                           for v, t in zip(values, whole))]
        for first in starts:
            for second in ends:
                separator = _separator(parts[first], parts[second], whole)
                if first == second or separator is None:
                    continue
                rule = _concatenation_rule(columns.frame, (target, first, second), separator, options)
                if rule is not None:
                    rules.append(rule)
    return rules


def _separator(firsts: list[str], seconds: list[str], texts: list[str]) -> str | None:
    middles = {t[len(f):len(t) - len(s)] if len(f) + len(s) <= len(t) else None
               for f, s, t in zip(firsts, seconds, texts)}
    (middle,) = middles if len(middles) == 1 else (None,)
    return middle if middle is not None and len(middle) <= MAX_SEPARATOR_LENGTH else None


def _concatenation_rule(frame: pd.DataFrame, names: tuple[str, str, str], separator: str,
                        options: StructureOptions) -> Rule | None:
    rule = Rule(RuleKind.CONCATENATION, names, 0, 0, separator=separator)
    judged, obeyed = rule.judge(frame)
    n, broken = int(judged.sum()), int((judged & ~obeyed).sum())
    return replace(rule, n_rows=n, n_violations=broken) if n and broken <= (1 - options.min_share) * n else None


# -- numeric columns -----------------------------------------------------------------------------------
def _numeric_rules(columns: _Columns, options: StructureOptions) -> list[Rule]:
    """Range, sign and whole numbers of every numeric column with more than two values."""
    rules = []
    for name in columns.candidates:
        values = columns.numeric.get(name)
        if values is None:
            continue
        present = values.dropna().to_numpy()
        if len(np.unique(present)) <= 2:
            continue
        n = len(present)
        rules.append(Rule(RuleKind.RANGE, (name,), n, 0, bounds=(float(present.min()), float(present.max()))))
        allowed = (1 - options.min_share) * n
        for variant, broken in (("non_negative", int((present < 0).sum())), ("non_positive", int((present > 0).sum()))):
            if broken <= allowed:
                rules.append(Rule(RuleKind.SIGN, (name,), n, broken, variant=variant))
                break
        fractional = int((np.abs(present - np.round(present)) > INTEGER_TOLERANCE).sum())
        if fractional <= allowed:
            rules.append(Rule(RuleKind.INTEGER, (name,), n, fractional))
    return rules



def _leaks(columns: _Columns, roles: Mapping[str, str], options: StructureOptions) -> list[Rule]:
    """Columns whose values alone predict a target (the label or a sensitive column, by role) near-perfectly."""
    rules = []
    for target, role in roles.items():
        if target not in columns.codes:
            continue
        codes_t, values_t = columns.codes[target]
        for name in columns.candidates:
            if name in roles:
                continue
            found = _leak(columns, name, target, codes_t, len(values_t), options)
            if found is not None:
                rules.append(replace(found, role=role))
    return rules


def _leak(columns: _Columns, name: str, target: str, codes_t: np.ndarray, n_classes: int,
          options: StructureOptions) -> Rule | None:
    """The leak of ``target`` by ``name``: a categorical column through its most frequent class per value, a
    numeric one through its best threshold (two-class targets only)."""
    if name in columns.codes:
        codes, values = columns.codes[name]
        table = _contingency(codes, codes_t, len(values), n_classes)
        score, wrong = _majority_score(table)
        judged = int(table.sum())
        variant = ("predictor" if _fd_errors(table) else "recoding" if _fd_errors(table.T) == 0 else "determines")
    elif name in columns.numeric and n_classes == 2:
        numbers = columns.numeric[name].to_numpy()
        present = ~np.isnan(numbers) & (codes_t >= 0)
        screen = _screen_rows(columns.n, options)
        if screen is not None:  # a column far from a perfect threshold on a sample is not sorted in full
            sampled = present[screen]
            if _threshold_score(numbers[screen][sampled], codes_t[screen][sampled])[0] < options.leak_accuracy - 0.05:
                return None
        score, wrong = _threshold_score(numbers[present], codes_t[present])
        judged, variant = int(present.sum()), "predictor"
    else:
        return None
    if score < options.leak_accuracy:
        return None
    if variant == "recoding":
        both = columns.frame[[name, target]].dropna()
        if (both[name].astype(str) == both[target].astype(str)).all():
            variant = "copy"
        elif name in columns.binary and target in columns.binary:
            variant = "complement"  # two 0/1 columns in one-to-one correspondence that are not copies
    return Rule(RuleKind.LEAK, (name, target), judged, wrong, variant=variant, score=round(score, 6))


def _majority_score(table: np.ndarray) -> tuple[float, int]:
    """Balanced accuracy and errors of predicting the most frequent class for each value of the column."""
    predicted = table.argmax(axis=1)
    right = np.zeros(table.shape[1])
    np.add.at(right, predicted, table[np.arange(len(table)), predicted])
    totals = table.sum(axis=0)
    present = totals > 0
    return float(np.mean(right[present] / totals[present])), int(table.sum() - right.sum())


def _threshold_score(values: np.ndarray, classes: np.ndarray) -> tuple[float, int]:
    """Best balanced accuracy (and its errors) of a threshold on ``values`` predicting a two-class target."""
    positives, negatives = int((classes == 1).sum()), int((classes == 0).sum())
    if not positives or not negatives:
        return 0.0, len(values)
    order = np.argsort(values, kind="stable")
    sorted_values, sorted_classes = values[order], classes[order]
    last_of_value = np.r_[sorted_values[1:] != sorted_values[:-1], True]
    below_pos = np.cumsum(sorted_classes == 1)[last_of_value]  # positives at or below each distinct value
    below_neg = np.cumsum(sorted_classes == 0)[last_of_value]
    below_pos, below_neg = np.r_[0, below_pos], np.r_[0, below_neg]
    above = 0.5 * ((positives - below_pos) / positives + below_neg / negatives)  # "above the cut is positive"
    balanced = np.maximum(above, 1 - above)
    best = int(balanced.argmax())
    wrong = (below_pos[best] + negatives - below_neg[best] if above[best] >= 0.5
             else positives - below_pos[best] + below_neg[best])
    return float(balanced[best]), int(wrong)



def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value JSON can hold."""
    return value.item() if isinstance(value, np.generic) else value
