"""Time and memory of writing 1,000,000 balanced synthetic rows to CSV from a run folder (CPU).

    .venv/bin/python benchmarks/sampling.py RUN_DIR [--n 1000000]

Runs `python -m fairgen_core sample` in a child process and reports wall time and the child's peak
resident memory, next to a 4-row run whose peak is the model + libraries alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_of(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a child process run alone."""
    script = ("import resource, subprocess, sys, time, json; t = time.perf_counter(); "
              "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
              "print(json.dumps([time.perf_counter() - t, "
              "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024]))")
    result = subprocess.run([sys.executable, "-c", script, *command], capture_output=True, text=True, check=True,
                            cwd=ROOT)
    wall, peak = json.loads(result.stdout)
    return wall, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a run folder written by `fit`")
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = [sys.executable, "-m", "fairgen_core", "sample", args.run, "--device", "cpu", "--out"]
        small_wall, small_peak = peak_of([*base, f"{tmp}/small.csv", "--n", "4"])
        wall, peak = peak_of([*base, f"{tmp}/big.csv", "--n", str(args.n)])
        size = Path(f"{tmp}/big.csv").stat().st_size
    print(json.dumps({"rows": args.n, "wall_s": round(wall, 1), "peak_rss_mb": round(peak),
                      "peak_rss_4_rows_mb": round(small_peak), "extra_mb": round(peak - small_peak),
                      "wall_4_rows_s": round(small_wall, 1), "csv_mb": round(size / 1e6), "time": time.ctime()}))


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
