"""Structure every real row obeys, found from the data: rules synthetic rows should keep, and leaking columns.

:func:`detect_structure` finds, each with its evidence (rows judged, rows that break the rule):

* **one-hot groups**: 0/1 columns sharing a name prefix (``EDUCATION_1``, ``EDUCATION_2``, …) with exactly one
  (or at most one) 1 per row;
* **complement pairs**: two 0/1 columns that always sum to 1 (``frisked_N`` / ``frisked_Y``), whatever their names;
* **derived columns**: a column that is a function of another (Adult's ``education-num`` of ``education``), and a
  text column that is the concatenation of two others with a fixed separator (``race-sex`` = ``race`` + ``-`` +
  ``sex``);
* **numeric bounds**: the observed range of every numeric column, its sign when it never changes, and whole
  numbers in integer-valued columns;
* **identifiers**: integer or text columns with a distinct value in every row;
* **leaks**: a single column that predicts the label or a sensitive attribute with balanced accuracy of at least
  :attr:`StructureOptions.leak_accuracy` (an exact copy, a complement, a recoding, or a near-perfect predictor).

A rule is kept when at least :attr:`StructureOptions.min_share` of the rows that have values in its columns obey
it; rows with a missing value in a rule's columns are not judged by it. :meth:`Rule.holds` checks rows of any
table with the same columns (e.g. synthetic rows, see :mod:`fairgen_core.metrics.validity`).

Cost: every check is vectorised. One-hot groups and complement pairs are one matrix product over the 0/1 columns.
Derived columns are checked between the columns with at most :attr:`StructureOptions.max_categories` distinct
values, on at most :attr:`StructureOptions.max_pair_columns` of them (the first in table order; a note says when
the cap applies): a pair is screened on a sample of :attr:`StructureOptions.screen_rows` rows before it is
counted on every row. Concatenations are looked for among text columns from :attr:`StructureOptions.sample_rows`
rows, then checked on all. 50,000 rows × 100 columns take about a second.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from fairgen_core.data.schema import ColumnKind, ColumnSchema, Schema, infer_schema, numeric_values
from fairgen_core.errors import FairGenError

#: Name separators of one-hot columns: ``PREFIX_VALUE`` or ``PREFIX=VALUE``.
ONE_HOT_SEPARATORS = ("_", "=")
#: Separators allowed between the two parts of a concatenated column (the empty one included).
MAX_SEPARATOR_LENGTH = 3
#: Relative tolerance of the range check (decoded numbers may differ from the observed bound by rounding).
RANGE_TOLERANCE = 1e-9
#: Absolute tolerance of the whole-number check.
INTEGER_TOLERANCE = 1e-6


class RuleKind(StrEnum):
    """What a :class:`Rule` says about its columns."""

    ONE_HOT = "one_hot"
    COMPLEMENT = "complement"
    DERIVED = "derived"
    CONCATENATION = "concatenation"
    SIGN = "sign"
    RANGE = "range"
    INTEGER = "integer"
    IDENTIFIER = "identifier"
    LEAK = "leak"


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
        At most this many columns enter the pairwise derived-column check.
    screen_rows : int
        Rows of the sample a pair is screened on before it is counted on every row.
    sample_rows : int
        Rows from which concatenations are guessed.
    min_id_rows : int
        Fewer rows never make an identifier.
    """

    min_share: float = 0.999
    leak_accuracy: float = 0.99
    max_categories: int = 50
    min_rows_per_value: float = 5.0
    max_pair_columns: int = 120
    screen_rows: int = 2_000
    sample_rows: int = 50
    min_id_rows: int = 20


@dataclass(frozen=True)
class Rule:
    """One rule found in the data, with its evidence.

    Attributes
    ----------
    kind : RuleKind
        What the rule says.
    columns : tuple of str
        The columns it ties: a one-hot group's members; a complement pair; ``(source, target)`` of a derived
        column; ``(target, first, second)`` of a concatenation; the column of a sign, range, integer or identifier
        rule; ``(column, leaked)`` of a leak.
    n_rows : int
        Rows judged (those with values in every column of the rule).
    n_violations : int
        Judged rows that break it (for a leak: rows the column's best single-column rule gets wrong).
    variant : str
        ``exactly_one`` / ``at_most_one`` (one-hot); ``function`` / ``one_to_one`` (derived); ``non_negative`` /
        ``non_positive`` (sign); ``copy`` / ``complement`` / ``recoding`` / ``determines`` / ``predictor`` (leak).
    bounds : tuple of float, optional
        A range rule's observed minimum and maximum.
    mapping : tuple of (source, target) pairs
        A derived column's value for each source value (the most frequent one when the rule is not exact).
    separator : str
        A concatenation's separator.
    score : float, optional
        A leak's balanced accuracy.
    role : str
        What a leak leaks: ``label`` or ``sensitive``.
    """

    kind: RuleKind
    columns: tuple[str, ...]
    n_rows: int
    n_violations: int
    variant: str = ""
    bounds: tuple[float, float] | None = None
    mapping: tuple[tuple[Any, Any], ...] = ()
    separator: str = ""
    score: float | None = None
    role: str = ""

    @property
    def key(self) -> str:
        """A stable identifier: kind and columns (what a user's choice to ignore the rule is kept under)."""
        return f"{self.kind.value}:{'|'.join(self.columns)}"

    @property
    def share(self) -> float:
        """Share of the judged rows that obey the rule (1.0 when no row was judged)."""
        return 1.0 - self.n_violations / self.n_rows if self.n_rows else 1.0

    @property
    def exact(self) -> bool:
        """Whether every judged row obeys the rule."""
        return self.n_violations == 0

    @property
    def checks_rows(self) -> bool:
        """Whether the rule is a property of each row (every kind but a leak, which is a warning)."""
        return self.kind is not RuleKind.LEAK

    def holds(self, frame: pd.DataFrame) -> np.ndarray:
        """Whether each row of ``frame`` obeys the rule; rows with a missing value in its columns count as obeying.

        Parameters
        ----------
        frame : pandas.DataFrame
            Rows with (at least) the rule's columns.

        Returns
        -------
        numpy.ndarray
            Boolean per row.

        Raises
        ------
        FairGenError
            If a column is missing, or the rule is a leak (a leak is a warning, not a property of rows).

        Examples
        --------
        >>> rule = Rule(RuleKind.COMPLEMENT, ("a_N", "a_Y"), 3, 0)
        >>> rule.holds(pd.DataFrame({"a_N": [1, 0, 1], "a_Y": [0, 1, 1]})).tolist()
        [True, True, False]
        """
        judged, obeyed = self.judge(frame)
        return obeyed | ~judged

    def judge(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Which rows of ``frame`` the rule can judge (values in all its columns) and which of those obey it."""
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise FairGenError(f"the rows lack column '{missing[0]}' of the rule '{self.describe()}': check rows "
                               "with the columns of the data the rule was found in.")
        if self.kind is RuleKind.LEAK:
            raise FairGenError(f"'{self.describe()}' is a warning about the data, not a rule rows obey.")
        return _CHECKS[self.kind](self, frame)

    def describe(self) -> str:
        """The rule in words, without its evidence.

        Examples
        --------
        >>> Rule(RuleKind.DERIVED, ("education", "education-num"), 10, 0, variant="one_to_one").describe()
        "'education-num' is a one-to-one recoding of 'education'"
        """
        quoted = [f"'{c}'" for c in self.columns]
        if self.kind is RuleKind.ONE_HOT:
            how = "exactly one" if self.variant == "exactly_one" else "at most one"
            return f"one-hot group {_listing(quoted)}: {how} of them is 1 in a row"
        if self.kind is RuleKind.COMPLEMENT:
            return f"{quoted[0]} and {quoted[1]} are complements (they sum to 1)"
        if self.kind is RuleKind.DERIVED:
            how = "a one-to-one recoding" if self.variant == "one_to_one" else "a function"
            return f"{quoted[1]} is {how} of {quoted[0]}"
        if self.kind is RuleKind.CONCATENATION:
            return f"{quoted[0]} is {quoted[1]} + '{self.separator}' + {quoted[2]}"
        if self.kind is RuleKind.SIGN:
            return f"{quoted[0]} is {'never negative' if self.variant == 'non_negative' else 'never positive'}"
        if self.kind is RuleKind.RANGE:
            low, high = self.bounds or (np.nan, np.nan)
            return f"{quoted[0]} lies between {low:g} and {high:g}"
        if self.kind is RuleKind.INTEGER:
            return f"{quoted[0]} holds whole numbers"
        if self.kind is RuleKind.IDENTIFIER:
            return f"{quoted[0]} identifies the row (a distinct value in every row)"
        return f"{quoted[0]} leaks {quoted[1]} ({_LEAK_WORDS[self.variant]})"

    def evidence(self) -> str:
        """How many rows obey the rule, in words.

        Examples
        --------
        >>> Rule(RuleKind.INTEGER, ("age",), 2_000, 3).evidence()
        '99.85% of 2,000 rows (3 break it)'
        """
        if self.kind is RuleKind.LEAK:
            return (f"balanced accuracy {self.score:.3f} from this column alone; {self.n_violations:,} of "
                    f"{self.n_rows:,} rows mispredicted")
        broken = f" ({self.n_violations:,} break it)" if self.n_violations else ""
        return f"{_percent(self.share)} of {self.n_rows:,} rows{broken}"

    def leak_message(self) -> str:
        """For a leak: what it means and the fix, naming the column (empty for other rules)."""
        if self.kind is not RuleKind.LEAK:
            return ""
        column, leaked = self.columns
        what = _ROLE_WORDS.get(self.role, "column")
        found = (f"column '{column}' leaks {what} '{leaked}': it is {_LEAK_WORDS[self.variant]} "
                 f"(balanced accuracy {self.score:.3f} from '{column}' alone).")
        if self.role == "sensitive":
            return (f"{found} Leaving '{leaked}' out of a model does not hide the group while '{column}' is in: "
                    f"leave '{column}' out of the model's inputs too.")
        return (f"{found} A classifier given it scores near-perfectly without learning anything (its fairness "
                f"gaps look small for the wrong reason): leave '{column}' out of the model's inputs unless it is "
                "really known when the decision is made.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (the rule's evidence and description included)."""
        values: dict[str, Any] = {"kind": self.kind.value, "columns": list(self.columns), "n_rows": self.n_rows,
                                  "n_violations": self.n_violations, "share": self.share,
                                  "description": self.describe()}
        if self.variant:
            values["variant"] = self.variant
        if self.bounds is not None:
            values["bounds"] = list(self.bounds)
        if self.mapping:
            values["mapping"] = [list(pair) for pair in self.mapping]
        if self.kind is RuleKind.CONCATENATION:
            values["separator"] = self.separator
        if self.score is not None:
            values["score"] = self.score
        if self.role:
            values["role"] = self.role
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Rule:
        """Inverse of :meth:`to_dict` (the share and description are recomputed)."""
        bounds = values.get("bounds")
        return cls(RuleKind(values["kind"]), tuple(values["columns"]), int(values["n_rows"]),
                   int(values["n_violations"]), variant=values.get("variant", ""),
                   bounds=(float(bounds[0]), float(bounds[1])) if bounds is not None else None,
                   mapping=tuple((source, target) for source, target in values.get("mapping", ())),
                   separator=values.get("separator", ""), score=values.get("score"), role=values.get("role", ""))


@dataclass(frozen=True)
class Structure:
    """The rules found in a table (see :func:`detect_structure`).

    Attributes
    ----------
    rules : tuple of Rule
        In a fixed order: by kind, then by column order in the table.
    n_rows : int
        Rows of the table they were found in.
    notes : tuple of str
        Caps that applied (which checks were limited, and how).
    """

    rules: tuple[Rule, ...] = ()
    n_rows: int = 0
    notes: tuple[str, ...] = ()

    @property
    def row_rules(self) -> tuple[Rule, ...]:
        """The rules every row is checked against (all but leaks)."""
        return tuple(r for r in self.rules if r.checks_rows)

    @property
    def leaks(self) -> tuple[Rule, ...]:
        """The leaking columns."""
        return tuple(r for r in self.rules if r.kind is RuleKind.LEAK)

    def of_kind(self, kind: RuleKind | str) -> tuple[Rule, ...]:
        """The rules of one kind."""
        return tuple(r for r in self.rules if r.kind is RuleKind(kind))

    def without(self, keys: Iterable[str]) -> Structure:
        """A copy without the rules whose :attr:`Rule.key` is in ``keys`` (rules a user chose to ignore)."""
        dropped = set(keys)
        return replace(self, rules=tuple(r for r in self.rules if r.key not in dropped))

    def warnings(self) -> tuple[str, ...]:
        """One message per leaking column (:meth:`Rule.leak_message`)."""
        return tuple(r.leak_message() for r in self.leaks)

    @property
    def leak_columns(self) -> tuple[str, ...]:
        """The leaking columns, once each, in the order of their rules."""
        return tuple(dict.fromkeys(r.columns[0] for r in self.leaks))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (for the run manifest and ``inspect --json``)."""
        return {"n_rows": self.n_rows, "rules": [r.to_dict() for r in self.rules], "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Structure:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(Rule.from_dict(r) for r in values.get("rules", ())), int(values.get("n_rows", 0)),
                   tuple(values.get("notes", ())))


def exclude_leaks(schema: Schema, structure: Structure, keep: Iterable[str] = ()) -> tuple[Schema, tuple[str, ...]]:
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
    tuple of (Schema, tuple of str)
        The schema with the leaks left out, and one message per column left out, naming it, what it leaks and
        how to keep it.

    Examples
    --------
    >>> df = pd.DataFrame({"x": [1, 2, 3, 4, 5] * 8, "y_N": [1, 0, 1, 0] * 10, "y_Y": [0, 1, 0, 1] * 10})
    >>> schema, messages = exclude_leaks(infer_schema(df), detect_structure(df, label="y_Y"))
    >>> schema.kind("y_N").value, schema.kind("x").value
    ('leak', 'numeric')
    >>> messages[0][:64]
    "column 'y_N' leaks the label 'y_Y' (it is its exact complement; "
    """
    kept = set(keep)
    rules = {r.columns[0]: r for r in structure.leaks if r.columns[0] in schema.names
             and schema.kind(r.columns[0]).is_feature and r.columns[0] not in kept}
    messages = tuple(f"column '{column}' leaks {_ROLE_WORDS.get(rule.role, 'column')} '{rule.columns[1]}' (it is "
                     f"{_LEAK_WORDS[rule.variant]}; balanced accuracy {rule.score:.3f} from '{column}' alone), so it "
                     "is left out of the generator's and the classifiers' inputs. Keep it only if it is really known "
                     "when the decision is made." for column, rule in rules.items())
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
    rules: list[Rule] = []
    paired: set[str] = set()
    for i, j in zip(*np.triu_indices(len(names), k=1)):
        judged, broken = int(both[i, j]), int(agree[i, j])
        if judged and broken <= (1 - options.min_share) * judged:
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
    explained = {frozenset(r.columns[:2]) for r in found}  # complements, and pairs inside a one-hot group
    for rule in found:
        if rule.kind is RuleKind.ONE_HOT:
            explained |= {frozenset((a, b)) for a in rule.columns for b in rule.columns if a != b}
    for rule in concatenations:  # the parts of a concatenation follow from it: not reported again
        explained |= {frozenset((rule.columns[0], part)) for part in rule.columns[1:]}
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
    forward = _fd_errors(table) <= allowed and judged >= options.min_rows_per_value * len(values_a)
    backward = _fd_errors(table.T) <= allowed and judged >= options.min_rows_per_value * len(values_b)
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


# -- leaks ---------------------------------------------------------------------------------------------
_LEAK_WORDS = {"copy": "an exact copy of it", "complement": "its exact complement",
               "recoding": "a one-to-one recoding of it", "determines": "a finer coding that determines it",
               "predictor": "a near-perfect predictor of it"}
_ROLE_WORDS = {"label": "the label", "sensitive": "the sensitive attribute"}


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


# -- row checks ----------------------------------------------------------------------------------------
def _numbers(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    return np.column_stack([numeric_values(frame[c]).to_numpy() for c in columns])


def _check_one_hot(rule: Rule, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    values = _numbers(frame, rule.columns)
    judged = ~np.isnan(values).any(axis=1)
    zero_one = np.isin(values, (0.0, 1.0)).all(axis=1)
    total = np.nansum(values, axis=1)
    return judged, zero_one & ((total == 1) if rule.variant == "exactly_one" else (total <= 1))


def _check_complement(rule: Rule, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    values = _numbers(frame, rule.columns)
    judged = ~np.isnan(values).any(axis=1)
    return judged, np.isin(values, (0.0, 1.0)).all(axis=1) & (values.sum(axis=1) == 1)


def _check_derived(rule: Rule, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    source, target = frame[rule.columns[0]], frame[rule.columns[1]]
    judged = (source.notna() & target.notna()).to_numpy()
    mapping = dict(rule.mapping)
    obeyed = np.zeros(len(frame), dtype=bool)
    rows = np.flatnonzero(judged)
    obeyed[rows] = [s in mapping and mapping[s] == t for s, t in zip(source.to_numpy(dtype=object)[rows],
                                                                         target.to_numpy(dtype=object)[rows])]
    return judged, obeyed


def _check_concatenation(rule: Rule, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    target, first, second = (frame[c] for c in rule.columns)
    judged = (target.notna() & first.notna() & second.notna()).to_numpy()
    joined = first.astype(str) + rule.separator + second.astype(str)
    return judged, (joined == target.astype(str)).to_numpy()


def _check_sign(rule: Rule, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    values = numeric_values(frame[rule.columns[0]]).to_numpy()
    return ~np.isnan(values), (values >= 0) if rule.variant == "non_negative" else (values <= 0)


def _check_range(rule: Rule, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    values = numeric_values(frame[rule.columns[0]]).to_numpy()
    low, high = rule.bounds or (-np.inf, np.inf)
    slack = RANGE_TOLERANCE * max(abs(low), abs(high), 1.0)
    return ~np.isnan(values), (values >= low - slack) & (values <= high + slack)


def _check_integer(rule: Rule, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    values = numeric_values(frame[rule.columns[0]]).to_numpy()
    return ~np.isnan(values), np.abs(values - np.round(values)) <= INTEGER_TOLERANCE


def _check_identifier(rule: Rule, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    values = frame[rule.columns[0]]
    return values.notna().to_numpy(), ~values.duplicated(keep=False).to_numpy()


_CHECKS = {RuleKind.ONE_HOT: _check_one_hot, RuleKind.COMPLEMENT: _check_complement,
           RuleKind.DERIVED: _check_derived, RuleKind.CONCATENATION: _check_concatenation,
           RuleKind.SIGN: _check_sign, RuleKind.RANGE: _check_range, RuleKind.INTEGER: _check_integer,
           RuleKind.IDENTIFIER: _check_identifier}


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value JSON can hold."""
    return value.item() if isinstance(value, np.generic) else value


def _listing(items: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", … ({len(items)} columns)" if len(items) > limit else "")


def _percent(share: float) -> str:
    return "100%" if share == 1 else f"{share:.2%}"
