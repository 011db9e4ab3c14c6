"""`inspect` shows the data's structure and its leaks; `quality --json` reports the synthetic rows' validity."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from fairgen_core.cli import main
from fairgen_core.generator import FairGenerator
from fairgen_core.runs.store import RunDir


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
    captured = capsys.readouterr()
    assert "Structure (" in captured.out and "'frisked_N' and 'frisked_Y' are complements" in captured.out
    leak = "warning: column 'frisked_N' leaks the label 'frisked_Y' (it is its exact complement"
    assert leak in captured.err and "leaks the label" not in captured.out  # said once, with its fix
    assert "To keep it: --keep-leak frisked_N." in captured.err


def test_inspect_adult_finds_education_num_derived(capsys) -> None:
    assert main(["inspect", "adult", "--json"]) == 0
    rules = json.loads(capsys.readouterr().out)["structure"]["rules"]
    derived = next(r for r in rules if r["kind"] == "derived")
    assert derived["columns"] == ["education", "education-num"] and derived["share"] == 1.0


def test_inspect_shows_leaking_columns_left_out_unless_kept(tmp_path, capsys) -> None:
    path = _stops_csv(tmp_path)
    assert main(["inspect", path, "--label", "frisked_Y", "--sensitive", "sex=M", "--json"]) == 0
    captured = capsys.readouterr()
    kinds = {row["column"]: row["kind"] for row in json.loads(captured.out)["schema"]}
    assert kinds["frisked_N"] == "leak" and kinds["race-sex"] == "leak"
    assert "warning: column 'frisked_N' leaks the label 'frisked_Y'" in captured.err
    assert "To keep it: --keep-leak frisked_N." in captured.err
    assert main(["inspect", path, "--label", "frisked_Y", "--sensitive", "sex=M", "--json",
                 "--keep-leak", "frisked_N"]) == 0
    captured = capsys.readouterr()
    kinds = {row["column"]: row["kind"] for row in json.loads(captured.out)["schema"]}
    assert kinds["frisked_N"] == "binary" and kinds["race-sex"] == "leak"
    assert "note: 'frisked_N' leaks the label 'frisked_Y' but stays an input of the models" in captured.err


def test_fit_leaves_a_leak_out_with_a_message_naming_it_and_keeps_it_on_request(tmp_path, capsys) -> None:
    path = _stops_csv(tmp_path)
    common = ["--label", "frisked_Y", "--sensitive", "sex=M", "--epochs", "1", "--device", "cpu"]
    assert main(["fit", path, "--out", str(tmp_path / "out"), *common]) == 0
    err = capsys.readouterr().err
    assert "warning: column 'frisked_N' leaks the label 'frisked_Y'" in err and "--keep-leak frisked_N." in err
    left_out = FairGenerator.load(RunDir(tmp_path / "out").model_path, device="cpu")
    assert "frisked_N" not in left_out.encoder.columns
    assert main(["fit", path, "--out", str(tmp_path / "kept"), *common, "--keep-leak", "frisked_N",
                 "--keep-leak", "age"]) == 0
    err = capsys.readouterr().err
    assert "warning: column 'frisked_N'" not in err and "warning: column 'race-sex' leaks" in err
    assert "warning: --keep-leak age: 'age' leaks neither the label nor a sensitive attribute" in err
    kept = FairGenerator.load(RunDir(tmp_path / "kept").model_path, device="cpu")
    assert "frisked_N" in kept.encoder.columns and "race-sex" not in kept.encoder.columns
    # a resumed run keeps what its first fit kept, without being told again
    assert RunDir(tmp_path / "kept").read_manifest().kept_leaks == ("frisked_N", "age")
    assert main(["fit", path, "--out", str(tmp_path / "kept"), *common[:-4], "--epochs", "2", "--device", "cpu",
                 "--resume"]) == 0
    assert "warning: column 'frisked_N'" not in capsys.readouterr().err
    resumed = FairGenerator.load(RunDir(tmp_path / "kept").model_path, device="cpu")
    assert "frisked_N" in resumed.encoder.columns and len(resumed.history) == 2


def test_keep_leak_names_a_column_of_the_data(tmp_path, capsys) -> None:
    assert main(["inspect", _stops_csv(tmp_path), "--label", "frisked_Y", "--sensitive", "sex=M",
                 "--keep-leak", "frisked_NO"]) == 2
    assert "--keep-leak column 'frisked_NO' is not in the data: did you mean 'frisked_N'" in capsys.readouterr().err


def test_the_report_warns_when_a_kept_leak_makes_the_baseline_near_perfect(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = Path(_stops_csv(tmp_path)).name  # given relative to the working folder
    common = ["--label", "frisked_Y", "--sensitive", "sex=M", "--epochs", "1", "--device", "cpu"]
    pages = {}
    for name, keep in (("kept", ["--keep-leak", "frisked_N"]), ("left_out", [])):
        assert main(["fit", path, "--out", str(tmp_path / name), *common, *keep]) == 0
    monkeypatch.chdir(tmp_path.parent)  # the runs re-open their data from anywhere: the manifest has its full path
    for name in ("kept", "left_out"):
        assert RunDir(tmp_path / name).read_manifest().data_file == str(tmp_path / path)
        assert main(["report", str(tmp_path / name), "--out", str(tmp_path / f"{name}.html")]) == 0
        pages[name] = (tmp_path / f"{name}.html").read_text(encoding="utf-8")
    capsys.readouterr()
    warning = ("Warning: The baseline&#x27;s balanced accuracy 1.000 is near perfect because column "
               "&#x27;frisked_N&#x27; leaks the label &#x27;frisked_Y&#x27;")
    assert warning in pages["kept"]
    assert "near perfect because" not in pages["left_out"]
