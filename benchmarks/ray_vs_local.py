"""The experiment runner on local processes vs a Ray cluster, and cells per second as a simulated cluster grows.

    .venv/bin/python benchmarks/ray_vs_local.py [--reps 10] [--epochs 5] [--classifier-epochs 10]
        [--ratios 0,0.5,1] [--methods baseline reweighing] [--repeats 1] [--scaling-reps 4]
        [--out benchmarks/results/ray_vs_local.json]

Part 1: the same German experiment, timed wall clock in this process, ``--repeats`` times, alternating
between the two backends so that slow phases of a shared machine hit both:

* ``local --jobs 2``: two spawned worker processes (the default backend);
* ``ray, 2 CPUs``: tasks on a one-node Ray cluster of 2 CPUs started here beforehand. Its start-up is timed
  separately and left out of the ratio, because a cluster outlives one experiment.

Every run starts from an empty results folder. Its ``results.csv`` must match the first local run's, byte for
byte.

Part 2: cells per second of a ``--scaling-reps`` experiment on ``ray.cluster_utils.Cluster``, first one node of
one CPU, then two nodes of one CPU each (this machine simulates both). Each node's workers import torch once, and
that start-up is included.

The generator and classifier epochs are capped (``--epochs``, ``--classifier-epochs``) to keep the benchmark
short. That changes how long each cell takes, not the scheduling being compared. It prints the load average
before and after (``os.getloadavg``) and writes everything to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ray  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

from fairgen_core.cli import parse_ratios  # noqa: E402
from fairgen_core.config import ClassifierConfig, GeneratorConfig  # noqa: E402
from fairgen_core.data.datasets import get_builtin  # noqa: E402
from fairgen_core.experiment import ExperimentConfig, run_experiment  # noqa: E402
from fairgen_core.runs.executor import ExecutorConfig  # noqa: E402

OBJECT_STORE_BYTES = 300 * 1024**2


def _timed(out: Path, settings: dict[str, Any], executor: ExecutorConfig) -> tuple[float, int]:
    """Seconds for one experiment from an empty folder, and how many cells it computed."""
    german = get_builtin("german")
    shutil.rmtree(out, ignore_errors=True)
    cells: list[object] = []
    started = time.perf_counter()
    run_experiment(german.load(), german.default_spec(), out, data_name="german", executor=executor,
                   progress=cells.append, **settings)
    return time.perf_counter() - started, len(cells)


def _ray_vs_local(settings: dict[str, Any], repeats: int, work: Path) -> dict[str, Any]:
    local_s: list[float] = []
    ray_s: list[float] = []
    reference = work / "reference.csv"
    started = time.perf_counter()
    ray.init(address="local", num_cpus=2, include_dashboard=False, object_store_memory=OBJECT_STORE_BYTES,
             logging_level="warning")
    startup_s = time.perf_counter() - started
    try:
        for repeat in range(repeats):
            for backend, times, executor in (("local", local_s, ExecutorConfig(jobs=2)),
                                             ("ray", ray_s, ExecutorConfig(ray="auto"))):
                seconds, cells = _timed(work / backend, settings, executor)
                times.append(seconds)
                results = (work / backend / "results.csv").read_bytes()
                if not reference.exists():
                    reference.write_bytes(results)
                if results != reference.read_bytes():
                    raise SystemExit(f"{backend} run {repeat} gave other results than the first local run")
                print(f"{backend}: {seconds:.1f} s for {cells} cells", flush=True)
    finally:
        ray.shutdown()
    best_local, best_ray = min(local_s), min(ray_s)
    return {"local_jobs2_s": local_s, "ray_2cpus_s": ray_s, "ray_startup_s": startup_s,
            "ratio_best": best_ray / best_local, "results_identical": True}


def _cells_per_second(settings: dict[str, Any], work: Path) -> list[dict[str, Any]]:
    rows = []
    for nodes in (1, 2):
        cluster = Cluster(initialize_head=True, head_node_args={
            "num_cpus": 1, "object_store_memory": OBJECT_STORE_BYTES, "include_dashboard": False})
        for _ in range(nodes - 1):
            cluster.add_node(num_cpus=1, object_store_memory=OBJECT_STORE_BYTES)
        ray.init(address=cluster.address, logging_level="warning")
        cluster.wait_for_nodes()
        try:
            seconds, cells = _timed(work / f"nodes{nodes}", settings, ExecutorConfig(ray="auto"))
            used = len(set(json.loads((work / f"nodes{nodes}" / "manifest.json").read_text())["nodes"].values()))
        finally:
            ray.shutdown()
            cluster.shutdown()
        rows.append({"nodes": nodes, "cluster_cpus": nodes, "cells": cells, "seconds": seconds,
                     "cells_per_s": cells / seconds, "nodes_used": used})
        print(f"{nodes} node(s): {cells / seconds:.3f} cells/s ({cells} cells in {seconds:.1f} s)", flush=True)
    return rows


def main() -> None:
    """Time both parts, print and write the results."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=5, help="generator epochs, at most")
    parser.add_argument("--classifier-epochs", type=int, default=10)
    parser.add_argument("--ratios", default="0,0.5,1")
    parser.add_argument("--methods", nargs="+", default=["baseline", "reweighing"])
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per backend")
    parser.add_argument("--scaling-reps", type=int, default=4, help="repetitions of part 2's experiment")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "ray_vs_local.json"))
    args = parser.parse_args()
    protocol = ExperimentConfig(repetitions=args.reps, ratios=parse_ratios(args.ratios), methods=tuple(args.methods))
    settings = {"experiment": protocol, "generator": GeneratorConfig(epochs=args.epochs, device="cpu"),
                "classifier": ClassifierConfig(max_epochs=args.classifier_epochs, device="cpu")}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        comparison = _ray_vs_local(settings, args.repeats, work)
        scaling = _cells_per_second({**settings, "experiment": ExperimentConfig(
            repetitions=args.scaling_reps, ratios=protocol.ratios, methods=protocol.methods)}, work)
    report = {"settings": {key: value for key, value in vars(args).items() if key != "out"},
              "cores": os.cpu_count(), "load_before": load_before, "load_after": os.getloadavg(),
              "ray_vs_local": comparison, "cells_per_second": scaling}
    print(json.dumps(report, indent=1))
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
