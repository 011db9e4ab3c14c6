"""FairGen core: fair synthetic data and fair classifiers for tabular data, without any UI.

The public API is re-exported here; implementation lives in small modules of the subpackages.
"""

from fairgen_core.data import *  # noqa: F403  (the data layer's __all__)
from fairgen_core.data import __all__ as _data_all
from fairgen_core.errors import (
    DataReadError,
    DatasetUnavailableError,
    DataTooLargeError,
    EncodingError,
    FairGenError,
    SchemaError,
    SpecError,
)

__version__ = "0.1.0"

__all__ = [
    *_data_all,
    "DataReadError",
    "DataTooLargeError",
    "DatasetUnavailableError",
    "EncodingError",
    "FairGenError",
    "SchemaError",
    "SpecError",
    "__version__",
]
