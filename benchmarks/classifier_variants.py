"""Fair-classifier settings compared on VALIDATION numbers only, over an experiment's repetitions.

    .venv/bin/python benchmarks/classifier_variants.py build/experiments/german \\
        '{"lr 0.1": {"finetune_lr_scale": 0.1}, "paper pairs": {"pairs": "paper"}}' [--ratio 0.5] [--reps N]

Reuses the generators an experiment trained (``OUT/rep{i}/generator/model.pt``) and its splits. For every
repetition and every variant (ClassifierConfig overrides of the experiment's classifier settings; the variant
"default" is always included), it pre-trains C, fine-tunes it at ``--ratio``, and chooses the epoch by each
selection rule. It prints, per variant and rule, the chosen candidates' mean VALIDATION balanced accuracy and
|EqOpp| — the numbers defaults are chosen by — and the "no TL" reference's, with their paired differences
against "default". Test numbers are printed in a separate block for the record; they choose nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from fairgen_core.classifier.selection import SELECTION_RULES, EpochRecorder, Validation, select  # noqa: E402
from fairgen_core.classifier.sweep import test_metrics  # noqa: E402
from fairgen_core.classifier.training import (  # noqa: E402
    balanced_weights,
    encode_rows,
    finetune,
    pretrain,
    recording,
    synthetic_pairs,
    train_real_only,
)
from fairgen_core.config import ClassifierConfig  # noqa: E402
from fairgen_core.data.datasets import get_builtin  # noqa: E402
from fairgen_core.data.spec import assign_domains  # noqa: E402
from fairgen_core.data.splits import default_split  # noqa: E402
from fairgen_core.generator.model import FairGenerator  # noqa: E402
from fairgen_core.results.table import NO_TL  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("experiment", type=Path)
    parser.add_argument("variants", type=json.loads)
    parser.add_argument("--ratio", type=float, default=0.5)
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    manifest = json.loads((args.experiment / "manifest.json").read_text())
    fingerprint = manifest["fingerprint"]
    dataset = get_builtin(manifest["data"])
    frame, spec = dataset.load(), dataset.default_spec()
    base = ClassifierConfig.from_dict(fingerprint["classifier"])
    variants = {"default": {}, **args.variants}
    seed0 = fingerprint["experiment"]["seed"]
    reps = args.reps or fingerprint["experiment"]["repetitions"]
    rows = []
    for repetition in range(reps):
        model_path = args.experiment / f"rep{repetition}" / "generator" / "model.pt"
        generator = FairGenerator.load(model_path, device="cpu")
        split = default_split(frame, spec, seed=seed0, repetition=repetition)
        x, y, d = encode_rows(generator, frame, split.train)
        x_val, y_val, d_val = encode_rows(generator, frame, split.val)
        x_test, y_test, d_test = encode_rows(generator, frame, split.test)
        names = assign_domains(frame, spec).group_names
        validation = Validation(y_val, d_val // 2, tuple(names))
        pretrained = {}  # variants that differ only in fine-tuning share one pre-trained C
        for name, overrides in [*variants.items(), (NO_TL, None)]:
            config = replace(base, seed=seed0 + repetition, **(overrides or {}))
            recorder = EpochRecorder(validation, [])
            w_real, _ = balanced_weights(config, d, d)
            if overrides is None:
                train_real_only(x, y, x_val, y_val, config, sample_weight=w_real,
                                on_epoch=recording(recorder, x_val, x_test))
            else:
                x_pairs, y_pairs, d_pairs = synthetic_pairs(generator, x, d, config.seed, pairs=config.pairs)
                w_real, w_pairs = balanced_weights(config, d, d_pairs)
                key = json.dumps(replace(config, pairs="paper", finetune_lr_scale=1.0, consistency=0.0).to_dict())
                if key not in pretrained:
                    pretrained[key] = pretrain(generator, x_val, y_val, config)
                finetune(pretrained[key], x, y, x_pairs, y_pairs, x_val, y_val,
                         ratio=args.ratio, config=config, sample_weight=w_real, pair_weight=w_pairs,
                         on_epoch=recording(recorder, x_val, x_test))
            for rule in SELECTION_RULES:
                chosen = recorder.candidates[select(recorder.candidates, rule)]
                test = test_metrics(y_test, chosen.test_predictions, d_test // 2, names)
                rows.append({"variant": name, "rule": rule, "repetition": repetition,
                             "epoch": chosen.chosen["epoch"], "val_ba": chosen.val_balanced_accuracy,
                             "val_eo": chosen.val_unfairness, "test_ba": test["balanced_accuracy"],
                             "test_eo": test["abs_equal_opportunity_difference"],
                             "test_ao": test["average_abs_odds_difference"]})
        print(f"repetition {repetition} done", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows)
    table.to_csv(args.experiment / "classifier_variants.csv", index=False)
    reference = table[table["variant"] == "default"].set_index(["rule", "repetition"])
    for block, columns in (("VALIDATION (chooses)", ["val_ba", "val_eo"]),
                           ("test (for the record)", ["test_ba", "test_eo", "test_ao"])):
        print(f"\n{block}: mean over {reps} repetitions; d = paired difference against 'default' (± 1.96 SE)")
        for (variant, rule), part in table.groupby(["variant", "rule"], sort=False):
            cells = []
            for column in columns:
                diff = part.set_index(["rule", "repetition"])[column] - reference[column]
                diff = diff.dropna()
                half = 1.96 * diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
                cells.append(f"{column} {part[column].mean():.3f} (d {diff.mean():+.3f} ± {half:.3f})")
            print(f"  {variant:>24} {rule:>8}  epoch {part['epoch'].mean():4.1f}  " + "  ".join(cells))


if __name__ == "__main__":
    main()
