"""The models to audit: prediction columns checked and wrapped, a second file of predictions aligned with the data.

Every refusal is a :class:`~fairgen_core.errors.PredictionError` naming the column, the rows (1-based, row 1 = the
first data row) and the fix, in words that do not depend on the front end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fairgen_core.data.spec import DatasetSpec, require_column
from fairgen_core.errors import PredictionError

#: The settings that fix a refused input (:attr:`PredictionError.remedy <fairgen_core.errors.PredictionError>`):
#: read the column as scores with a threshold, min–max scale scores to [0, 1], match a second file by a key column.
MARK_AS_SCORES, RESCALE_SCORES, MATCH_BY_KEY = "mark as scores", "rescale scores", "match by key"
REMEDIES = (MARK_AS_SCORES, RESCALE_SCORES, MATCH_BY_KEY)

@dataclass(frozen=True, eq=False)
class ModelInput:
    """One model's outputs, aligned with the data rows.

    Attributes
    ----------
    name : str
        The model's name (its column).
    values : numpy.ndarray
        One value per data row: 0/1 decisions (1 = favourable) or scores in [0, 1].
    is_score : bool
        Whether ``values`` are scores (thresholded by the config) rather than decisions.
    """

    name: str
    values: np.ndarray
    is_score: bool


def candidate_columns(frame: pd.DataFrame, spec: DatasetSpec) -> list[str]:
    """Columns that could hold a model's output: numeric or true/false, not the label, not a sensitive column.

    Examples
    --------
    >>> from fairgen_core.data.spec import SensitiveAttribute
    >>> frame = pd.DataFrame({"y": [0, 1], "sex": ["F", "M"], "age": [30, 40], "score": [0.2, 0.7], "job": ["a", "b"]})
    >>> candidate_columns(frame, DatasetSpec("y", (1,), (SensitiveAttribute("sex", ("M",)),)))
    ['age', 'score']
    """
    excluded = {spec.label, *spec.sensitive_columns}
    return [str(c) for c in frame.columns if c not in excluded and (
        pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))]


def model_inputs(
    frame: pd.DataFrame, columns: Sequence[str], *, scores: bool, rescale: bool = False
) -> list[ModelInput]:
    """Check prediction columns of ``frame`` and wrap them as models to audit.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data (or predictions aligned with it by :func:`join_predictions`).
    columns : sequence of str
        One column per model.
    scores : bool
        True: the columns hold scores in [0, 1] (thresholded later); False: 0/1 decisions (True/False too).
    rescale : bool
        For scores outside [0, 1]: min–max scale each column to [0, 1] (order kept) instead of refusing it.

    Returns
    -------
    list of ModelInput
        One per column, in order.

    Raises
    ------
    SpecError
        If a column is not in ``frame``.
    PredictionError
        If no column is given or one is given twice, or a column has missing or non-numeric values (the
        message names the first rows), a single value, decisions other than 0/1, or scores outside
        [0, 1] without ``rescale``.

    Examples
    --------
    >>> frame = pd.DataFrame({"p": [0, 1, 1], "s": [0.2, 0.9, 0.5]})
    >>> [(m.name, m.values.tolist()) for m in model_inputs(frame, ["s"], scores=True)]
    [('s', [0.2, 0.9, 0.5])]
    """
    if isinstance(columns, str) or not columns:
        raise PredictionError("choose at least one predictions column (a list of column names).")
    repeated = sorted({c for c in columns if list(columns).count(c) > 1})
    if repeated:
        raise PredictionError(f"predictions column(s) {', '.join(map(repr, repeated))} are listed twice: list each "
                              "model's column once.")
    models = []
    for column in columns:
        require_column(frame, column, "predictions")
        values = _numeric_predictions(frame[column], column, scores)
        values = _checked_scores(values, column, rescale) if scores else _checked_decisions(values, column)
        models.append(ModelInput(str(column), values, is_score=scores))
    return models


def join_predictions(frame: pd.DataFrame, predictions: pd.DataFrame, *, key: str | None = None) -> pd.DataFrame:
    """Align a second table of predictions with the rows of ``frame``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data.
    predictions : pandas.DataFrame
        One or more prediction columns (and the key column when ``key`` is given).
    key : str, optional
        A column in both tables identifying a row; each value once per table, every data row with a
        prediction and every prediction with a data row. Without it, rows are matched by order, and the
        two tables must have the same number of rows.

    Returns
    -------
    pandas.DataFrame
        The prediction columns (without the key), one row per row of ``frame``, with ``frame``'s index.

    Raises
    ------
    SpecError
        If ``key`` is not in ``frame``.
    PredictionError
        If ``key`` is not in ``predictions``, the row counts differ (by order), or key values are missing,
        repeated, or unmatched on either side (the message gives the count and examples).

    Examples
    --------
    >>> data = pd.DataFrame({"id": [1, 2, 3], "y": [0, 1, 1]})
    >>> preds = pd.DataFrame({"id": [3, 1, 2], "p": [1, 0, 1]})
    >>> join_predictions(data, preds, key="id")["p"].tolist()
    [0, 1, 1]
    """
    if key is None:
        if len(predictions) != len(frame):
            raise PredictionError(
                f"the predictions have {len(predictions):,} rows but the data has {len(frame):,}: matching by row "
                "order needs the same rows in the same order. Match them by a key column present in both files, "
                "or export the predictions for exactly the data's rows.",
                remedy=MATCH_BY_KEY,
            )
        return predictions.set_axis(frame.index, axis=0)
    require_column(frame, key, "key")
    if key not in predictions.columns:
        raise PredictionError(f"key column '{key}' is not in the predictions (their columns: "
                              f"{', '.join(map(repr, predictions.columns[:10]))}): add it, or match by row order.")
    if predictions.shape[1] < 2:
        raise PredictionError(f"the predictions hold only the key column '{key}': add the models' prediction columns.")
    data_keys = _key_values(frame[key], predictions[key], "the data", key)
    prediction_keys = _key_values(predictions[key], frame[key], "the predictions", key)
    index = pd.Index(prediction_keys)
    _require_unique(data_keys, "the data", key)
    _require_unique(prediction_keys, "the predictions", key)
    positions = index.get_indexer(data_keys)
    _require_matched(data_keys[positions < 0], "data row(s) have no prediction", key,
                     "add their predictions, or drop those rows from the data")
    unused = ~index.isin(data_keys)
    _require_matched(prediction_keys[unused], "prediction(s) match no data row", key,
                     "check that both files use the same key values, or drop those predictions")
    return predictions.drop(columns=[key]).iloc[positions].set_axis(frame.index, axis=0)


def _rows(mask: np.ndarray, limit: int = 5) -> str:
    """The first rows where ``mask`` holds, 1-based (row 1 = the first data row under the header)."""
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(r + 1) for r in rows[:limit])
    more = f" and {rows.size - limit:,} more" if rows.size > limit else ""
    return f"row{'s' if rows.size > 1 else ''} {shown}{more} (row 1 = the first data row)"


def _numeric_predictions(series: pd.Series, column: str, scores: bool) -> np.ndarray:
    """The column as floats, refusing missing and non-numeric values (naming rows)."""
    missing = series.isna().to_numpy()
    if missing.any():
        raise PredictionError(
            f"predictions column '{column}' has {int(missing.sum()):,} missing value(s), at {_rows(missing)}: every "
            "audited row needs the model's output. Fill them in, or drop those rows from the data."
        )
    if pd.api.types.is_bool_dtype(series):
        return series.to_numpy().astype(float)
    numbers = pd.to_numeric(series, errors="coerce")
    bad = numbers.isna().to_numpy()
    if bad.any():
        distinct = pd.unique(series.astype(str))
        if not scores and len(distinct) == 2:
            first, second = sorted(distinct)
            raise PredictionError(
                f"predictions column '{column}' holds the values '{first}' and '{second}', not 0/1: map the "
                f"favourable decision to 1 and the other to 0 (e.g. 1 for '{second}', 0 for '{first}')."
            )
        raise PredictionError(
            f"predictions column '{column}' has non-numeric value(s) such as {series[bad].iloc[0]!r}, at "
            f"{_rows(bad)}: give {'scores as numbers in [0, 1]' if scores else '0/1 decisions'} in that column."
        )
    values = numbers.to_numpy(dtype=float)
    infinite = ~np.isfinite(values)
    if infinite.any():
        raise PredictionError(f"predictions column '{column}' has infinite value(s), at {_rows(infinite)}: give "
                              "finite numbers.")
    return values


def _single_value(values: np.ndarray, column: str, what: str) -> None:
    if values.size and (values == values[0]).all():
        raise PredictionError(
            f"predictions column '{column}' holds a single value ({values[0]:g}) in all {values.size:,} rows: a "
            f"model giving everybody the same {what} treats every group alike by construction, so there is "
            "nothing to audit. Check that this is the model's output column."
        )


def _checked_decisions(values: np.ndarray, column: str) -> np.ndarray:
    distinct = np.unique(values)
    if np.isin(distinct, (0, 1)).all():
        _single_value(values, column, "decision")
        return values.astype(np.int8)
    if distinct.size == 2:
        raise PredictionError(
            f"predictions column '{column}' holds the values {distinct[0]:g} and {distinct[1]:g}, not 0/1: map the "
            f"favourable decision to 1 and the other to 0 (e.g. 1 for {distinct[1]:g}), or mark the column as "
            "scores if it is a score.",
            remedy=MARK_AS_SCORES,
        )
    shown = ", ".join(f"{v:g}" for v in distinct[:5])
    raise PredictionError(
        f"predictions column '{column}' holds {distinct.size:,} distinct values ({shown}"
        f"{', …' if distinct.size > 5 else ''}), not 0/1 decisions: if they are scores or probabilities, mark "
        "the column as scores and choose a threshold.",
        remedy=MARK_AS_SCORES,
    )


def _checked_scores(values: np.ndarray, column: str, rescale: bool) -> np.ndarray:
    _single_value(values, column, "score")
    outside = (values < 0) | (values > 1)
    if not outside.any():
        return values
    if rescale:
        low, high = values.min(), values.max()
        return (values - low) / (high - low)
    raise PredictionError(
        f"scores column '{column}' has values outside [0, 1] (from {values.min():g} to {values.max():g}; at "
        f"{_rows(outside)}): give probabilities in [0, 1], rescale the column yourself, or rescale the scores to "
        "[0, 1] with FairGen (min–max: the order of the scores is kept, the threshold then applies to the scaled "
        "scores).",
        remedy=RESCALE_SCORES,
    )


def _key_values(series: pd.Series, other: pd.Series, side: str, key: str) -> np.ndarray:
    """Key values comparable with the other table's: numbers as numbers, anything else as text."""
    missing = series.isna().to_numpy()
    if missing.any():
        raise PredictionError(f"key '{key}' is missing in {int(missing.sum()):,} row(s) of {side}, at "
                              f"{_rows(missing)}: every row needs its key to be matched.")
    both_numeric = all(pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) for s in (series, other))
    return series.to_numpy(dtype=float) if both_numeric else series.astype(str).str.strip().to_numpy(dtype=object)


def _examples(values: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(repr(_plain(v)) for v in values[:limit])
    return shown + (", …" if len(values) > limit else "")


def _plain(value: object) -> object:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _require_unique(keys: np.ndarray, side: str, key: str) -> None:
    counts = pd.Series(keys).value_counts()
    repeated = counts[counts > 1]
    if not repeated.empty:
        raise PredictionError(
            f"key '{key}' repeats in {side}: {len(repeated):,} value(s) occur more than once (e.g. "
            f"{_examples(repeated.index.to_numpy())}), so a row cannot be matched to one prediction. Remove the "
            "duplicate rows, or choose a key that identifies each row."
        )


def _require_matched(unmatched: np.ndarray, what: str, key: str, fix: str) -> None:
    if len(unmatched):
        raise PredictionError(f"{len(unmatched):,} {what} (key '{key}' e.g. {_examples(unmatched)}): {fix}.")


def aligned_values(model: ModelInput, n_rows: int) -> np.ndarray:
    """The model's values, checked to be one per data row and 0/1 decisions or scores in [0, 1]."""
    values = np.asarray(model.values)
    if values.ndim != 1 or len(values) != n_rows:
        raise PredictionError(f"model '{model.name}' has {values.size:,} value(s) but the data has {n_rows:,} rows: "
                              "give one prediction per data row (join_predictions aligns a second file).")
    if model.is_score:
        if not (np.isfinite(values).all() and ((values >= 0) & (values <= 1)).all()):
            raise PredictionError(f"model '{model.name}' must hold scores in [0, 1] without missing values: "
                                  "check them with model_inputs(..., scores=True).")
    elif not np.isin(values, (0, 1)).all():
        raise PredictionError(f"model '{model.name}' must hold 0/1 decisions: check them with "
                              "model_inputs(..., scores=False), or mark the model's values as scores.")
    return values
