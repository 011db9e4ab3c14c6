"""Generator training throughput from the CLI versus the dashboard's background worker, same data and settings.

    .venv/bin/python benchmarks/dashboard_overhead.py [--data adult] [--epochs 5] [--repeats 2]

The CLI runs ``python -m fairgen_core fit``; the dashboard path starts the same training with
``fairgen_core.runs.jobs.start_training`` (the worker process the Train page uses) while a poller reads
``progress.jsonl`` and ``status.json`` once a second, as the page's live fragment does. Throughput is the mean
``rows_per_s`` of the epochs after the first (warm-up). The runs alternate so that drifts hit both alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fairgen_core.config import GeneratorConfig  # noqa: E402  (after the path set-up above)
from fairgen_core.data.sources import open_data  # noqa: E402
from fairgen_core.runs.jobs import start_training  # noqa: E402
from fairgen_core.runs.store import RunDir  # noqa: E402


def throughput(run: Path) -> float:
    """Mean rows/s of the epochs after the first."""
    rates = [epoch["rows_per_s"] for epoch in RunDir(run).read_progress()[1:]]
    return statistics.fmean(rates)


def cli_run(data: str, epochs: int, out: Path) -> float:
    subprocess.run([sys.executable, "-m", "fairgen_core", "fit", data, "--out", str(out), "--epochs", str(epochs),
                    "--patience", "0", "--device", "cpu"], cwd=ROOT, check=True, capture_output=True)
    return throughput(out)


def dashboard_run(data: str, epochs: int, root: Path) -> tuple[float, list[float]]:
    source = open_data(data)
    spec = source.default_spec
    job = start_training(root, source, spec, source.schema, GeneratorConfig(epochs=epochs, patience=0, device="cpu"))
    polls: list[float] = []
    while job.is_active:
        started = time.perf_counter()
        job.status()
        job.progress()
        polls.append(time.perf_counter() - started)
        time.sleep(1.0)
    return throughput(job.path), polls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="adult")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    cli, dashboard, polls = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            cli.append(cli_run(args.data, args.epochs, Path(tmp) / f"cli{repeat}"))
            rate, poll_times = dashboard_run(args.data, args.epochs, Path(tmp) / f"dash{repeat}")
            dashboard.append(rate)
            polls += poll_times
    result = {"data": args.data, "epochs": args.epochs, "cli_rows_per_s": cli, "dashboard_rows_per_s": dashboard,
              "ratio": statistics.fmean(dashboard) / statistics.fmean(cli),
              "poll_ms_median": 1000 * statistics.median(polls)}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
