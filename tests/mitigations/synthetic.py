"""Small synthetic data sets with a known bias, for tests that must show a mitigation's effect."""

from __future__ import annotations

import numpy as np

from fairgen_core.mitigations import MethodData


def leaky(seed: int, *, sizes: tuple[int, int, int] = (1500, 750, 750), n_groups: int = 2) -> MethodData:
    """Labels that depend strongly on the group, and a feature that reveals the group.

    ``y = 1[0.5 s + 1.5 g / (n_groups - 1) + noise > 1]`` with ``s`` a weakly informative feature; the
    features are a noisy copy of the group, a noisy copy of ``s`` and four noise columns. An unconstrained
    classifier predicts mostly from the group, so its true positive rates differ widely between groups.
    """
    rng = np.random.default_rng(seed)
    parts: list[np.ndarray] = []
    for size in sizes:
        group = rng.integers(0, n_groups, size)
        signal = rng.normal(size=size)
        y = (0.5 * signal + 1.5 * group / (n_groups - 1) + rng.normal(size=size) > 1.0).astype(np.int64)
        x = np.column_stack([group + 0.1 * rng.normal(size=size), signal + 0.3 * rng.normal(size=size),
                             rng.normal(size=(size, 4))])
        parts += [x, y, group]
    return MethodData(*parts, group_names=tuple(f"g{i}" for i in range(n_groups)), numeric_columns=(0, 1))
