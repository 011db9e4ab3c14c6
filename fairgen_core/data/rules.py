"""The rules a table's rows keep: what each says, its evidence, and whether rows obey it.

A :class:`Rule` is one finding of :func:`~fairgen_core.data.structure.detect_structure` (which finds them) with its
evidence (rows judged, rows that break it); a :class:`Structure` holds a table's rules. :meth:`Rule.holds` checks
rows of any table with the same columns (synthetic rows: :mod:`fairgen_core.metrics.validity`);
:func:`~fairgen_core.data.repair.repair_rows` makes rows keep them. Rows with a missing value in a rule's columns
are not judged by it.

The kinds (:class:`RuleKind`): one-hot groups (exactly one, or at most one, 1 per row), complement pairs (two 0/1
columns summing to 1), derived columns (a function of another column), concatenations (``race-sex`` =
``race`` + ``-`` + ``sex``), implications (one value of a column implies one value of another: ``relationship`` =
``Husband`` ⇒ ``sex`` = ``Male``), numeric ranges, signs and whole numbers, identifiers, and leaks (a column that
predicts the label or a sensitive attribute: a warning about the data, not a property of rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from fairgen_core.data.schema import numeric_values
from fairgen_core.errors import FairGenError

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
    IMPLICATION = "implication"
    SIGN = "sign"
    RANGE = "range"
    INTEGER = "integer"
    IDENTIFIER = "identifier"
    LEAK = "leak"




@dataclass(frozen=True)
class Rule:
    """One rule found in the data, with its evidence.

    Attributes
    ----------
    kind : RuleKind
        What the rule says.
    columns : tuple of str
        The columns it ties: a one-hot group's members; a complement pair; ``(source, target)`` of a derived
        column; ``(target, first, second)`` of a concatenation; ``(source, target)`` of an implication; the column
        of a sign, range, integer or identifier rule; ``(column, leaked)`` of a leak.
    n_rows : int
        Rows judged (those with values in every column of the rule; for an implication, those with its source
        value: its support).
    n_violations : int
        Judged rows that break it (for a leak: rows the column's best single-column rule gets wrong).
    variant : str
        ``exactly_one`` / ``at_most_one`` (one-hot); ``function`` / ``one_to_one`` (derived); ``non_negative`` /
        ``non_positive`` (sign); ``copy`` / ``complement`` / ``recoding`` / ``determines`` / ``predictor`` (leak).
    bounds : tuple of float, optional
        A range rule's observed minimum and maximum.
    mapping : tuple of (source, target) pairs
        A derived column's value for each source value (the most frequent one when the rule is not exact); an
        implication's one pair (``(("Husband", "Male"),)``).
    separator : str
        A concatenation's separator.
    score : float, optional
        A leak's balanced accuracy; for an implication, the rows that would break it if its two columns were
        independent (what the rule says beyond chance).
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
        """A stable identifier: kind and columns, and an implication's source value (what a user's choice to ignore
        the rule is kept under)."""
        key = f"{self.kind.value}:{'|'.join(self.columns)}"
        return f"{key}={self.mapping[0][0]}" if self.kind is RuleKind.IMPLICATION else key

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

    def computed(self, fixed: Iterable[str] = ()) -> str | None:
        """The column that rows repaired to keep the rule get from its other columns, or None.

        A complement's second column (its first when the second is ``fixed``: a label or sensitive column is never
        rewritten), a derived column's target (its source when the target is fixed and the rule is one-to-one), a
        concatenation's target; other kinds compute no column (:func:`~fairgen_core.data.repair.repair_rows`).

        Examples
        --------
        >>> rule = Rule(RuleKind.COMPLEMENT, ("y_N", "y_Y"), 10, 0)
        >>> rule.computed(), rule.computed(fixed=("y_Y",))
        ('y_Y', 'y_N')
        """
        fixed = set(fixed)
        if self.kind is RuleKind.COMPLEMENT:
            first, second = self.columns
            return None if {first, second} <= fixed else first if second in fixed else second
        if self.kind is RuleKind.DERIVED:
            source, target = self.columns
            if target not in fixed:
                return target
            return source if self.variant == "one_to_one" and source not in fixed else None
        if self.kind is RuleKind.CONCATENATION and self.columns[0] not in fixed:
            return self.columns[0]
        return None

    def describe(self) -> str:
        """The rule in words, without its evidence.

        Examples
        --------
        >>> Rule(RuleKind.DERIVED, ("education", "education-num"), 10, 0, variant="one_to_one").describe()
        "'education-num' is a one-to-one recoding of 'education'"
        >>> Rule(RuleKind.IMPLICATION, ("relationship", "sex"), 10, 0, mapping=(("Wife", "Female"),)).describe()
        "'relationship' = 'Wife' implies 'sex' = 'Female'"
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
        if self.kind is RuleKind.IMPLICATION:
            (source, target), = self.mapping
            return f"{quoted[0]} = {_value_text(source)} implies {quoted[1]} = {_value_text(target)}"
        if self.kind is RuleKind.SIGN:
            return f"{quoted[0]} is {'never negative' if self.variant == 'non_negative' else 'never positive'}"
        if self.kind is RuleKind.RANGE:
            low, high = self.bounds or (np.nan, np.nan)
            return f"{quoted[0]} lies between {low:g} and {high:g}"
        if self.kind is RuleKind.INTEGER:
            return f"{quoted[0]} holds whole numbers"
        if self.kind is RuleKind.IDENTIFIER:
            return f"{quoted[0]} identifies the row (a distinct value in every row)"
        return f"{quoted[0]} leaks {quoted[1]} ({LEAK_WORDS[self.variant]})"

    def evidence(self) -> str:
        """How many rows obey the rule, in words.

        Examples
        --------
        >>> Rule(RuleKind.INTEGER, ("age",), 2_000, 3).evidence()
        '99.85% of 2,000 rows (3 break it)'
        >>> Rule(RuleKind.IMPLICATION, ("relationship", "sex"), 19_716, 1, mapping=(("Husband", "Male"),),
        ...      score=6_503.2).evidence()
        "99.99% of the 19,716 rows with 'relationship' = 'Husband' (1 break it; 6,503 would by chance)"
        """
        if self.kind is RuleKind.LEAK:
            return (f"balanced accuracy {self.score:.3f} from this column alone; {self.n_violations:,} of "
                    f"{self.n_rows:,} rows mispredicted")
        broken = f" ({self.n_violations:,} break it)" if self.n_violations else ""
        if self.kind is RuleKind.IMPLICATION:
            notes = [f"{self.n_violations:,} break it"] if self.n_violations else []
            notes += [f"{self.score:,.0f} would by chance"] if self.score is not None else []
            return (f"{_percent(self.share)} of the {self.n_rows:,} rows with '{self.columns[0]}' = "
                    f"{_value_text(self.mapping[0][0])}" + (f" ({'; '.join(notes)})" if notes else ""))
        return f"{_percent(self.share)} of {self.n_rows:,} rows{broken}"

    def leak_message(self) -> str:
        """For a leak: what it means and the fix, naming the column (empty for other rules)."""
        if self.kind is not RuleKind.LEAK:
            return ""
        column, leaked = self.columns
        what = ROLE_WORDS.get(self.role, "column")
        found = (f"column '{column}' leaks {what} '{leaked}': it is {LEAK_WORDS[self.variant]} "
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


#: What a leak is, in words, by :attr:`Rule.variant`; and what it leaks, by :attr:`Rule.role`.
LEAK_WORDS = {"copy": "an exact copy of it", "complement": "its exact complement",
              "recoding": "a one-to-one recoding of it", "determines": "a finer coding that determines it",
              "predictor": "a near-perfect predictor of it"}
ROLE_WORDS = {"label": "the label", "sensitive": "the sensitive attribute"}


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


def _check_implication(rule: Rule, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    (value, implied), = rule.mapping
    source, target = frame[rule.columns[0]], frame[rule.columns[1]]
    return equals(source, value) & target.notna().to_numpy(), equals(target, implied)


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
           RuleKind.IMPLICATION: _check_implication,
           RuleKind.SIGN: _check_sign, RuleKind.RANGE: _check_range, RuleKind.INTEGER: _check_integer,
           RuleKind.IDENTIFIER: _check_identifier}


def equals(values: pd.Series, value: Any) -> np.ndarray:
    """Whether each of ``values`` equals ``value`` (missing values do not).

    Examples
    --------
    >>> equals(pd.Series(["a", None, "b"], dtype="string"), "a").tolist()
    [True, False, False]
    """
    return values.eq(value).fillna(False).to_numpy(dtype=bool)


def is_one(value: Any) -> bool:
    """Whether a value stands for "1" in a 0/1 column (True, 1, 1.0 or the text "1").

    Examples
    --------
    >>> [is_one(v) for v in (True, 1, 1.0, "1", "yes", 0)]
    [True, True, True, True, False, False]
    """
    return _digit(value) == 1


def is_zero(value: Any) -> bool:
    """Whether a value stands for "0" in a 0/1 column (False, 0, 0.0 or the text "0").

    Examples
    --------
    >>> [is_zero(v) for v in (False, 0, 0.0, "0", "no", 1)]
    [True, True, True, True, False, False]
    """
    return _digit(value) == 0


def _digit(value: Any) -> float | None:
    """The number a boolean, number or numeric text stands for (None for anything else)."""
    if isinstance(value, (bool, np.bool_, int, float, np.number)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _value_text(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else f"{value}"


def _listing(items: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", … ({len(items)} columns)" if len(items) > limit else "")


def _percent(share: float) -> str:
    return "100%" if share == 1 else f"{share:.2%}"
