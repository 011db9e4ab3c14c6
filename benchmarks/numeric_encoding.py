"""Issue 15, point 0: which numeric encoding models Adult, COMPAS and German best.

    .venv/bin/python benchmarks/numeric_encoding.py [--datasets adult,compas,german] [--candidates NAME,...]
        [--seeds 0,1,2] [--out benchmarks/results/numeric_encoding.json]

Every candidate trains the generator with default settings (only ``GeneratorConfig.encoding`` differs; seed
``s`` for the split, ``default_split``, and the training) and is judged by ``assess_quality`` on the test rows, as
``quality --json`` does: column shapes, column-pair trends, detection, TSTR − TRTR balanced accuracy and the TSTR
model's fairness, each numeric column's KS distance, the FID and its noise baseline; with the wall time of the fit
and of the assessment. The measures are computed on decoded rows in the paper's max-abs space
(``QualitySamples.encoder``), one yardstick for every encoding. Results are appended to the JSON file after every
fit (a finished cell is not recomputed when the script is run again), and a markdown table is printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from itertools import groupby
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fairgen_core.config import EncoderConfig, GeneratorConfig  # noqa: E402
from fairgen_core.data.datasets import get_builtin  # noqa: E402
from fairgen_core.data.splits import default_split  # noqa: E402
from fairgen_core.devices import apply_thread_budget  # noqa: E402
from fairgen_core.generator import fit_generator  # noqa: E402
from fairgen_core.generator.evaluation import assess_quality, default_sigma  # noqa: E402
from fairgen_core.metrics.fidelity import MEASURES  # noqa: E402

CANDIDATES: dict[str, EncoderConfig] = {
    "max-abs": EncoderConfig(),
    "max-abs + point mass": EncoderConfig(point_mass=0.1),  # point mass: a value holding ≥ 10% of its column
    "quantile": EncoderConfig(numeric="quantile"),
    "quantile + point mass": EncoderConfig(numeric="quantile", point_mass=0.1),
    "quantile + point mass ≥ 0.5": EncoderConfig(numeric="quantile", point_mass=0.5),
    "modes": EncoderConfig(numeric="modes"),
    "modes + point mass": EncoderConfig(numeric="modes", point_mass=0.1),
}


def measure(name: str, encoding: EncoderConfig, seed: int = 0) -> dict[str, object]:
    """Fit one candidate on one dataset and assess it."""
    dataset = get_builtin(name)
    frame, spec = dataset.load(), dataset.default_spec()
    schema = dataset.schema(frame)
    split = default_split(frame, spec, seed=seed)
    started = time.perf_counter()
    model = fit_generator(frame, spec, schema=schema, config=GeneratorConfig(seed=seed, encoding=encoding),
                          split=split)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    quality = assess_quality(model, frame, split, sigma=default_sigma(name), seed=seed)
    assess_s = time.perf_counter() - started
    fidelity, last = quality.fidelity, model.history[-1]
    marginals = quality.marginals
    return {
        "dataset": name, "encoding": encoding.to_dict(), "seed": seed, "encoded_features": model.encoder.n_features,
        "fit_s": round(fit_s, 1), "assess_s": round(assess_s, 1), "epochs": last["epoch"],
        "best_epoch_score": last["best_score"],
        **{m: fidelity.values()[m] for m in MEASURES},
        "tstr_balanced_accuracy": fidelity.efficacy.tstr, "trtr_balanced_accuracy": fidelity.efficacy.trtr,
        "tstr_gaps": dict(fidelity.efficacy.tstr_fairness), "trtr_gaps": dict(fidelity.efficacy.trtr_fairness),
        "fid": quality.quality.fid, "noise_baseline": quality.quality.noise_baseline,
        "numeric_ks": dict(zip(marginals.loc[marginals["kind"] == "numeric", "column"],
                               marginals.loc[marginals["kind"] == "numeric", "value"].round(4))),
    }


def table(results: list[dict[str, object]]) -> str:
    """Markdown table: per dataset and candidate, the mean of every measure over the seeds run."""
    lines = ["| dataset | encoding | seeds | shapes | trends | detection | TSTR − TRTR | TSTR fairness gain | "
             "FID / baseline | largest numeric KS | fit s | epochs |", "|---|---|" + "---:|" * 10]
    for (name, candidate), rows in groupby(sorted(results, key=_order), key=lambda r: (r["dataset"], r["candidate"])):
        rows = list(rows)
        mean = {key: float(np.mean([r[key] for r in rows])) for key in (*MEASURES, "fid", "noise_baseline", "fit_s",
                                                                        "epochs")}
        ks = {column: float(np.mean([r["numeric_ks"][column] for r in rows])) for column in rows[0]["numeric_ks"]}
        worst = max(ks, key=ks.get)
        lines.append(
            f"| {name} | {candidate} | {len(rows)} | {mean['shapes']:.3f} | {mean['trends']:.3f} | "
            f"{mean['detection']:.3f} | {mean['tstr']:+.3f} | {mean['tstr_fairness']:+.3f} | {mean['fid']:.3f} / "
            f"{mean['noise_baseline']:.3f} | {worst} {ks[worst]:.2f} | {mean['fit_s']:.0f} | {mean['epochs']:.0f} |")
    return "\n".join(lines)


def _order(result: dict[str, object]) -> tuple[int, int]:
    """Datasets in the order Adult, COMPAS, German; candidates in :data:`CANDIDATES`' order."""
    return (["adult", "compas", "german"].index(str(result["dataset"])), list(CANDIDATES).index(result["candidate"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="adult,compas,german")
    parser.add_argument("--candidates", default=",".join(CANDIDATES))
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "numeric_encoding.json"))
    args = parser.parse_args()
    apply_thread_budget()
    out = Path(args.out)
    results: list[dict[str, object]] = json.loads(out.read_text()) if out.exists() else []
    cells = [(name, int(seed), candidate) for name in args.datasets.split(",") for seed in args.seeds.split(",")
             for candidate in args.candidates.split(",")]
    for name, seed, candidate in cells:
        if any((r["dataset"], r["seed"], r["candidate"]) == (name, seed, candidate) for r in results):
            continue
        results.append({"candidate": candidate, **measure(name, CANDIDATES[candidate], seed)})
        print(json.dumps(results[-1]), flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1))
    print(table(results))


if __name__ == "__main__":
    main()
