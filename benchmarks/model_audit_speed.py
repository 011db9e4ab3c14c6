"""Speed of the model audit: 1,000,000 rows × 3 models × 1,000 bootstrap draws (issue 14 goal: under 10 s).

Usage: ``.venv/bin/python benchmarks/model_audit_speed.py [--rows 1000000] [--bootstrap 1000] [--repeats 3]``.
Builds a table in memory (text label and two text sensitive attributes, so four intersectional groups; two
score columns and one 0/1 decision column), then times what ``python -m fairgen_core audit`` does after reading
the file: checking the three prediction columns (``model_inputs``) and auditing them (``audit_models``: groups,
per-group tables, calibration, the counts-based bootstrap, verdicts). Also times one threshold-slider redraw
(``group_rates`` on every row). Prints the median of ``--repeats`` runs as JSON. Results in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute, assign_domains
from fairgen_core.model_audit import ModelAuditConfig, audit_models, group_rates, model_inputs

SPEC = DatasetSpec("outcome", ("approved",), (SensitiveAttribute("sex", ("male",)),
                                              SensitiveAttribute("race", ("white",))))


def build(rows: int, seed: int = 0) -> pd.DataFrame:
    """A synthetic table whose models favour the privileged groups a little."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(np.array(["female", "male"], dtype=object), rows)
    race = rng.choice(np.array(["black", "white", "other"], dtype=object), rows)
    privileged = (sex == "male").astype(float) + (race == "white")
    label = rng.random(rows) < 0.35 + 0.05 * privileged
    noise = rng.random((2, rows))
    return pd.DataFrame({
        "outcome": np.where(label, "approved", "denied"),
        "sex": sex,
        "race": race,
        "score_a": np.clip(0.3 * label + 0.05 * privileged + 0.6 * noise[0], 0, 1),
        "score_b": np.clip(0.2 * label + 0.8 * noise[1], 0, 1),
        "decision": (noise[0] + 0.1 * privileged > 0.6).astype(np.int64),
    })


def time_audit(frame: pd.DataFrame, config: ModelAuditConfig) -> float:
    """Seconds to check the three columns and audit the three models."""
    start = time.perf_counter()
    models = model_inputs(frame, ["score_a", "score_b"], scores=True) + model_inputs(frame, ["decision"], scores=False)
    audits = audit_models(frame, SPEC, models, config)
    seconds = time.perf_counter() - start
    assert len(audits) == 3 and all(len(audit.differences) == 5 for audit in audits)
    return seconds


def time_slider(frame: pd.DataFrame) -> float:
    """Seconds for one redraw of the per-group rates at new group thresholds (arrays prepared once)."""
    assignment = assign_domains(frame, SPEC)
    y, group, scores = assignment.label, assignment.group, frame["score_a"].to_numpy()
    start = time.perf_counter()
    group_rates(y, scores, group, (0.4, 0.45, 0.5, 0.55), assignment.group_names)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    frame = build(args.rows)
    config = ModelAuditConfig(bootstrap=args.bootstrap)
    audit = [time_audit(frame, config) for _ in range(args.repeats)]
    slider = [time_slider(frame) for _ in range(args.repeats)]
    print(json.dumps({
        "rows": args.rows, "models": 3, "bootstrap": args.bootstrap, "repeats": args.repeats,
        "audit_median_s": round(statistics.median(audit), 3), "audit_runs_s": [round(s, 3) for s in audit],
        "slider_redraw_median_ms": round(1000 * statistics.median(slider), 1),
    }))


if __name__ == "__main__":
    main()
