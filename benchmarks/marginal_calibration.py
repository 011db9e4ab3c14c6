"""Issue 15: sampled rows with and without calibrated sampling, on the same trained model.

    .venv/bin/python benchmarks/marginal_calibration.py [--datasets adult,compas,german] [--seeds 0,1,2]
        [--out benchmarks/results/marginal_calibration.json]

For each dataset and seed, one generator is trained with default settings (seed ``s`` for the split,
``default_split``, and the training) and judged three times by ``assess_quality`` on the test rows, exactly as
``quality --json`` does: sampling the decoder's own output from z ~ N(0, I) (``decoder``:
``calibrated_sampling=False``, the paper's sampling); with each domain's marginals calibrated to its training rows
but z ~ N(0, I) (``marginals``); and with the codes drawn from the Gaussian fitted to the training rows' codes as
well (``calibrated``, the default). Only the sampling differs, so the differences are the calibration's alone.
Recorded: shapes, trends, detection, TSTR − TRTR, the TSTR model's fairness gain, the FID and its noise baseline,
every column's shape score, the median distance to the closest training record (privacy: calibration must not move
rows onto training rows), and the wall time of the fit and of measuring the calibration. Results are appended to
the JSON file after every fit (a finished cell is not recomputed), and a markdown table is printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from itertools import groupby
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fairgen_core.config import GeneratorConfig  # noqa: E402
from fairgen_core.data.datasets import get_builtin  # noqa: E402
from fairgen_core.data.splits import default_split  # noqa: E402
from fairgen_core.devices import apply_thread_budget  # noqa: E402
from fairgen_core.generator import fit_generator  # noqa: E402
from fairgen_core.generator.evaluation import assess_quality, default_sigma  # noqa: E402
from fairgen_core.metrics.fidelity import MEASURES  # noqa: E402

SAMPLINGS = ("decoder", "marginals", "calibrated")


def measure(name: str, seed: int) -> list[dict[str, object]]:
    """Fit one default model on one dataset and assess its rows with each sampling."""
    dataset = get_builtin(name)
    frame, spec = dataset.load(), dataset.default_spec()
    split = default_split(frame, spec, seed=seed)
    started = time.perf_counter()
    model = fit_generator(frame, spec, schema=dataset.schema(frame), config=GeneratorConfig(seed=seed), split=split)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    model.calibration()
    calibration_s = time.perf_counter() - started
    results, latent_prior = [], model.latent_prior
    for sampling in SAMPLINGS:
        model.config = replace(model.config, calibrated_sampling=sampling != "decoder")
        model.latent_prior = latent_prior if sampling == "calibrated" else None
        model.reset_calibration()
        quality = assess_quality(model, frame, split, sigma=default_sigma(name), seed=seed)
        fidelity = quality.fidelity
        results.append({
            "dataset": name, "seed": seed, "sampling": sampling, "fit_s": round(fit_s, 1),
            "calibration_s": round(calibration_s, 2), "epochs": model.history[-1]["epoch"],
            **{m: fidelity.values()[m] for m in MEASURES},
            "tstr_balanced_accuracy": fidelity.efficacy.tstr, "trtr_balanced_accuracy": fidelity.efficacy.trtr,
            "tstr_gaps": dict(fidelity.efficacy.tstr_fairness), "trtr_gaps": dict(fidelity.efficacy.trtr_fairness),
            "fid": quality.quality.fid, "noise_baseline": quality.quality.noise_baseline,
            "column_shapes": dict(zip(fidelity.columns["column"], fidelity.columns["score"].round(4))),
            "dcr_median": quality.privacy.synthetic_median, "dcr_real_median": quality.privacy.holdout_median,
            "exact_copy_share": quality.privacy.exact_copy_share,
        })
    return results


def table(results: list[dict[str, object]]) -> str:
    """Markdown table: per dataset and sampling, the mean of every measure over the seeds run."""
    lines = ["| dataset | sampling | seeds | shapes | trends | detection | TSTR − TRTR | TSTR fairness gain | "
             "FID / baseline | worst column | median DCR (real) |", "|---|---|" + "---:|" * 9]
    for (name, sampling), rows in groupby(sorted(results, key=_order), key=lambda r: (r["dataset"], r["sampling"])):
        rows = list(rows)
        mean = {key: float(np.mean([r[key] for r in rows]))
                for key in (*MEASURES, "fid", "noise_baseline", "dcr_median", "dcr_real_median")}
        shapes = {column: float(np.mean([r["column_shapes"][column] for r in rows]))
                  for column in rows[0]["column_shapes"]}
        worst = min(shapes, key=shapes.get)
        lines.append(
            f"| {name} | {sampling} | {len(rows)} | {mean['shapes']:.3f} | {mean['trends']:.3f} | "
            f"{mean['detection']:.3f} | {mean['tstr']:+.3f} | {mean['tstr_fairness']:+.3f} | {mean['fid']:.3f} / "
            f"{mean['noise_baseline']:.3f} | {worst} {shapes[worst]:.2f} | {mean['dcr_median']:.3f} "
            f"({mean['dcr_real_median']:.3f}) |")
    return "\n".join(lines)


def _order(result: dict[str, object]) -> tuple[int, int]:
    """Datasets in the order Adult, COMPAS, German; the decoder's sampling first."""
    return (["adult", "compas", "german"].index(str(result["dataset"])), SAMPLINGS.index(str(result["sampling"])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="adult,compas,german")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "marginal_calibration.json"))
    args = parser.parse_args()
    apply_thread_budget()
    out = Path(args.out)
    results: list[dict[str, object]] = json.loads(out.read_text()) if out.exists() else []
    for name in args.datasets.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            if any((r["dataset"], r["seed"]) == (name, seed) for r in results):
                continue
            results.extend(measure(name, seed))
            print(json.dumps(results[-len(SAMPLINGS):]), flush=True)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(results, indent=1))
    print(table(results))


if __name__ == "__main__":
    main()
