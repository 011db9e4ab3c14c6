"""Validity of rows: the share that keep every structural rule found in the real data.

The rules are :func:`~fairgen_core.data.structure.detect_structure`'s (one-hot groups, complements, derived and
concatenated columns, implications between values, numeric ranges, signs and whole numbers, identifiers); leaks are
warnings about the data, not rules, and are not checked. A row obeys a rule when it has a missing value in the
rule's columns (:meth:`~fairgen_core.data.rules.Rule.holds`). Synthetic rows are judged against real rows (e.g. the
test split): :attr:`ValidityReport.good` asks for at most :data:`VALIDITY_MARGIN` below the real rows' share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairgen_core.data.rules import Structure

#: Synthetic rows are judged poor when their share of valid rows is more than this below the real rows' share.
VALIDITY_MARGIN = 0.02
RULE_COLUMNS = ("rule", "kind", "columns", "description", "evidence", "share", "violations", "real_share")
DOMAIN_COLUMNS = ("domain", "rows", "share")


@dataclass(frozen=True)
class ValidityReport:
    """How many rows keep the data's structural rules.

    Attributes
    ----------
    share : float
        Share of the rows that obey every checked rule (1.0 when no rule is checked; NaN without rows).
    n_rows : int
        Rows checked.
    per_rule : pandas.DataFrame
        One row per checked rule: ``rule`` (its key), ``kind``, ``columns``, ``description``, ``evidence`` (the
        share of the data's rows that obeyed it when it was found), ``share`` and ``violations`` in these rows,
        ``real_share`` (in the reference rows; NaN without them).
    per_domain : pandas.DataFrame
        ``domain``, ``rows``, ``share`` per (group, label) domain; empty when no domains were given.
    reference : float or None
        Share of the reference (real) rows that obey every rule, when they were given.
    skipped : tuple of str
        Keys of rules not checked because the rows lack one of their columns.
    """

    share: float
    n_rows: int
    per_rule: pd.DataFrame
    per_domain: pd.DataFrame
    reference: float | None = None
    skipped: tuple[str, ...] = ()

    @property
    def n_rules(self) -> int:
        """Rules checked."""
        return len(self.per_rule)

    @property
    def good(self) -> bool:
        """Whether the share is at most :data:`VALIDITY_MARGIN` below the reference rows' (or below 1 without them)."""
        if not self.n_rules or not self.n_rows:
            return True
        return self.share >= (1.0 if self.reference is None else self.reference) - VALIDITY_MARGIN

    def worst_rule(self) -> pd.Series | None:
        """The checked rule kept by the smallest share of the rows, or None without rules."""
        if self.per_rule.empty:
            return None
        return self.per_rule.loc[self.per_rule["share"].idxmin()]

    def verdict(self, rows: str = "synthetic rows") -> str:
        """One sentence: the share, the real rows' share, and, when poor, the weakest rule and what it means.

        Parameters
        ----------
        rows : str
            What the checked rows are, for the sentence.
        """
        if not self.n_rules:
            return "No structural rule was found in the data (or all were set aside), so there is nothing to check."
        if not self.n_rows:
            return f"There are no {rows} to check against the data's {self.n_rules} structural rule(s)."
        real = f" (real test rows: {_percent(self.reference)})" if self.reference is not None else ""
        sentence = f"{_percent(self.share)} of the {rows} keep all {self.n_rules} structural rule(s) of the data{real}."
        if self.good:
            return sentence
        worst = self.worst_rule()
        return (f"Only {sentence[0].lower()}{sentence[1:]} The rule broken most is: {worst['description']} "
                f"(kept by {_percent(worst['share'])}). Rows that break such rules describe records that cannot "
                "exist; use them with care, or drop them before use.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (``quality --json``'s ``validity``)."""
        def records(table: pd.DataFrame) -> list[dict[str, Any]]:
            return table.astype(object).where(table.notna(), None).to_dict(orient="records")

        return {"share": None if np.isnan(self.share) else self.share, "n_rows": self.n_rows,
                "reference": self.reference, "good": self.good, "verdict": self.verdict(),
                "rules": records(self.per_rule), "per_domain": records(self.per_domain),
                "skipped": list(self.skipped)}


def validity(rows: pd.DataFrame, structure: Structure, *, domains: np.ndarray | None = None,
             domain_names: Sequence[str] = (), reference: pd.DataFrame | None = None) -> ValidityReport:
    """The share of ``rows`` that obey every structural rule, overall, per rule and per domain.

    Parameters
    ----------
    rows : pandas.DataFrame
        The rows to check (e.g. synthetic rows in the original schema).
    structure : Structure
        The rules (leaks are not checked).
    domains : numpy.ndarray, optional
        Domain index per row (-1: none); gives :attr:`ValidityReport.per_domain`.
    domain_names : sequence of str
        Names of the domains, by index.
    reference : pandas.DataFrame, optional
        Real rows with the same columns (e.g. the test split): their shares are the yardstick.

    Returns
    -------
    ValidityReport

    Examples
    --------
    >>> from fairgen_core.data.structure import detect_structure
    >>> real = pd.DataFrame({"a_N": [1, 0] * 20, "a_Y": [0, 1] * 20})
    >>> rows = pd.DataFrame({"a_N": [1, 0, 1, 0], "a_Y": [0, 1, 1, 0]})
    >>> report = validity(rows, detect_structure(real), reference=real)
    >>> report.share, report.reference, report.good
    (0.5, 1.0, False)
    """
    checked = [r for r in structure.row_rules if all(c in rows.columns for c in r.columns)]
    skipped = tuple(r.key for r in structure.row_rules if r not in checked)
    kept = np.ones(len(rows), dtype=bool)
    kept_real = np.ones(len(reference), dtype=bool) if reference is not None else None
    records = []
    for rule in checked:
        holds = rule.holds(rows)
        kept &= holds
        real_share = np.nan
        if kept_real is not None:
            real_holds = rule.holds(reference)
            kept_real &= real_holds
            real_share = _mean(real_holds)
        records.append({"rule": rule.key, "kind": rule.kind.value, "columns": ", ".join(rule.columns),
                        "description": rule.describe(), "evidence": rule.share, "share": _mean(holds),
                        "violations": int((~holds).sum()), "real_share": real_share})
    per_rule = pd.DataFrame(records, columns=list(RULE_COLUMNS))
    per_domain = pd.DataFrame(columns=list(DOMAIN_COLUMNS))
    if domains is not None:
        domains = np.asarray(domains)
        per_domain = pd.DataFrame([{"domain": name, "rows": int((domains == d).sum()),
                                    "share": _mean(kept[domains == d])} for d, name in enumerate(domain_names)],
                                  columns=list(DOMAIN_COLUMNS))
    return ValidityReport(_mean(kept) if len(rows) else np.nan, len(rows), per_rule, per_domain,
                          None if kept_real is None else _mean(kept_real), skipped)


def _mean(flags: np.ndarray) -> float:
    return float(flags.mean()) if len(flags) else np.nan


def _percent(share: float | None) -> str:
    if share is None or np.isnan(share):
        return "n/a"
    return "100%" if share == 1 else f"{share:.1%}"
