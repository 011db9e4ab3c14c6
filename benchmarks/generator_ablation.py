"""One generator configuration on one dataset: sample quality and whether translations carry their domain.

    .venv/bin/python benchmarks/generator_ablation.py adult '{"epochs": 15, "patience": 0, "lambda_cls_prior": 0.2}'

Trains on the seed-0 70/15/15 split with the given GeneratorConfig overrides, then reports on the test rows:
FID of prior samples (test domain counts) against the noise baseline; how often a domain classifier picks the
intended domain — a logistic regression trained on the real training rows (``probe_*``) and the model's own
D_cls (``dcls_*``) — for real rows, translated rows (paper's target rule) and prior samples; and throughput.
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
from sklearn.linear_model import LogisticRegression  # noqa: E402

from fairgen_core.config import GeneratorConfig  # noqa: E402
from fairgen_core.data.datasets import get_builtin  # noqa: E402
from fairgen_core.data.spec import assign_domains  # noqa: E402
from fairgen_core.data.splits import split_by_domain  # noqa: E402
from fairgen_core.generator import fit_generator  # noqa: E402
from fairgen_core.metrics.quality import PAPER_NOISE_SIGMA, frechet_distance, noise_baseline  # noqa: E402


def main() -> None:
    name = sys.argv[1]
    overrides = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    dataset = get_builtin(name)
    frame, spec = dataset.load(), dataset.default_spec()
    domains = assign_domains(frame, spec).domain
    split = split_by_domain(domains, seed=0)
    start = time.perf_counter()
    model = fit_generator(frame, spec, schema=dataset.schema(frame), config=GeneratorConfig(**overrides), split=split)
    train_s = time.perf_counter() - start
    x_train, x_test = (model.encoder.transform(frame.iloc[rows]) for rows in (split.train, split.test))
    d_test = domains[split.test]
    probe = LogisticRegression(max_iter=2000).fit(x_train, domains[split.train])
    target = model.paired_targets(d_test, seed=1)
    translated = model.translate_encoded(x_test, d_test, target, seed=1)
    prior = model.decode_prior(d_test, torch.Generator().manual_seed(2)).numpy()
    @torch.no_grad()
    def d_cls(rows: np.ndarray) -> np.ndarray:
        return model.translator.discriminator(torch.as_tensor(rows))[1].argmax(1).numpy()

    def share(predicted: np.ndarray, wanted: np.ndarray) -> float:
        return round(float((predicted == wanted).mean()), 3)

    result = {
        "dataset": name, "config": overrides, "epochs": len(model.history), "train_s": round(train_s, 1),
        "rows_per_s": round(float(np.median([h["rows_per_s"] for h in model.history]))),
        "fid_test": round(frechet_distance(x_test, prior), 3),
        "noise_baseline": round(noise_baseline(x_test, PAPER_NOISE_SIGMA.get(name, 0.25), seed=0), 3),
        "probe_real": share(probe.predict(x_test), d_test),
        "probe_translated": share(probe.predict(translated), target),
        "probe_translated_group": share(probe.predict(translated) // 2, target // 2),
        "probe_translated_label": share(probe.predict(translated) % 2, target % 2),
        "probe_prior": share(probe.predict(prior), d_test),
        "dcls_real": share(d_cls(x_test), d_test), "dcls_translated": share(d_cls(translated), target),
        "dcls_prior": share(d_cls(prior), d_test),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
