"""The encoded train/validation/test arrays every comparison method runs on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fairgen_core.classifier.selection import Validation
from fairgen_core.classifier.training import encode_rows
from fairgen_core.data.spec import assign_domains
from fairgen_core.data.splits import Split
from fairgen_core.errors import FairGenError
from fairgen_core.generator.model import FairGenerator

PARTS: tuple[str, ...] = ("train", "val", "test")


@dataclass(frozen=True, eq=False)
class MethodData:
    """Encoded features, 0/1 labels and group indices of a train/validation/test split.

    Build one from a fitted generator with :func:`method_data`, or directly from arrays (tests, other
    encoders). Arrays are converted on creation: features to ``float32``, labels and groups to ``int64``.

    Attributes
    ----------
    x_train, x_val, x_test : numpy.ndarray
        Encoded features, shape ``(rows, features)``; the label and the sensitive attributes are not among
        them (the group is never a classifier input).
    y_train, y_val, y_test : numpy.ndarray
        Labels, 1 = favourable.
    group_train, group_val, group_test : numpy.ndarray
        Group index per row, ``0 .. len(group_names) - 1``; with two groups, 1 is the privileged one.
    group_names : tuple of str
        Names of the groups, by index.
    numeric_columns : tuple of int
        Feature columns that hold an encoded numeric value (not one-hot slots); the disparate impact
        remover repairs these.

    Examples
    --------
    >>> data = MethodData(np.zeros((4, 2)), np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1]),
    ...                   np.zeros((2, 2)), np.array([0, 1]), np.array([0, 1]),
    ...                   np.zeros((2, 2)), np.array([1, 0]), np.array([1, 0]), group_names=("a", "b"))
    >>> data.n_groups, data.n_features, data.x_train.dtype
    (2, 2, dtype('float32'))
    """

    x_train: np.ndarray
    y_train: np.ndarray
    group_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    group_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    group_test: np.ndarray
    group_names: tuple[str, ...]
    numeric_columns: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "group_names", tuple(str(name) for name in self.group_names))
        object.__setattr__(self, "numeric_columns", tuple(int(c) for c in self.numeric_columns))
        if len(self.group_names) < 2:
            raise FairGenError("fairness comparisons need at least two groups.")
        n_features = np.shape(self.x_train)[1] if np.ndim(self.x_train) == 2 else -1
        for part in PARTS:
            x = np.asarray(getattr(self, f"x_{part}"), dtype=np.float32)
            y = np.asarray(getattr(self, f"y_{part}")).astype(np.int64)
            group = np.asarray(getattr(self, f"group_{part}")).astype(np.int64)
            if x.ndim != 2 or x.shape[1] != n_features or len(y) != len(x) or len(group) != len(x):
                raise FairGenError(f"{part} arrays disagree: features {x.shape}, labels {y.shape}, groups "
                                   f"{group.shape}; every part needs one label and one group per row and the "
                                   "same feature columns.")
            if len(x) == 0:
                raise FairGenError(f"the {part} split has no rows.")
            if not np.isin(y, (0, 1)).all():
                raise FairGenError(f"{part} labels must be 0/1 (1 = favourable).")
            if group.min() < 0 or group.max() >= len(self.group_names):
                raise FairGenError(f"{part} group indices must lie in 0..{len(self.group_names) - 1} "
                                   f"(one per name in group_names).")
            for name, value in (("x", x), ("y", y), ("group", group)):
                object.__setattr__(self, f"{name}_{part}", value)
        if any(not 0 <= c < n_features for c in self.numeric_columns):
            raise FairGenError(f"numeric_columns must be feature indices in 0..{n_features - 1}.")

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return len(self.group_names)

    @property
    def validation(self) -> Validation:
        """The validation rows' labels and groups, as the selection rule reads them."""
        return Validation(self.y_val, self.group_val, self.group_names)

    @property
    def n_features(self) -> int:
        """Number of encoded feature columns."""
        return int(self.x_train.shape[1])

    def part(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(x, y, group)`` of ``"train"``, ``"val"`` or ``"test"``."""
        if name not in PARTS:
            raise FairGenError(f"unknown split part '{name}': choose one of {', '.join(PARTS)}.")
        return getattr(self, f"x_{name}"), getattr(self, f"y_{name}"), getattr(self, f"group_{name}")


def method_data(generator: FairGenerator, frame: pd.DataFrame, split: Split) -> MethodData:
    """The split's rows encoded with the generator's encoder, as every comparison method expects them.

    Parameters
    ----------
    generator : FairGenerator
        A fitted generator: its encoder gives the features and its spec the labels and groups.
    frame : pandas.DataFrame
        The whole table.
    split : Split
        Train, validation and test row positions.

    Returns
    -------
    MethodData
        The same features, labels and groups as :func:`fairgen_core.classifier.ratio_sweep` uses.

    Raises
    ------
    FairGenError
        If a selected row lacks its label or a sensitive value.
    """
    parts: list[np.ndarray] = []
    for rows in (split.train, split.val, split.test):
        x, y, domains = encode_rows(generator, frame, rows)
        parts += [x, y, domains // 2]
    group_names: Sequence[str] = assign_domains(frame, generator.spec).group_names
    numeric = tuple(span.start for span in generator.encoder.layout if span.is_value)
    return MethodData(*parts, group_names=tuple(group_names), numeric_columns=numeric)
