"""MEPS panel 19 (the paper's fourth dataset) from the user's copy of AHRQ's 2015 full-year file.

MEPS may not be redistributed, so FairGen ships no copy: users download the 2015 Full Year
Consolidated Data File (HC-181) from AHRQ (https://meps.ahrq.gov/), convert it to ``h181.csv`` as
aif360's ``aif360/data/raw/meps/README.md`` describes, and give that file to :func:`load_meps`.

The preprocessing reproduces aif360's ``MEPSDataset19`` (its ``default_preprocessing`` followed by
``StandardDataset``'s column selection and removal of rows with missing values), vectorised:

1. ``RACE`` is ``'White'`` for non-Hispanic whites (``HISPANX == 2`` and ``RACEV2X == 1``) and
   ``'Non-White'`` otherwise (an empty ``HISPANX`` or ``RACEV2X`` counts as non-white, as in aif360);
2. only panel 19 is kept (``PANEL == 19``);
3. the round-5/3 (``...53``) and year-2015 (``...15``) columns lose their suffix (``AGE53X`` -> ``AGE``);
4. rows with a negative code in ``REGION``, ``AGE``, ``MARRY`` or ``ASTHDX``, or a code below ``-1``
   (refused, don't know, not ascertained) in the other coded columns, ``EDUCYR`` and ``HIDEG``, are dropped;
5. ``UTILIZATION`` is 1 when office-based + outpatient + emergency visits + inpatient nights + home-health
   days reach 10, else 0;
6. the kept columns (aif360's ``features_to_keep``) and the weight ``PERWT15F`` are selected and rows
   with an empty cell in any of them are dropped; the weight is then left out.

On the real file the result has 15,830 rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fairgen_core.data.io import ReadLimits, read_csv
from fairgen_core.errors import DatasetUnavailableError

MEPS_LABEL = "UTILIZATION"
MEPS_FAVOURABLE: tuple[int, ...] = (1,)
MEPS_SENSITIVE_COLUMN = "RACE"
MEPS_PRIVILEGED: tuple[str, ...] = ("White",)
MEPS_WEIGHT_COLUMN = "PERWT15F"
MEPS_PANEL = 19

MEPS_CATEGORICAL: tuple[str, ...] = (
    "REGION", "SEX", "MARRY", "FTSTU", "ACTDTY", "HONRDC", "RTHLTH", "MNHLTH", "HIBPDX", "CHDDX", "ANGIDX",
    "MIDX", "OHRTDX", "STRKDX", "EMPHDX", "CHBRON", "CHOLDX", "CANCERDX", "DIABDX", "JTPAIN", "ARTHDX",
    "ARTHTYPE", "ASTHDX", "ADHDADDX", "PREGNT", "WLKLIM", "ACTLIM", "SOCLIM", "COGLIM", "DFHEAR42", "DFSEE42",
    "ADSMOK42", "PHQ242", "EMPST", "POVCAT", "INSCOV",
)  # fmt: skip
"""aif360's ``categorical_features`` for ``MEPSDataset19``: integer codes that name categories."""

MEPS_COLUMNS: tuple[str, ...] = (
    "REGION", "AGE", "SEX", "RACE", "MARRY", "FTSTU", "ACTDTY", "HONRDC", "RTHLTH", "MNHLTH", "HIBPDX", "CHDDX",
    "ANGIDX", "MIDX", "OHRTDX", "STRKDX", "EMPHDX", "CHBRON", "CHOLDX", "CANCERDX", "DIABDX", "JTPAIN", "ARTHDX",
    "ARTHTYPE", "ASTHDX", "ADHDADDX", "PREGNT", "WLKLIM", "ACTLIM", "SOCLIM", "COGLIM", "DFHEAR42", "DFSEE42",
    "ADSMOK42", "PCS42", "MCS42", "K6SUM42", "PHQ242", "EMPST", "POVCAT", "INSCOV", "UTILIZATION",
)  # fmt: skip
"""The columns :func:`load_meps` returns: aif360's ``features_to_keep`` in its order, without ``PERWT15F``."""

_RENAMES: dict[str, str] = {
    "FTSTU53X": "FTSTU", "ACTDTY53": "ACTDTY", "HONRDC53": "HONRDC", "RTHLTH53": "RTHLTH", "MNHLTH53": "MNHLTH",
    "CHBRON53": "CHBRON", "JTPAIN53": "JTPAIN", "PREGNT53": "PREGNT", "WLKLIM53": "WLKLIM", "ACTLIM53": "ACTLIM",
    "SOCLIM53": "SOCLIM", "COGLIM53": "COGLIM", "EMPST53": "EMPST", "REGION53": "REGION", "MARRY53X": "MARRY",
    "AGE53X": "AGE", "POVCAT15": "POVCAT", "INSCOV15": "INSCOV",
}  # fmt: skip
_RAW_NAMES = {new: old for old, new in _RENAMES.items()}
_RACE_SOURCES = ("HISPANX", "RACEV2X")
_VISIT_COLUMNS = ("OBTOTV15", "OPTOTV15", "ERTOT15", "IPNGTD15", "HHTOTD15")
_NON_NEGATIVE = ("REGION", "AGE", "MARRY", "ASTHDX")
"""Columns whose every negative value (inapplicable or missing) drops the row."""
_NOT_BELOW_MINUS_ONE = (
    "FTSTU", "ACTDTY", "HONRDC", "RTHLTH", "MNHLTH", "HIBPDX", "CHDDX", "ANGIDX", "EDUCYR", "HIDEG", "MIDX",
    "OHRTDX", "STRKDX", "EMPHDX", "CHBRON", "CHOLDX", "CANCERDX", "DIABDX", "JTPAIN", "ARTHDX", "ARTHTYPE",
    "ASTHDX", "ADHDADDX", "PREGNT", "WLKLIM", "ACTLIM", "SOCLIM", "COGLIM", "DFHEAR42", "DFSEE42", "ADSMOK42",
    "PHQ242", "EMPST", "POVCAT", "INSCOV",
)  # fmt: skip
"""Columns where -1 (inapplicable) is kept but -7, -8, -9 (refused, don't know, not ascertained) drop the row."""
_CONTINUOUS = ("PCS42", "MCS42")
"""SF-12 physical and mental summary scores: real numbers, never cast to integers."""
_UTILIZATION_THRESHOLD = 10
_DEFAULT_LIMITS = ReadLimits()
_DERIVED = (MEPS_SENSITIVE_COLUMN, MEPS_LABEL)
_DOWNLOAD_HINT = (
    "download the 2015 Full Year Consolidated Data File HC-181 (h181) from AHRQ (https://meps.ahrq.gov/) and "
    "convert it to h181.csv as aif360 describes (aif360/data/raw/meps/README.md: Rscript generate_data.R)"
)


def _raw_name(column: str) -> str:
    """Return the raw h181 column an output or filter column comes from."""
    return _RAW_NAMES.get(column, column)


def _required_columns() -> tuple[str, ...]:
    names = [
        "PANEL",
        *_RACE_SOURCES,
        *(_raw_name(c) for c in MEPS_COLUMNS if c not in _DERIVED),
        *(_raw_name(c) for c in _NOT_BELOW_MINUS_ONE),
        *_VISIT_COLUMNS,
        MEPS_WEIGHT_COLUMN,
    ]
    return tuple(dict.fromkeys(names))


MEPS_REQUIRED_COLUMNS: tuple[str, ...] = _required_columns()
"""The raw ``h181.csv`` columns the preprocessing reads; any other column is ignored."""


def load_meps(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    limits: ReadLimits = _DEFAULT_LIMITS,
) -> pd.DataFrame:
    """Load MEPS panel 19 from AHRQ's ``h181.csv`` with aif360's ``MEPSDataset19`` preprocessing.

    Parameters
    ----------
    source : str, pathlib.Path or bytes
        Path to the user's ``h181.csv`` or its raw bytes (an upload).
    name : str, optional
        Name used in messages; defaults to the file name or ``"upload"``.
    limits : ReadLimits
        Size and row bounds for reading (the real file has about 35,000 rows and 1,500 columns).

    Returns
    -------
    pandas.DataFrame
        One row per panel-19 person that survives the filters (15,830 on the real file), index
        ``0..n-1``, columns :data:`MEPS_COLUMNS`: ``RACE`` holds ``'White'`` / ``'Non-White'``,
        ``UTILIZATION`` is 0/1 (``int64``), ``PCS42`` and ``MCS42`` are floats, and the other columns
        (the codes of :data:`MEPS_CATEGORICAL`, ``AGE``, ``K6SUM42``) are ``int64`` when whole numbers.

    Raises
    ------
    DataReadError
        If the file cannot be read as a CSV (see :func:`fairgen_core.data.io.read_csv`).
    DatasetUnavailableError
        If required columns are missing or not numeric, or no row survives (e.g. no panel-19 rows);
        the message names the file and says how to get the right one.

    Examples
    --------
    >>> header = ",".join(MEPS_REQUIRED_COLUMNS)
    >>> row = ",".join("19" if column == "PANEL" else "2" for column in MEPS_REQUIRED_COLUMNS)
    >>> frame = load_meps(f"{header}\\n{row}\\n".encode())
    >>> frame.shape, frame.loc[0, "RACE"], int(frame.loc[0, "UTILIZATION"])
    ((1, 42), 'Non-White', 1)
    """
    table = read_csv(source, name=name, delimiter=",", header=True, limits=limits)
    raw = table.frame
    _check_columns(raw, table.source)
    frame = _panel_rows(raw, table.source)
    frame = frame.rename(columns=_RENAMES)
    frame = frame.loc[_valid_codes(frame)]
    frame = frame.assign(**{MEPS_SENSITIVE_COLUMN: _race(frame), MEPS_LABEL: _utilization(frame)})
    kept = frame[[*MEPS_COLUMNS, MEPS_WEIGHT_COLUMN]].dropna()
    if kept.empty:
        raise DatasetUnavailableError(_nothing_survives_message(table.source, len(frame.index)))
    return _finalise(kept.drop(columns=MEPS_WEIGHT_COLUMN))


def _check_columns(raw: pd.DataFrame, label: str) -> None:
    """Raise unless every required column is present and numeric."""
    missing = [c for c in MEPS_REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise DatasetUnavailableError(
            f"{label} is not AHRQ's MEPS 2015 full-year file: it lacks the column(s) {', '.join(missing)} "
            f"that the panel-19 preprocessing needs. To use MEPS, {_DOWNLOAD_HINT}."
        )
    not_numeric = [
        c
        for c in MEPS_REQUIRED_COLUMNS
        if not pd.api.types.is_numeric_dtype(raw[c]) or pd.api.types.is_bool_dtype(raw[c])
    ]
    if not_numeric:
        examples = ", ".join(f"{c}={_first_non_number(raw[c])!r}" for c in not_numeric[:5])
        raise DatasetUnavailableError(
            f"{label} has text in column(s) {', '.join(not_numeric)} (e.g. {examples}), where h181.csv holds "
            f"numeric codes. Give the unmodified conversion of HC-181: {_DOWNLOAD_HINT}."
        )


def _first_non_number(column: pd.Series) -> object:
    values = column.dropna()
    bad = values[pd.to_numeric(values, errors="coerce").isna()]
    return bad.iloc[0] if len(bad) else values.iloc[0]


def _panel_rows(raw: pd.DataFrame, label: str) -> pd.DataFrame:
    """Return the required columns of the panel-19 rows; raise if there are none."""
    in_panel = raw["PANEL"] == MEPS_PANEL
    if not in_panel.any():
        found = sorted(raw["PANEL"].dropna().unique().tolist())
        shown = ", ".join(f"{p:g}" for p in found[:8]) or "none"
        raise DatasetUnavailableError(
            f"{label} has no panel-{MEPS_PANEL} rows (PANEL values found: {shown}); MEPS panel 19 comes from "
            f"the 2015 full-year file, whose rows belong to panels 19 and 20. To use MEPS, {_DOWNLOAD_HINT}."
        )
    return raw.loc[in_panel, list(MEPS_REQUIRED_COLUMNS)]


def _valid_codes(frame: pd.DataFrame) -> pd.Series:
    """Return a mask of rows without missing-value codes (empty cells also fail the tests, as in aif360)."""
    non_negative = frame[list(_NON_NEGATIVE)].ge(0).all(axis=1)
    not_below = frame[list(_NOT_BELOW_MINUS_ONE)].ge(-1).all(axis=1)
    return non_negative & not_below


def _race(frame: pd.DataFrame) -> pd.Series:
    """Return ``'White'`` for non-Hispanic whites and ``'Non-White'`` for everyone else."""
    white = frame["HISPANX"].eq(2) & frame["RACEV2X"].eq(1)
    return pd.Series(np.where(white, "White", "Non-White"), index=frame.index)


def _utilization(frame: pd.DataFrame) -> pd.Series:
    """Return 1.0 when the visit counts sum to at least 10, 0.0 below, NaN when a count is empty."""
    total = frame[list(_VISIT_COLUMNS)].sum(axis=1, skipna=False)
    return total.ge(_UTILIZATION_THRESHOLD).astype(float).where(total.notna())


def _finalise(kept: pd.DataFrame) -> pd.DataFrame:
    """Reset the index and give the label and whole-numbered code columns integer dtypes."""
    out = kept.reset_index(drop=True)
    for column in out.columns:
        if column in (*_CONTINUOUS, MEPS_SENSITIVE_COLUMN) or pd.api.types.is_integer_dtype(out[column]):
            continue
        values = out[column].to_numpy(dtype=float)
        if np.all(np.mod(values, 1) == 0):
            out[column] = values.astype(np.int64)
    return out


def _nothing_survives_message(label: str, n_valid: int) -> str:
    reason = (
        "every one has a missing-value code (negative REGION, AGE, MARRY or ASTHDX, or a code below -1 in "
        "another coded column, EDUCYR or HIDEG)"
        if n_valid == 0
        else "every one that passes the missing-code filters has an empty cell in a kept column or PERWT15F"
    )
    return (
        f"{label} has panel-{MEPS_PANEL} rows, but none survives aif360's MEPS preprocessing: {reason}. "
        f"Check that the file is the unmodified h181.csv; to get it, {_DOWNLOAD_HINT}."
    )
