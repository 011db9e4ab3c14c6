"""One generator configuration on one dataset: sample quality and whether translations reach their domain.

    .venv/bin/python benchmarks/generator_ablation.py adult '{"epochs": 15, "patience": 0, "lambda_like": 0.1}' [SEED]

Trains on the SEED (default 0) 70/15/15 split with the given GeneratorConfig overrides, then reports on the
test rows: FID of prior samples (test domain counts) against the noise baseline, and translation fidelity
(:func:`fairgen_core.generator.evaluation.assess_translation`) for counterfactual pairs (other group, same
label) and for the paper's pairs: the share of translations an independent probe (logistic regressions
trained on the real training rows) assigns to the target domain, next to its rate on real rows; the same
by the model's own D_cls; label preservation; the mean change |x_g - x| against the reconstruction error.
``curve`` holds the validation FID and fidelity of every epoch, ``kept_epoch`` the checkpoint kept.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from fairgen_core.config import GeneratorConfig  # noqa: E402
from fairgen_core.data.datasets import get_builtin  # noqa: E402
from fairgen_core.data.spec import assign_domains  # noqa: E402
from fairgen_core.data.splits import split_by_domain  # noqa: E402
from fairgen_core.generator import fit_generator  # noqa: E402
from fairgen_core.generator.evaluation import assess_translation  # noqa: E402
from fairgen_core.generator.training import EpochReport  # noqa: E402
from fairgen_core.metrics.quality import PAPER_NOISE_SIGMA, frechet_distance, noise_baseline  # noqa: E402


def main() -> None:
    name = sys.argv[1]
    overrides = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    torch.set_num_threads(int(overrides.pop("threads", torch.get_num_threads())))
    dataset = get_builtin(name)
    frame, spec = dataset.load(), dataset.default_spec()
    domains = assign_domains(frame, spec).domain
    split = split_by_domain(domains, seed=seed)
    curve: list[EpochReport] = []
    start = time.perf_counter()
    config = GeneratorConfig(**{"seed": seed, **overrides})
    model = fit_generator(frame, spec, schema=dataset.schema(frame), config=config, split=split, callback=curve.append)
    train_s = time.perf_counter() - start
    x_test = model.encoder.transform(frame.iloc[split.test])
    prior = model.decode_prior(domains[split.test], torch.Generator().manual_seed(2)).numpy()
    kept = max(curve, key=lambda r: -np.inf if r.best_score is None else r.best_score)

    def rounded(values: dict) -> dict:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in values.items() if k != "per_domain"}

    result = {
        "dataset": name, "seed": seed, "config": overrides, "epochs": len(curve), "kept_epoch": kept.epoch,
        "train_s": round(train_s, 1), "rows_per_s": round(float(np.median([r.rows_per_s for r in curve]))),
        "fid_test": round(frechet_distance(x_test, prior), 3),
        "noise_baseline": round(noise_baseline(x_test, PAPER_NOISE_SIGMA.get(name, 0.25), seed=0), 3),
        "counterfactual": rounded(assess_translation(model, frame, split, pairs="counterfactual", seed=1).to_dict()),
        "paper": rounded(assess_translation(model, frame, split, pairs="paper", seed=1).to_dict()),
        "curve": [(r.epoch, None if r.val_fid is None else round(r.val_fid, 3),
                   None if r.val_translation is None else round(r.val_translation, 3)) for r in curve],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
