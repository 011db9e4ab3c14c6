"""FairGen's translator against CTGAN on Adult's training split, in one run on the same machine.

Measures (1) time-to-quality: wall seconds from the start of training until the synthetic rows' Fréchet
distance to the validation rows first beats the real+noise baseline (σ = 0.25); (2) the FID each reaches at
equal wall time; (3) training throughput in rows per second.

    .venv/bin/python benchmarks/generator_vs_ctgan.py --ctgan-python /path/to/venv-with-ctgan/bin/python

CTGAN runs in its own virtual environment (``pip install torch==2.13.0 ctgan``); it is fitted from scratch
for each epoch budget in ``--ctgan-epochs`` because it has no progress hook.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from fairgen_core.config import GeneratorConfig  # noqa: E402
from fairgen_core.data.datasets import get_builtin  # noqa: E402
from fairgen_core.data.splits import default_split  # noqa: E402
from fairgen_core.generator import EpochReport, fit_generator  # noqa: E402
from fairgen_core.metrics.quality import frechet_distance, noise_baseline  # noqa: E402


def run_fairgen(frame: pd.DataFrame, spec, schema, split, config: GeneratorConfig) -> dict:
    """Train with per-epoch validation FID; return the curve (wall seconds, FID) and throughput."""
    curve: list[tuple[float, float]] = []
    rates: list[float] = []
    start = time.perf_counter()

    def record(report: EpochReport) -> None:
        curve.append((time.perf_counter() - start, report.val_fid))
        rates.append(report.rows_per_s)

    model = fit_generator(frame, spec, schema=schema, config=config, split=split, callback=record)
    return {"curve": curve, "rows_per_s": float(np.median(rates)), "epochs": len(curve),
            "total_s": time.perf_counter() - start, "model": model}


def run_ctgan(python: str, train: pd.DataFrame, epochs: int, n_samples: int, work: Path) -> tuple[dict, pd.DataFrame]:
    """Fit CTGAN for ``epochs`` in its environment; return timing and its samples."""
    text_columns = [c for c in train.columns if not pd.api.types.is_numeric_dtype(train[c])]
    filled = train.copy()
    filled[text_columns] = filled[text_columns].astype(object).fillna("<missing>")
    filled.to_csv(work / "train.csv", index=False)
    (work / "discrete.json").write_text(json.dumps(text_columns))
    result = subprocess.run([python, str(Path(__file__).with_name("_ctgan_worker.py")), str(work / "train.csv"),
                             str(work / "discrete.json"), str(epochs), str(n_samples), str(work / "samples.csv")],
                            capture_output=True, text=True, check=True)
    timing = json.loads(result.stdout.strip().splitlines()[-1])
    samples = pd.read_csv(work / "samples.csv", keep_default_na=False, na_values=[])
    samples[text_columns] = samples[text_columns].replace("<missing>", np.nan)
    return timing, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ctgan-python", required=True, help="python of a virtualenv with ctgan installed")
    parser.add_argument("--ctgan-epochs", default="1,5,15,40", help="epoch budgets to fit CTGAN with")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "generator_vs_ctgan.json"))
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    dataset = get_builtin("adult")
    frame, spec = dataset.load(), dataset.default_spec()
    schema = dataset.schema(frame)
    split = default_split(frame, spec, seed=args.seed)
    ours = run_fairgen(frame, spec, schema, split, GeneratorConfig(seed=args.seed))
    model = ours.pop("model")
    val = frame.iloc[split.val]
    x_val = model.encoder.transform(val)
    baseline = noise_baseline(x_val, 0.25, seed=args.seed)
    ours["time_to_quality_s"] = next((t for t, fid in ours["curve"] if fid < baseline), None)
    ctgan_runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for epochs in (int(e) for e in args.ctgan_epochs.split(",")):
            timing, samples = run_ctgan(args.ctgan_python, frame.iloc[split.train].reset_index(drop=True), epochs,
                                        len(val), Path(tmp))
            fid = frechet_distance(x_val, model.encoder.transform(samples))
            # CTGAN's fit() includes fitting its transformer (timed separately to get the training throughput)
            ours_by_then = min((f for t, f in ours["curve"] if t <= timing["fit_s"]), default=None)
            timing.update(fid=fid, wall_s=timing["fit_s"], fairgen_fid_at_same_wall_s=ours_by_then,
                          rows_per_s=timing["rows"] * epochs / max(timing["fit_s"] - timing["transformer_s"], 1e-9))
            ctgan_runs.append(timing)
            print(json.dumps(timing), flush=True)
    result = {"dataset": "adult", "train_rows": len(split.train), "val_rows": len(split.val),
              "noise_baseline_val": baseline, "fairgen": ours, "ctgan": ctgan_runs,
              "torch_threads": torch.get_num_threads(), "device": str(model.device)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "fairgen"} | {
        "fairgen": {k: v for k, v in ours.items() if k != "curve"}}, indent=1))


if __name__ == "__main__":
    main()
