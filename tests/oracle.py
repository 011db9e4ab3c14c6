"""Comparing FairGen's numbers with an oracle library's (aif360, fairlearn)."""

from __future__ import annotations

import math


def same_value(ours: float, theirs: float) -> bool:
    """Equal to 1e-9, or both NaN, or both the same infinity."""
    ours, theirs = float(ours), float(theirs)
    if math.isnan(ours) or math.isnan(theirs):
        return math.isnan(ours) and math.isnan(theirs)
    if math.isinf(ours) or math.isinf(theirs):
        return ours == theirs
    return abs(ours - theirs) <= 1e-9
