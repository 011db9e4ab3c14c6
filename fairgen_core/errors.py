"""Exceptions raised by FairGen.

Every error a user can cause derives from :class:`FairGenError`. Messages name the file or column at
fault and say how to fix it, so the dashboard and the CLI can show them verbatim.
"""

from __future__ import annotations


class FairGenError(Exception):
    """Base class of every error FairGen raises for bad input or bad configuration."""


class DataReadError(FairGenError):
    """A file could not be read as a table (missing, empty, binary, malformed, undecodable)."""


class DataTooLargeError(DataReadError):
    """A file exceeds the configured size or row bound."""


class SchemaError(FairGenError):
    """A column's kind or contents do not fit how it is used."""


class SpecError(FairGenError):
    """A dataset specification (label, favourable values, sensitive attributes) is invalid."""


class EncodingError(FairGenError):
    """Data could not be encoded or decoded with a fitted encoder."""


class DatasetUnavailableError(FairGenError):
    """A built-in or user-supplied benchmark dataset cannot be found or has the wrong layout."""


class TrainingDivergedError(FairGenError):
    """A loss became NaN or infinite; training stopped and the last good checkpoint was kept."""


class RunFolderError(FairGenError):
    """A run folder cannot be used: not a run folder, a damaged file, or a model or table that no longer matches."""


class JobError(FairGenError):
    """A training or an analysis cannot start: nothing to start from, already running, or a bad slot count."""


class MethodUnavailableError(FairGenError):
    """A comparison method cannot run on this data (e.g. it needs exactly two groups); the message says why."""


class PredictionError(FairGenError):
    """A model's predictions or scores cannot be audited (missing, non-numeric, out of range, misaligned).

    Parameters
    ----------
    message : str
        What is wrong and how to fix it, in words that name no front end's controls.
    remedy : str, optional
        A setting the user can switch on to fix it (one of ``fairgen_core.model_audit.REMEDIES``), so that the
        CLI and the dashboard can each point to their own flag or control; None when the fix lies in the data.
    """

    def __init__(self, message: str, *, remedy: str | None = None) -> None:
        super().__init__(message)
        self.remedy = remedy
