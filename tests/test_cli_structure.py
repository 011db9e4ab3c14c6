"""`inspect` shows the data's structure and its leaks; `quality --json` reports the synthetic rows' validity."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from fairgen_core.cli import main


def _stops_csv(tmp_path, n: int = 300) -> str:
    """A stop-and-frisk-like table: a complement pair that leaks the label, a one-hot group, a concatenation."""
    rng = np.random.default_rng(0)
    frisked, hair = rng.integers(0, 2, n), rng.integers(0, 3, n)
    race, sex = rng.choice(["B", "W", "Q"], n), rng.choice(["M", "F"], n)
    frame = pd.DataFrame({"race": race, "sex": sex, "race-sex": [f"{r}-{s}" for r, s in zip(race, sex)],
                          **{f"haircolr_{k}": (hair == k).astype(int) for k in range(3)},
                          "age": rng.integers(15, 70, n), "frisked_N": 1 - frisked, "frisked_Y": frisked})
    path = tmp_path / "stops.csv"
    frame.to_csv(path, index=False)
    return str(path)


def test_inspect_json_lists_the_rules_with_evidence_and_warns_of_the_leak(tmp_path, capsys) -> None:
    path = _stops_csv(tmp_path)
    assert main(["inspect", path, "--label", "frisked_Y", "--sensitive", "sex=M", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    rules = {(rule["kind"], tuple(rule["columns"])): rule for rule in report["structure"]["rules"]}
    assert rules[("one_hot", ("haircolr_0", "haircolr_1", "haircolr_2"))]["variant"] == "exactly_one"
    complement = rules[("complement", ("frisked_N", "frisked_Y"))]
    assert (complement["share"], complement["n_rows"], complement["n_violations"]) == (1.0, 300, 0)
    assert rules[("concatenation", ("race-sex", "race", "sex"))]["separator"] == "-"
    assert rules[("leak", ("frisked_N", "frisked_Y"))]["variant"] == "complement"
    assert rules[("leak", ("race-sex", "sex"))]["role"] == "sensitive"
    assert any(w.startswith("column 'frisked_N' leaks the label 'frisked_Y'") for w in report["warnings"])


def test_inspect_text_prints_the_structure_and_the_leak_warning(tmp_path, capsys) -> None:
    assert main(["inspect", _stops_csv(tmp_path), "--label", "frisked_Y", "--sensitive", "sex=M"]) == 0
    out = capsys.readouterr().out
    assert "Structure (" in out and "'frisked_N' and 'frisked_Y' are complements" in out
    assert "warning: column 'frisked_N' leaks the label 'frisked_Y': it is its exact complement" in out


def test_inspect_adult_finds_education_num_derived(capsys) -> None:
    assert main(["inspect", "adult", "--json"]) == 0
    rules = json.loads(capsys.readouterr().out)["structure"]["rules"]
    derived = next(r for r in rules if r["kind"] == "derived")
    assert derived["columns"] == ["education", "education-num"] and derived["share"] == 1.0
