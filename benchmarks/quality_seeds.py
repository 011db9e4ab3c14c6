"""Quality goal: with default settings and 5 seeds, the synthetic rows' Fréchet distance to the held-out
test rows against the paper's real+noise baseline (σ 0.25 Adult, 0.12 COMPAS), overall and per domain.

    .venv/bin/python benchmarks/quality_seeds.py [--datasets adult,compas] [--seeds 5]

Each seed draws its own 70/15/15 split and trains with that seed; results go to
benchmarks/results/quality_seeds.json and a markdown table is printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from fairgen_core.config import GeneratorConfig  # noqa: E402
from fairgen_core.data.datasets import get_builtin  # noqa: E402
from fairgen_core.data.spec import assign_domains  # noqa: E402
from fairgen_core.data.splits import split_by_domain  # noqa: E402
from fairgen_core.generator import fit_generator  # noqa: E402
from fairgen_core.generator.evaluation import assess_quality  # noqa: E402
from fairgen_core.metrics.quality import PAPER_NOISE_SIGMA  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="adult,compas")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "quality_seeds.json"))
    args = parser.parse_args()
    results = []
    for name in args.datasets.split(","):
        dataset = get_builtin(name)
        frame, spec = dataset.load(), dataset.default_spec()
        schema = dataset.schema(frame)
        domains = assign_domains(frame, spec).domain
        for seed in range(args.seeds):
            split = split_by_domain(domains, seed=seed)
            start = time.perf_counter()
            model = fit_generator(frame, spec, schema=schema, config=GeneratorConfig(seed=seed), split=split)
            train_s = time.perf_counter() - start
            quality = assess_quality(model, frame, split, sigma=PAPER_NOISE_SIGMA.get(name, 0.25), seed=seed)
            per_domain = quality.quality.per_domain
            results.append({
                "dataset": name, "seed": seed, "train_s": train_s, "epochs": len(model.history),
                "fid": quality.quality.fid, "noise_baseline": quality.quality.noise_baseline,
                "per_domain": per_domain[["domain", "n_real", "fid", "noise_baseline"]].to_dict(orient="records"),
                "privacy_synthetic_median": quality.privacy.synthetic_median,
                "privacy_holdout_median": quality.privacy.holdout_median,
            })
            print(json.dumps({k: v for k, v in results[-1].items() if k != "per_domain"}), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    print("\n| dataset | FID (mean ± std) | noise baseline | beats baseline | train s | epochs |")
    print("|---|---|---|---|---|---|")
    for name in args.datasets.split(","):
        rows = [r for r in results if r["dataset"] == name]
        fid = np.array([r["fid"] for r in rows])
        base = np.array([r["noise_baseline"] for r in rows])
        print(f"| {name} | {fid.mean():.3f} ± {fid.std():.3f} | {base.mean():.3f} ± {base.std():.3f} | "
              f"{int((fid < base).sum())}/{len(rows)} | {np.mean([r['train_s'] for r in rows]):.0f} | "
              f"{np.mean([r['epochs'] for r in rows]):.0f} |")
    print("\n| dataset | domain | rows (test) | FID (mean ± std) | baseline (mean) |")
    print("|---|---|---:|---|---|")
    for name in args.datasets.split(","):
        rows = [r for r in results if r["dataset"] == name]
        for index, domain in enumerate(rows[0]["per_domain"]):
            fids = np.array([r["per_domain"][index]["fid"] for r in rows], dtype=float)
            bases = np.array([r["per_domain"][index]["noise_baseline"] for r in rows], dtype=float)
            print(f"| {name} | {domain['domain']} | {domain['n_real']} | {np.nanmean(fids):.3f} ± "
                  f"{np.nanstd(fids):.3f} | {np.nanmean(bases):.3f} |")


if __name__ == "__main__":
    main()
