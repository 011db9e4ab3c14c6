"""Generator training throughput on Adult (CPU), one code tree against another in alternating runs.

Usage::

    git worktree add /tmp/fairgen-before <commit>
    .venv/bin/python benchmarks/generator_throughput.py --tree /tmp/fairgen-before --tree . --repeats 3

Each run is a fresh process that calls the tree's own ``generator_optimizer_variants.epoch_rates`` (so the
tree must have it, from d047ff9 on): the default generator on Adult for 4 epochs without validation,
reporting the median rows/s of epochs 2-4. Runs of the trees alternate, so drifts in the
machine's speed touch all of them alike; the table gives every run and the median per tree. Results go to
``benchmarks/results/generator_throughput.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "generator_throughput.json"

CHILD = """
import json, statistics, sys
sys.path.insert(0, {benchmarks!r})
from generator_optimizer_variants import epoch_rates  # the tree's own copy, which imports the tree's code
print(json.dumps(statistics.median(epoch_rates("default")[1:])))
"""


def run_once(tree: Path) -> float:
    """Median rows/s of epochs 2-4 of one fresh training process using the code in ``tree``."""
    child = CHILD.format(benchmarks=str(tree / "benchmarks"))
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", type=Path, required=True,
                        help="a checkout of FairGen (give two or more)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    trees = [tree.resolve() for tree in args.tree]
    rates: dict[str, list[float]] = {str(tree): [] for tree in trees}
    for repeat in range(args.repeats):
        for tree in trees:
            rate = run_once(tree)
            rates[str(tree)].append(rate)
            print(f"run {repeat + 1} {tree}: {rate:,.0f} rows/s", flush=True)
    summary = {tree: {"runs": values, "median": statistics.median(values)} for tree, values in rates.items()}
    for tree, result in summary.items():
        print(f"{tree}: median {result['median']:,.0f} rows/s over {len(result['runs'])} runs")
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
