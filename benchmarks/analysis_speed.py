"""The trade-off sweep and the method comparison, timed side by side with a reference version of FairGen.

    .venv/bin/python benchmarks/analysis_speed.py [--datasets german compas adult] [--reps 3]
        [--reference dbb9ce6] [--analyses sweep compare] [--out benchmarks/results/analysis_speed.json]

For every dataset (its default spec and split, seed 0) and analysis, the reference commit (checked out into a
temporary git worktree) and this checkout run the same analysis in turn, each in a fresh process with one torch
thread (the product's budget for an analysis on a 2-core machine): ``ratio_sweep`` (the 11 default ratios,
"transfer + thresholds" at 0.5, the down-sampling ablation, both selection rules) or the comparison of every
registered method (both rules), ``--reps`` repetitions. Each process first fits a generator for ONE epoch
(seed 0, the same in both versions): the analyses only use its encoder, translator and prior sampler, whose cost
does not depend on how well it trained. Recorded per run: the analysis's wall time; for the comparison each
method's seconds (``MethodResult.seconds``: in this version a method's own work plus its share of the networks
trained together). The two versions' tidy tables are compared metric by metric: the mean over repetitions of
each (method, ratio, rule) in both, their difference, and the repetition-to-repetition standard deviation of the
reference (the noise a difference is to be read against).

Results: a JSON file and a printed table (``docs/benchmarks.md`` quotes them).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REFERENCE = "dbb9ce6"  # the last commit that trained the analyses' networks one at a time
SUMMARY_METRICS = ("balanced_accuracy", "abs_equal_opportunity_difference", "average_abs_odds_difference")


def run_cell(root: str, dataset: str, analysis: str, reps: int, out_csv: str) -> None:
    """In a fresh process: import FairGen from ``root``, run one analysis, write its table, print its timings."""
    sys.path.insert(0, root)
    import torch

    from fairgen_core.classifier.sweep import ratio_sweep
    from fairgen_core.config import ClassifierConfig, GeneratorConfig
    from fairgen_core.data.datasets import get_builtin
    from fairgen_core.data.splits import default_split
    from fairgen_core.generator import fit_generator
    from fairgen_core.mitigations import METHODS, method_data, registry, results_table

    torch.set_num_threads(1)
    data = get_builtin(dataset)
    frame, spec = data.load(), data.default_spec()
    split = default_split(frame, spec, seed=0)
    torch.manual_seed(0)
    generator = fit_generator(frame, spec, schema=data.schema(frame), split=split,
                              config=GeneratorConfig(epochs=1, patience=0, device="cpu", seed=0))
    config, rules = ClassifierConfig(device="cpu"), ("accuracy", "fair")
    started = time.perf_counter()
    method_seconds: dict[str, list[float]] = {}
    if analysis == "sweep":
        table = ratio_sweep(generator, frame, split, repetitions=reps, thresholds_ratio=0.5, selections=rules,
                            config=config)
    else:
        encoded = method_data(generator, frame, split)
        seeds = [config.seed + r for r in range(reps)]
        if hasattr(registry, "evaluate_methods"):
            per_seed = registry.evaluate_methods(list(METHODS), encoded, config, seeds=seeds, selections=rules)
        else:  # the reference: one method at a time
            per_seed = [[registry.evaluate_method(name, encoded, config, seed=seed, selections=rules)
                         for name in METHODS] for seed in seeds]
        triples = [(r, seeds[r], result) for r, per_method in enumerate(per_seed) for per_rule in per_method
                   for result in per_rule]
        for _, _, result in triples[::len(rules)]:
            method_seconds.setdefault(result.method, []).append(result.seconds)
        table = results_table(triples, encoded)
    seconds = time.perf_counter() - started
    table.to_csv(out_csv, index=False)
    print(json.dumps({"seconds": seconds, "method_seconds": {k: float(np.sum(v)) for k, v in method_seconds.items()}}))


def _cell(root: Path, dataset: str, analysis: str, reps: int, out_csv: Path) -> dict[str, Any]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "FAIRGEN_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, __file__, "--cell", str(root), dataset, analysis, str(reps), str(out_csv)],
                          env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def metric_differences(reference: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Per (method, ratio, rule, metric): both versions' means over repetitions, their difference, the noise.

    ``noise`` is the reference's standard deviation over repetitions (NaN with one repetition).
    """
    keys = ["method", "ratio", "selection", "metric"]

    def summary(table: pd.DataFrame) -> pd.DataFrame:
        table = table[table["metric"].isin(SUMMARY_METRICS)].assign(ratio=lambda t: t["ratio"].fillna(-1.0))
        return table.groupby(keys)["value"].agg(["mean", "std"]).reset_index()

    both = summary(reference).merge(summary(current), on=keys, suffixes=("_reference", "_current"))
    both["difference"] = both["mean_current"] - both["mean_reference"]
    both["ratio"] = both["ratio"].replace(-1.0, np.nan)
    return both.rename(columns={"std_reference": "noise"}).drop(columns=["std_current"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cell", nargs=5, metavar=("ROOT", "DATASET", "ANALYSIS", "REPS", "CSV"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--datasets", nargs="+", default=["german", "compas", "adult"])
    parser.add_argument("--analyses", nargs="+", default=["sweep", "compare"], choices=["sweep", "compare"])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--reference", default=DEFAULT_REFERENCE)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "analysis_speed.json")
    args = parser.parse_args()
    if args.cell:
        root, dataset, analysis, reps, out_csv = args.cell
        run_cell(root, dataset, analysis, int(reps), out_csv)
        return
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        reference = Path(folder) / "reference"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(reference), args.reference],
                       check=True)
        try:
            for dataset in args.datasets:
                for analysis in args.analyses:
                    runs = {}
                    for version, root in (("reference", reference), ("current", ROOT)):
                        csv = Path(folder) / f"{dataset}-{analysis}-{version}.csv"
                        runs[version] = {**_cell(root, dataset, analysis, args.reps, csv), "table": csv}
                        print(f"{dataset} {analysis} {version}: {runs[version]['seconds']:.1f} s", flush=True)
                    differences = metric_differences(pd.read_csv(runs["reference"]["table"]),
                                                     pd.read_csv(runs["current"]["table"]))
                    results.append({
                        "dataset": dataset, "analysis": analysis, "reps": args.reps,
                        "reference_s": runs["reference"]["seconds"], "current_s": runs["current"]["seconds"],
                        "speedup": runs["reference"]["seconds"] / runs["current"]["seconds"],
                        "method_seconds": {v: runs[v]["method_seconds"] for v in runs},
                        "max_abs_difference": float(differences["difference"].abs().max()),
                        "median_noise": float(differences["noise"].median()),
                        "differences": differences.to_dict(orient="records"),
                    })
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(reference)], check=False)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"reference": args.reference, "results": results}, indent=1, default=str))
    _print(results)


def _print(results: list[dict[str, Any]]) -> None:
    print("| dataset | analysis | reps | reference | current | speed-up | max |mean diff| | median noise (sd) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['dataset']} | {r['analysis']} | {r['reps']} | {r['reference_s']:.1f} s | {r['current_s']:.1f} s | "
              f"{r['speedup']:.1f}× | {r['max_abs_difference']:.3f} | {r['median_noise']:.3f} |")
    for r in results:
        if r["analysis"] == "compare":
            ref, cur = r["method_seconds"]["reference"], r["method_seconds"]["current"]
            print(f"\n{r['dataset']}: method | reference s | current s | speed-up")
            for name in ref:
                print(f"{name} | {ref[name]:.1f} | {cur.get(name, float('nan')):.1f} | "
                      f"{ref[name] / cur[name] if cur.get(name) else float('nan'):.1f}×")


if __name__ == "__main__":
    main()
