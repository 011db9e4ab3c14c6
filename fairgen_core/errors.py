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


class PredictionError(FairGenError):
    """A model's predictions or scores cannot be audited (missing, non-numeric, out of range, misaligned)."""
