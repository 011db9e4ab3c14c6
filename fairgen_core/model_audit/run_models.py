"""The user's prediction columns recorded with a FairGen run, so that the run's report audits them too.

A run folder may hold :data:`RUN_MODELS_FILE`: the columns of the run's data that hold the user's model(s) and how
to read them (decisions or scores, threshold, rescaling) as a :class:`RecordedModels`. :func:`record_models` writes
it (``python -m fairgen_core audit DATA ... --run RUN_DIR``, or the Model audit page for the run trained on the
audited data), :func:`recorded_models` reads it, and :func:`audit_recorded` audits the columns on the run's data
(every row with a label and every sensitive value, the run's groups), as the ``audit`` command would.
:func:`fairgen_core.results.report.build_report` then adds a model-audit section, and the run's metrics exports
carry the same numbers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from fairgen_core.data.spec import DatasetSpec
from fairgen_core.errors import FairGenError
from fairgen_core.model_audit.audit import ModelAudit, audit_models
from fairgen_core.model_audit.config import ModelAuditConfig
from fairgen_core.model_audit.inputs import ModelInput, model_inputs
from fairgen_core.runs import layout
from fairgen_core.runs.files import write_json_atomically

#: The file of a run folder that records the prediction columns (absent: the run's report has no model audit).
RUN_MODELS_FILE = layout.RECORDED_MODELS


@dataclass(frozen=True)
class RecordedModels:
    """Which columns of a run's data are the user's model(s), and how to read them.

    Parameters
    ----------
    columns : tuple of str
        One column per model, in the run's data.
    scores : bool
        True: the columns hold scores (decision 1 when score >= ``threshold``); False: 0/1 decisions.
    threshold : float
        For scores: the decision threshold, in [0, 1] (default 0.5).
    rescale : bool
        For scores outside [0, 1]: min–max scale them to [0, 1] first.

    Examples
    --------
    >>> RecordedModels(("decile_score",), scores=True, rescale=True).config().threshold
    0.5
    """

    columns: tuple[str, ...]
    scores: bool = False
    threshold: float = 0.5
    rescale: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.columns, str) or not self.columns or not all(isinstance(c, str) and c
                                                                        for c in self.columns):
            raise FairGenError(f"record at least one prediction column by name (a list of column names), not "
                               f"{self.columns!r}.")
        self.config()  # checks the threshold

    def config(self) -> ModelAuditConfig:
        """The audit's configuration: this threshold, the default bootstrap, seed and tolerances."""
        return ModelAuditConfig(threshold=self.threshold)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (the content of :data:`RUN_MODELS_FILE`)."""
        return {"columns": list(self.columns), "scores": self.scores, "threshold": self.threshold,
                "rescale": self.rescale}

    @classmethod
    def for_columns(cls, frame: pd.DataFrame, columns: Sequence[str]) -> RecordedModels:
        """How to read ``columns`` of ``frame`` when nobody said: 0/1 decisions when every value is 0 or 1, else
        scores at threshold 0.5 (min–max rescaled when some fall outside [0, 1]).

        Examples
        --------
        >>> frame = pd.DataFrame({"decision": [0, 1, 1], "score": [0.2, 0.9, 0.4], "decile": [1, 7, 10]})
        >>> [RecordedModels.for_columns(frame, [c]).scores for c in frame]
        [False, True, True]
        >>> RecordedModels.for_columns(frame, ["decile"]).rescale
        True
        """
        values = pd.concat([pd.to_numeric(frame[c], errors="coerce") for c in columns]).dropna()
        decisions = bool(values.isin([0, 1]).all())
        return cls(tuple(columns), scores=not decisions,
                   rescale=not decisions and bool(((values < 0) | (values > 1)).any()))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RecordedModels:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(values["columns"]), bool(values.get("scores", False)),
                   float(values.get("threshold", 0.5)), bool(values.get("rescale", False)))


def record_models(run_dir: str | Path, models: RecordedModels) -> Path:
    """Record the prediction columns in a run folder (replacing any recorded before).

    Parameters
    ----------
    run_dir : str or pathlib.Path
        The run folder; it must exist.
    models : RecordedModels
        The columns and how to read them.

    Returns
    -------
    pathlib.Path
        The file written (:data:`RUN_MODELS_FILE`), replaced atomically.

    Raises
    ------
    FairGenError
        If ``run_dir`` is not a folder.
    """
    folder = Path(run_dir)
    if not folder.is_dir():
        raise FairGenError(f"'{folder}' is not a run folder: give the folder a FairGen training wrote.")
    path = folder / RUN_MODELS_FILE
    write_json_atomically(path, models.to_dict())
    return path


def recorded_models(run_dir: str | Path) -> RecordedModels | None:
    """The prediction columns recorded in a run folder, or None when none are.

    Raises
    ------
    FairGenError
        If the file is damaged; the message names it and how to record the columns again.
    """
    path = Path(run_dir) / RUN_MODELS_FILE
    try:
        return RecordedModels.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise FairGenError(f"'{path}' is damaged ({error}): delete it, or record the columns again with "
                           "`python -m fairgen_core audit DATA ... --predictions COL --run RUN_DIR`.") from error


def audit_recorded(frame: pd.DataFrame, spec: DatasetSpec, models: RecordedModels
                   ) -> tuple[list[ModelAudit], list[ModelInput]]:
    """Audit the recorded columns on a run's data with the run's specification.

    Parameters
    ----------
    frame : pandas.DataFrame
        The run's data (:meth:`RunDir.open_data <fairgen_core.runs.RunDir.open_data>`).
    spec : DatasetSpec
        The run's label, favourable values and sensitive attributes.
    models : RecordedModels
        The recorded columns.

    Returns
    -------
    tuple of (list of ModelAudit, list of ModelInput)
        The audits (:func:`~fairgen_core.model_audit.audit_models` with :meth:`RecordedModels.config`) and the
        models' values.

    Raises
    ------
    FairGenError
        If a column is not in the data or cannot be audited (the message names the column and the fix).

    Examples
    --------
    >>> from fairgen_core.data.spec import SensitiveAttribute
    >>> frame = pd.DataFrame({"y": [0, 1] * 50, "s": ["a"] * 50 + ["b"] * 50, "p": [0, 1, 1, 0] * 25})
    >>> spec = DatasetSpec("y", (1,), (SensitiveAttribute("s", ("b",)),))
    >>> audits, _ = audit_recorded(frame, spec, RecordedModels(("p",)))
    >>> audits[0].model, audits[0].n_rows
    ('p', 100)
    """
    inputs = model_inputs(frame, list(models.columns), scores=models.scores, rescale=models.rescale)
    return audit_models(frame, spec, inputs, models.config()), inputs
