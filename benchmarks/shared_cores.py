"""Does a training keep its share of the cores while analyses run beside it? ``$FAIRGEN_THREADS`` on and off.

    .venv/bin/python benchmarks/shared_cores.py [--data adult] [--epochs E] [--repeats 3]
        [--out benchmarks/results/shared_cores.json]

A CLI ``fit`` of ``--data`` (default generator settings; ``--epochs`` caps its epochs to keep the benchmark short,
which leaves its per-epoch cost, and so the slowdown ratio, unchanged) is timed, wall clock, in four cases, each
``--repeats`` times, interleaved so that slow phases of a shared machine hit every case alike:

* ``budget, alone`` / ``budget, beside``: the product's default budget (``$FAIRGEN_THREADS`` unset: the cores
  divided by ``$FAIRGEN_MAX_JOBS`` + ``$FAIRGEN_MAX_ANALYSES``, 1 + 1), alone, or while a CLI ``sweep --reps 3``
  and a ``compare --reps 3`` of a prepared run (a 1-epoch generator) compute beside it;
* ``no budget, alone`` / ``no budget, beside``: the same with ``$FAIRGEN_THREADS`` = the core count, i.e. every
  process takes every core, as the product did before the budget.

The analyses are started ``--warmup`` seconds before the fit (their imports and set-up) and killed once it ends.
It prints and writes every wall time, the medians and the slowdown ratios (beside / alone of the same setting).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fairgen_core.config import THREAD_LIBRARY_ENVS, THREADS_ENV, available_cores  # noqa: E402

CASES: tuple[tuple[str, bool, bool], ...] = (("budget, alone", True, False), ("budget, beside", True, True),
                                             ("no budget, alone", False, False), ("no budget, beside", False, True))


def _env(budget: bool) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in (THREADS_ENV, *THREAD_LIBRARY_ENVS)}
    if not budget:
        env[THREADS_ENV] = str(available_cores())
    return {**env, "PYTHONPATH": str(ROOT)}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "fairgen_core", *args]


def _timed_fit(data: str, epochs: int | None, out: Path, env: dict[str, str]) -> float:
    shutil.rmtree(out, ignore_errors=True)
    limit = [] if epochs is None else ["--epochs", str(epochs)]
    started = time.perf_counter()
    subprocess.run(_cli("fit", data, "--out", str(out), "--device", "cpu", *limit), env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _start_analyses(run: Path, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen(_cli(name, str(run), "--reps", "3", "--device", "cpu"), env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            for name in ("sweep", "compare")]


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def main() -> None:
    """Prepare the analyses' run, time every case ``--repeats`` times, print and write the results."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="adult")
    parser.add_argument("--epochs", type=int, default=None, help="cap on the fit's epochs (default: the config's)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds the analyses run before the fit")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "shared_cores.json")
    args = parser.parse_args()
    walls: dict[str, list[float]] = {case: [] for case, _, _ in CASES}
    with tempfile.TemporaryDirectory(prefix="fairgen-shared-cores-") as folder:
        run = Path(folder) / "analysed"
        subprocess.run(_cli("fit", args.data, "--out", str(run), "--device", "cpu", "--epochs", "1"),
                       env=_env(True), check=True, stdout=subprocess.DEVNULL)
        for repeat in range(args.repeats):
            for case, budget, beside in CASES:
                env = _env(budget)
                analyses = _start_analyses(run, env) if beside else []
                try:
                    time.sleep(args.warmup if beside else 0.0)
                    walls[case].append(_timed_fit(args.data, args.epochs, Path(folder) / "fit", env))
                finally:
                    _stop(analyses)
                print(f"repeat {repeat + 1}: {case}: {walls[case][-1]:.1f} s", flush=True)
    medians = {case: statistics.median(values) for case, values in walls.items()}
    slowdown = {setting: medians[f"{setting}, beside"] / medians[f"{setting}, alone"]
                for setting in ("budget", "no budget")}
    result = {"data": args.data, "epochs": args.epochs, "cores": available_cores(), "repeats": args.repeats,
              "walls_s": walls, "medians_s": medians, "slowdown": slowdown}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps({"medians_s": medians, "slowdown": slowdown}, indent=1))


if __name__ == "__main__":
    main()
