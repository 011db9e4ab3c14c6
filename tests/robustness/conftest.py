"""Shared pieces of the robustness tests: a small people table and jobs that are always stopped."""

from __future__ import annotations

import numpy as np
import pandas as pd

PEOPLE_ROWS = 240


def people_table(*, rows: int = PEOPLE_ROWS, seed: int = 0) -> pd.DataFrame:
    """A small table with a text label ``hired``, a text sensitive attribute ``sex`` and three features."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.integers(18, 80, rows),
        "sex": rng.choice(["F", "M"], rows),
        "job": rng.choice(["clerk", "nurse", "driver"], rows),
        "hours": rng.normal(38, 6, rows).round(1),
        "hired": rng.choice(["yes", "no"], rows),
    })
