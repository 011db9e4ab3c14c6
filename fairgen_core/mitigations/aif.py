"""Encoded arrays as aif360 datasets (aif360 is imported only when a method needs it).

aif360 0.6.1 breaks on pandas-3 string columns, so every dataset is built from a purely numeric frame:
the features ``x0 .. x{d-1}``, then ``group`` (1.0 privileged, 0.0 unprivileged) and ``label``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from fairgen_core.errors import MethodUnavailableError
from fairgen_core.mitigations.data import MethodData

if TYPE_CHECKING:
    from aif360.datasets import BinaryLabelDataset

GROUP = "group"
LABEL = "label"
#: aif360's group arguments: group index 1 is FairGen's privileged group (two groups only).
PRIVILEGED: list[dict[str, float]] = [{GROUP: 1.0}]
UNPRIVILEGED: list[dict[str, float]] = [{GROUP: 0.0}]


def require_two_groups(data: MethodData, method: str) -> None:
    """Raise :class:`MethodUnavailableError` unless ``data`` has exactly two groups.

    aif360's methods compare one privileged group with one unprivileged group.
    """
    if data.n_groups != 2:
        raise MethodUnavailableError(
            f"{method} needs exactly two groups (aif360 compares one privileged with one unprivileged group); "
            f"this data has {data.n_groups}: {', '.join(data.group_names)}."
        )


def binary_label_dataset(x: np.ndarray, y: np.ndarray, group: np.ndarray, *,
                         scores: np.ndarray | None = None) -> BinaryLabelDataset:
    """An aif360 ``BinaryLabelDataset`` of encoded rows (the group is also its last feature column).

    Parameters
    ----------
    x : numpy.ndarray
        Features, shape ``(rows, d)``.
    y : numpy.ndarray
        0/1 labels (1 = favourable).
    group : numpy.ndarray
        0/1 group per row (1 = privileged).
    scores : numpy.ndarray, optional
        Predicted scores to attach (post-processing methods read them).
    """
    from aif360.datasets import BinaryLabelDataset

    columns = [f"x{i}" for i in range(x.shape[1])]
    values = np.column_stack([x, group, y]).astype(np.float64)
    frame = pd.DataFrame(values, columns=pd.Index([*columns, GROUP, LABEL], dtype=object))
    dataset = BinaryLabelDataset(df=frame, label_names=[LABEL], protected_attribute_names=[GROUP],
                                 favorable_label=1.0, unfavorable_label=0.0,
                                 privileged_protected_attributes=[np.array([1.0])])
    if scores is not None:
        dataset.scores = np.asarray(scores, dtype=np.float64).reshape(-1, 1)
    return dataset
