"""The dataset specification: label, favourable values, sensitive attributes, and the domains they form.

A row's *group* is the intersection of its binarised sensitive attributes (privileged or not for each);
its *domain* is (group, binarised label). With ``k`` sensitive attributes there are ``2**k`` groups and
``2**(k+1)`` domains; the generator conditions on the domain.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairgen_core.data.encoding import plain_value
from fairgen_core.data.schema import ColumnKind, Schema, numeric_values
from fairgen_core.errors import SpecError

_THRESHOLD = re.compile(r"^\s*(?P<column>[^<>=]+?)\s*>=\s*(?P<value>[-+0-9.eE]+)\s*$")
_VALUES = re.compile(r"^\s*(?P<column>[^=]+?)\s*=\s*(?P<values>.+?)\s*$")


@dataclass(frozen=True)
class SensitiveAttribute:
    """A sensitive column binarised into a privileged and an unprivileged group.

    Parameters
    ----------
    column : str
        Column name.
    privileged : tuple
        Values that make a row privileged (categorical columns).
    threshold : float, optional
        For numeric columns: rows with ``value >= threshold`` are privileged.

    Examples
    --------
    >>> SensitiveAttribute.parse("age>=25").describe()
    'age ≥ 25'
    >>> SensitiveAttribute.parse("race=White,Asian").privileged
    ('White', 'Asian')
    """

    column: str
    privileged: tuple[object, ...] = ()
    threshold: float | None = None

    def __post_init__(self) -> None:
        if bool(self.privileged) == (self.threshold is not None):
            raise SpecError(
                f"sensitive attribute '{self.column}' needs either privileged values or a threshold "
                "(one of them, not both): e.g. 'sex=Male' or 'age>=25'."
            )

    @classmethod
    def parse(cls, text: str) -> SensitiveAttribute:
        """Parse ``COL=V1,V2`` (privileged values) or ``COL>=T`` (numeric threshold)."""
        if match := _THRESHOLD.match(text):
            return cls(match["column"], threshold=float(match["value"]))
        if match := _VALUES.match(text):
            values = tuple(v.strip() for v in match["values"].split(",") if v.strip())
            return cls(match["column"], privileged=values)
        raise SpecError(
            f"cannot read the sensitive attribute '{text}': write COLUMN=VALUE[,VALUE...] for the privileged "
            "values (e.g. sex=Male) or COLUMN>=NUMBER for a threshold (e.g. age>=25)."
        )

    def describe(self) -> str:
        """A short human-readable rule, e.g. ``sex ∈ {Male}`` or ``age ≥ 25``."""
        if self.threshold is not None:
            return f"{self.column} ≥ {_number(self.threshold)}"
        return f"{self.column} ∈ {{{', '.join(map(str, self.privileged))}}}"

    def privileged_mask(self, series: pd.Series) -> np.ndarray:
        """Boolean array: which rows are privileged (missing values count as not privileged)."""
        if self.threshold is not None:
            return (numeric_values(series) >= self.threshold).to_numpy()
        return matches_values(series, self.privileged)

    def group_names(self, series: pd.Series) -> tuple[str, str]:
        """Names of the (unprivileged, privileged) groups in terms of the observed values."""
        if self.threshold is not None:
            t = _number(self.threshold)
            return f"{self.column}<{t}", f"{self.column}≥{t}"
        observed = series.dropna().unique().tolist()
        mask = matches_values(pd.Series(observed, dtype=object), self.privileged)
        others = [v for v, m in zip(observed, mask) if not m]
        return _set_name(self.column, others, negated=self.privileged), _set_name(self.column, self.privileged)


@dataclass(frozen=True)
class DatasetSpec:
    """Which column is the label and which columns are sensitive.

    Parameters
    ----------
    label : str
        Label column.
    favourable : tuple
        Label values that count as the favourable outcome (binarised label ``y = 1``).
    sensitive : tuple of SensitiveAttribute
        One or more sensitive attributes; their intersections form the groups.
    min_domain_rows : int
        Domains (group × label cells) with fewer rows than this produce a warning.
    """

    label: str
    favourable: tuple[object, ...]
    sensitive: tuple[SensitiveAttribute, ...]
    min_domain_rows: int = 20

    def __post_init__(self) -> None:
        if not self.favourable:
            raise SpecError(f"choose the favourable value(s) of the label '{self.label}'.")
        if not self.sensitive:
            raise SpecError("choose at least one sensitive attribute (e.g. sex=Male).")

    @property
    def sensitive_columns(self) -> tuple[str, ...]:
        """Names of the sensitive columns, in order."""
        return tuple(s.column for s in self.sensitive)

    @property
    def n_groups(self) -> int:
        """Number of intersectional groups, ``2 ** len(sensitive)``."""
        return 2 ** len(self.sensitive)

    @property
    def n_domains(self) -> int:
        """Number of (group, label) domains, ``2 * n_groups``."""
        return 2 * self.n_groups


def spec_to_dict(spec: DatasetSpec) -> dict[str, Any]:
    """A dataset specification as plain, JSON-ready data (run manifests, job files, checkpoints).

    Parameters
    ----------
    spec : DatasetSpec
        The specification.

    Returns
    -------
    dict
        Keys ``label``, ``favourable``, ``sensitive`` (column, privileged, threshold each) and
        ``min_domain_rows``; numpy scalars become Python numbers.

    Examples
    --------
    >>> spec = DatasetSpec("y", (1,), (SensitiveAttribute("sex", ("M",)),))
    >>> spec_from_dict(spec_to_dict(spec)) == spec
    True
    """
    return {
        "label": spec.label,
        "favourable": [plain_value(v) for v in spec.favourable],
        "sensitive": [{"column": a.column, "privileged": [plain_value(v) for v in a.privileged],
                       "threshold": a.threshold} for a in spec.sensitive],
        "min_domain_rows": spec.min_domain_rows,
    }


def spec_from_dict(values: dict[str, Any]) -> DatasetSpec:
    """Inverse of :func:`spec_to_dict`; files without ``min_domain_rows`` get the default, 20.

    Parameters
    ----------
    values : dict
        What :func:`spec_to_dict` returned (e.g. read back from JSON).

    Returns
    -------
    DatasetSpec
        The specification.
    """
    return DatasetSpec(
        values["label"], tuple(values["favourable"]),
        tuple(SensitiveAttribute(a["column"], tuple(a["privileged"]), a["threshold"]) for a in values["sensitive"]),
        min_domain_rows=values.get("min_domain_rows", 20),
    )


@dataclass(frozen=True)
class DomainAssignment:
    """Each row's group, binarised label and domain.

    Attributes
    ----------
    group : numpy.ndarray
        Group index per row, ``0 .. n_groups-1``; the first attribute is the most significant bit and
        a set bit means privileged (so the last group is privileged on every attribute).
    label : numpy.ndarray
        Binarised label per row (1 = favourable).
    valid : numpy.ndarray
        Rows whose label and sensitive values are all present; other rows have group/label -1.
    group_names : tuple of str
        Names of the groups, by index.
    label_names : tuple of str
        Names of the (unfavourable, favourable) label classes.
    """

    group: np.ndarray
    label: np.ndarray
    valid: np.ndarray
    group_names: tuple[str, ...]
    label_names: tuple[str, str]

    @property
    def domain(self) -> np.ndarray:
        """Domain index per row, ``2 * group + label`` (-1 for invalid rows)."""
        return np.where(self.valid, 2 * self.group + self.label, -1)

    def domain_name(self, index: int) -> str:
        """Human-readable name of a domain index."""
        return f"{self.group_names[index // 2]} · {self.label_names[index % 2]}"


def matches_values(series: pd.Series, values: Sequence[object]) -> np.ndarray:
    """Which entries of ``series`` equal one of ``values``, comparing numbers numerically.

    Values given as text (from the CLI or a form) match numeric columns: ``"1"`` matches ``1.0``.
    """
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        targets = [float(v) for v in values if _as_float(v) is not None]
        return series.isin(targets).to_numpy()
    # Compare the distinct values as text, then spread to the rows: a million rows take milliseconds, not seconds.
    codes, uniques = pd.factorize(series)
    wanted = {str(v) for v in values}
    hits = np.array([str(u) in wanted for u in uniques] + [False])  # the last entry: code -1, a missing value
    return hits[codes]


def suggest_favourable(series: pd.Series) -> tuple[object, ...] | None:
    """The favourable value every front end proposes: 1 for a 0/1 label, True for a False/True one, else None.

    Any other label (e.g. ``yes``/``no``, ``>50K``/``<=50K``) has no safe default: the user chooses.

    Examples
    --------
    >>> suggest_favourable(pd.Series([0, 1, 1])), suggest_favourable(pd.Series(["no", "yes"]))
    ((1,), None)
    """
    values = series.dropna().unique().tolist()
    as_numbers = {_as_float(v) for v in values}
    if values and as_numbers <= {0.0, 1.0} and len(as_numbers) == 2:
        return (1,)
    if set(values) == {True, False}:
        return (True,)
    return None


def infer_favourable(series: pd.Series, label: str) -> tuple[object, ...]:
    """:func:`suggest_favourable`, or an error asking to choose.

    Raises
    ------
    SpecError
        If the label has no suggested favourable value: the caller must choose; the message lists the choices.
    """
    suggested = suggest_favourable(series)
    if suggested is not None:
        return suggested
    values = series.dropna().unique().tolist()
    raise SpecError(
        f"choose the favourable value(s) of the label '{label}' among {_values_preview(values)}."
    )


def assign_domains(frame: pd.DataFrame, spec: DatasetSpec) -> DomainAssignment:
    """Binarise the label and sensitive attributes of every row.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data; must contain the label and sensitive columns.
    spec : DatasetSpec
        The specification.

    Returns
    -------
    DomainAssignment
        Groups, labels and validity per row.
    """
    _require_columns(frame, spec)
    label_series = frame[spec.label]
    valid = label_series.notna().to_numpy().copy()
    group = np.zeros(len(frame), dtype=np.int64)
    names: list[tuple[str, str]] = []
    for attribute in spec.sensitive:
        series = frame[attribute.column]
        present = numeric_values(series).notna() if attribute.threshold is not None else series.notna()
        valid &= present.to_numpy()
        group = 2 * group + attribute.privileged_mask(series).astype(np.int64)
        names.append(attribute.group_names(series))
    label = matches_values(label_series, spec.favourable).astype(np.int64)
    group_names = tuple(
        " & ".join(names[i][(g >> (len(names) - 1 - i)) & 1] for i in range(len(names)))
        for g in range(spec.n_groups)
    )
    label_names = _label_names(label_series, spec)
    return DomainAssignment(
        np.where(valid, group, -1), np.where(valid, label, -1), valid, group_names, label_names
    )


def validate_spec(frame: pd.DataFrame, schema: Schema, spec: DatasetSpec) -> tuple[str, ...]:
    """Check a specification against the data.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data.
    schema : Schema
        Its column kinds.
    spec : DatasetSpec
        The specification to check.

    Returns
    -------
    tuple of str
        Warnings: rows left out for missing values, domains below ``spec.min_domain_rows``.

    Raises
    ------
    SpecError
        If a column is missing or used twice, a favourable or privileged value does not occur, the label
        has one class after binarisation, a threshold is set on a non-numeric column, or a group or a
        (group, label) domain is empty.
    """
    _require_columns(frame, spec)
    _check_roles(spec)
    _check_label(frame[spec.label], spec)
    for attribute in spec.sensitive:
        _check_attribute(frame[attribute.column], attribute, schema)
    assignment = assign_domains(frame, spec)
    warnings = _missing_warnings(frame, spec, assignment)
    counts = np.bincount(assignment.domain[assignment.valid], minlength=spec.n_domains)
    for g, name in enumerate(assignment.group_names):
        if counts[2 * g] + counts[2 * g + 1] == 0:
            raise SpecError(
                f"group '{name}' has no rows: the sensitive attributes "
                f"{', '.join(spec.sensitive_columns)} never take this combination. Drop one sensitive "
                "attribute or change the privileged values so that every group has rows."
            )
    for d, n in enumerate(counts):
        if n == 0:
            group, label = divmod(d, 2)
            other = "unfavourable" if label else "favourable"
            raise SpecError(
                f"domain '{assignment.domain_name(d)}' has no rows: every row of group "
                f"'{assignment.group_names[group]}' has the {other} label, so the generator cannot learn "
                "this (group, label) cell and the group's true/false positive rates are undefined. Choose "
                f"other favourable values of '{spec.label}', fewer sensitive attributes or other privileged "
                "values, or add rows of that cell."
            )
        if n < spec.min_domain_rows:
            warnings.append(
                f"domain '{assignment.domain_name(d)}' has only {n} row(s) (fewer than "
                f"{spec.min_domain_rows}); its synthetic rows and metrics will be unreliable."
            )
    return tuple(warnings)


def domain_table(frame: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """Counts of every group × label cell, base rates and joint shares.

    Returns
    -------
    pandas.DataFrame
        One row per group (index: group name) with columns ``n_unfavourable``, ``n_favourable``, ``n``,
        ``base_rate`` (P(y=1 | group)), ``p_unfavourable`` and ``p_favourable`` (P(group, y)).

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1, 0, 0, 1, 1], "s": ["a", "a", "b", "b", "b"]})
    >>> spec = DatasetSpec("y", (1,), (SensitiveAttribute("s", ("b",)),), min_domain_rows=1)
    >>> domain_table(df, spec)["n"].tolist()
    [2, 3]
    """
    assignment = assign_domains(frame, spec)
    counts = np.bincount(assignment.domain[assignment.valid], minlength=spec.n_domains).reshape(-1, 2)
    total = max(int(counts.sum()), 1)
    n = counts.sum(axis=1)
    table = pd.DataFrame(
        {
            "n_unfavourable": counts[:, 0],
            "n_favourable": counts[:, 1],
            "n": n,
            "base_rate": np.divide(counts[:, 1], n, out=np.full(len(n), np.nan), where=n > 0),
            "p_unfavourable": counts[:, 0] / total,
            "p_favourable": counts[:, 1] / total,
        },
        index=pd.Index(assignment.group_names, name="group"),
    )
    return table


def require_column(frame: pd.DataFrame, column: str, role: str) -> None:
    """Raise :class:`SpecError` naming close matches when ``column`` is not in ``frame``."""
    if column not in frame.columns:
        close = difflib.get_close_matches(column, [str(c) for c in frame.columns], n=3)
        hint = f"did you mean {' or '.join(map(repr, close))}?" if close else "check the column names."
        raise SpecError(f"{role} column '{column}' is not in the data: {hint}")


def require_values(series: pd.Series, role: str) -> None:
    """Raise :class:`SpecError` when the column ``series`` is empty (every value missing).

    Examples
    --------
    >>> try:
    ...     require_values(pd.Series([None, None], name="sex"), "sensitive attribute")
    ... except SpecError as error:
    ...     print(str(error).split(":")[0])
    sensitive attribute 'sex' is empty (all 2 values are missing)
    """
    if series.notna().any():
        return
    raise SpecError(
        f"{role} '{series.name}' is empty (all {len(series):,} values are missing): choose another column, or fill "
        "in its values in the file."
    )


def _require_columns(frame: pd.DataFrame, spec: DatasetSpec) -> None:
    require_column(frame, spec.label, "label")
    for column in spec.sensitive_columns:
        require_column(frame, column, "sensitive attribute")


def _check_roles(spec: DatasetSpec) -> None:
    if spec.label in spec.sensitive_columns:
        raise SpecError(
            f"column '{spec.label}' is both the label and a sensitive attribute: choose a different label "
            "or sensitive attribute."
        )
    seen = set()
    for column in spec.sensitive_columns:
        if column in seen:
            raise SpecError(f"sensitive attribute '{column}' is listed twice: list each column once.")
        seen.add(column)


def _check_label(series: pd.Series, spec: DatasetSpec) -> None:
    require_values(series, "label column")
    present = series.dropna()
    values = present.unique().tolist()
    missing = [v for v in spec.favourable if not matches_values(present, [v]).any()]
    if missing:
        raise SpecError(
            f"favourable value(s) {', '.join(map(repr, missing))} do not occur in the label '{spec.label}': "
            f"choose among {_values_preview(values)}."
        )
    positive = matches_values(present, spec.favourable)
    if positive.all() or not positive.any():
        only = "favourable" if positive.all() else "unfavourable"
        raise SpecError(
            f"label '{spec.label}' has only one class after binarisation (every row is {only}; values: "
            f"{_values_preview(values)}): a classifier needs both classes. Choose a different favourable "
            "value set or a different label column."
        )


def _check_attribute(series: pd.Series, attribute: SensitiveAttribute, schema: Schema) -> None:
    column = attribute.column
    require_values(series, "sensitive attribute")
    if attribute.threshold is not None:
        if not schema[column].numeric:
            raise SpecError(
                f"sensitive attribute '{column}' is not numeric, so a threshold (≥ {_number(attribute.threshold)})"
                f" cannot apply: give privileged values instead, e.g. {column}={series.dropna().iloc[0]}."
            )
    else:
        present = series.dropna()
        absent = [v for v in attribute.privileged if not matches_values(present, [v]).any()]
        if absent:
            raise SpecError(
                f"privileged value(s) {', '.join(map(repr, absent))} do not occur in the sensitive attribute "
                f"'{column}': choose among {_values_preview(present.unique().tolist())}."
            )
    mask = attribute.privileged_mask(series)
    present_mask = (numeric_values(series) if attribute.threshold is not None else series).notna().to_numpy()
    n_priv, n_unpriv = int((mask & present_mask).sum()), int((~mask & present_mask).sum())
    if n_priv == 0 or n_unpriv == 0:
        empty = "privileged" if n_priv == 0 else "unprivileged"
        raise SpecError(
            f"sensitive attribute '{column}' has no {empty} rows with the rule {attribute.describe()}: "
            "every row falls in one group. Choose privileged values or a threshold that split the data."
        )
    if schema[column].kind is ColumnKind.CONSTANT:
        raise SpecError(f"sensitive attribute '{column}' has a single value: choose another column.")


def _missing_warnings(frame: pd.DataFrame, spec: DatasetSpec, assignment: DomainAssignment) -> list[str]:
    n_invalid = int((~assignment.valid).sum())
    if not n_invalid:
        return []
    columns = [spec.label, *spec.sensitive_columns]
    per_column = {c: int(frame[c].isna().sum()) for c in columns if frame[c].isna().any()}
    detail = ", ".join(f"'{c}': {n:,}" for c, n in per_column.items()) or "non-numeric threshold values"
    return [
        f"{n_invalid:,} row(s) have a missing label or sensitive value ({detail}) and are left out of "
        "groups, training and metrics."
    ]


def _label_names(series: pd.Series, spec: DatasetSpec) -> tuple[str, str]:
    observed = series.dropna().unique().tolist()
    mask = matches_values(pd.Series(observed, dtype=object), spec.favourable)
    others = [v for v, m in zip(observed, mask) if not m]
    return _set_name(spec.label, others, negated=spec.favourable), _set_name(spec.label, spec.favourable)


def _set_name(column: str, values: Sequence[object], negated: Sequence[object] = ()) -> str:
    if negated and (len(values) > 3 or not values):
        return f"{column}∉{{{', '.join(map(str, negated))}}}"
    if len(values) == 1:
        return f"{column}={values[0]}"
    return f"{column}∈{{{', '.join(map(str, sorted(values, key=str)))}}}"


def _as_float(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _values_preview(values: Sequence[object], limit: int = 10) -> str:
    ordered = sorted(values, key=str)
    shown = ", ".join(repr(v) for v in ordered[:limit])
    return shown + (f", … ({len(ordered)} values)" if len(ordered) > limit else "")
