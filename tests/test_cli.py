"""The command line, run as users run it: ``python -m fairgen_core``."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from fairgen_core.cli import main
from tests.conftest import REPO_ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fairgen_core", *args], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=120)


def test_help_lists_the_subcommands() -> None:
    result = _run("--help")
    assert result.returncode == 0
    assert "datasets" in result.stdout and "inspect" in result.stdout


def test_inspect_adult_prints_the_four_cell_domain_table() -> None:
    result = _run("inspect", "adult", "--label", "income", "--sensitive", "sex=Male")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "adult: 48,842 rows × 15 columns" in out
    assert "n(income=<=50K)" in out and "n(income=>50K)" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("sex=")}
    assert lines["sex=Female"][1:4] == ["14423", "1769", "16192"]
    assert lines["sex=Male"][1:4] == ["22732", "9918", "32650"]


def test_datasets_json_lists_builtins(capsys) -> None:
    assert main(["datasets", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["adult"]["rows"] == 48_842 and rows["compas"]["rows"] == 6_167 and rows["german"]["rows"] == 1_000
    assert rows["meps"]["needs file"] == "yes"


def test_inspect_csv_with_two_sensitive_attributes_as_json(tmp_path, capsys, shared_datasets) -> None:
    path = shared_datasets / "compas" / "compas-scores-two-years.csv"
    code = main(["inspect", str(path), "--label", "two_year_recid", "--favourable", "0",
                 "--sensitive", "sex=Female", "race=Caucasian", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 7_214
    assert len(report["domains"]) == 4
    assert sum(d["n"] for d in report["domains"]) == 7_214
    assert any("duplicate column name" in note for note in report["notes"])


def test_bare_sensitive_column_takes_the_most_frequent_value(capsys) -> None:
    assert main(["inspect", "german", "--sensitive", "sex"]) == 0
    assert "sex ∈ {male}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["inspect", "nope.csv", "--label", "y"], "'nope.csv' does not exist"),
        (["inspect", "adult", "--label", "incme"], "did you mean 'income'"),
        (["inspect", "adult", "--label", "workclass", "--sensitive", "sex=Male"], "choose the favourable value"),
        (["inspect", "adult", "--sensitive", "sex=Man"], "'Man'.*choose among 'Female', 'Male'"),
        (["inspect", "meps"], "--file"),
    ],
)
def test_bad_input_exits_2_with_a_message(args: list[str], message: str, capsys) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert re.search(message, err), err


def _hiring_rows(sep: str, n: int = 60) -> str:
    return "".join(sep.join(["yes" if i % 3 else "no", "FM"[i % 2], str(20 + i % 30), ""]) + "\n" for i in range(n))


def test_inspect_reads_an_excel_export_and_says_what_it_changed(tmp_path, capsys) -> None:
    rows = "".join(f"{'yes' if i % 3 else 'no'};{'FM'[i % 2]};{20 + i % 30};{i}.{i % 9}00,{i % 7}0;\n"
                   for i in range(60))
    path = tmp_path / "excel.csv"
    path.write_text("sep=;\nhired;sex;age; salary ;religion\n" + rows)
    assert main(["inspect", str(path), "--label", "hired", "--favourable", "yes", "--sensitive", "sex=M"]) == 0
    out = capsys.readouterr().out
    assert "note: 'excel.csv': its first line 'sep=;' (written by Excel) names the separator" in out
    assert "note: 'excel.csv': column(s) 'salary' hold numbers with a decimal comma" in out
    assert "removed the spaces around column name(s) ' salary '" in out
    assert re.search(r"salary\s+numeric", out)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hired,sex,age,religion\n" + _hiring_rows(","),
         r"sensitive attribute 'religion' is empty \(all 60 values are missing\): choose another column"),
        ("<!DOCTYPE html>\n<html><body><table><tr><td>hired</td></tr></table></body></html>\n",
         "'saved.csv' looks like an HTML page, not a CSV: export the table as CSV"),
        ('[{"hired": "yes", "sex": "F"}, {"hired": "no", "sex": "M"}]',
         "'saved.csv' looks like a JSON document, not a CSV: export the table as CSV"),
    ],
)
def test_unusual_files_are_diagnosed_by_what_they_are(tmp_path, capsys, text: str, message: str) -> None:
    path = tmp_path / "saved.csv"
    path.write_text(text)
    args = ["inspect", str(path), "--label", "hired", "--favourable", "yes", "--sensitive", "religion=x"]
    assert main(args) == 2
    assert re.search(message, capsys.readouterr().err)


# -- audit: the user's own model ------------------------------------------------------------------
def _scored_csv(tmp_path, n: int = 400) -> tuple[str, list[str]]:
    """A hiring table with a decision column and a score column; returns its path and the spec arguments."""
    rows = [f"{i},{'yes' if i % 3 else 'no'},{'FM'[i % 2]},{i % 2 if i % 5 else 1},{(i % 10) / 10 + 0.05 * (i % 2):.2f}"
            for i in range(n)]
    path = tmp_path / "hiring.csv"
    path.write_text("id,hired,sex,decision,score\n" + "\n".join(rows) + "\n")
    return str(path), ["--label", "hired", "--favourable", "yes", "--sensitive", "sex=M"]


def test_audit_prints_a_table_per_model_with_intervals_and_verdicts(tmp_path, capsys) -> None:
    path, spec = _scored_csv(tmp_path)
    assert main(["audit", path, *spec, "--predictions", "decision", "--bootstrap", "200"]) == 0
    out = capsys.readouterr().out
    assert "Model 'decision' (decisions), 400 rows: 'sex=F' (unprivileged) vs 'sex=M' (privileged)" in out
    assert re.search(r"statistical_parity_difference\s+-0\.800\s+\[-0\.\d+, -0\.\d+\]\s+±0\.1\s+disparity", out), out
    assert re.search(r"disparate_impact\s+0\.200\s+\[.*\]\s+0\.8 to 1\.25\s+disparity", out), out
    assert "Disparity: statistical parity difference -0.800" in out


def test_audit_with_several_sensitive_attributes_prints_every_group_and_the_largest_gaps(tmp_path, capsys) -> None:
    path, spec = _scored_csv(tmp_path)
    args = ["audit", path, *spec, "id>=200", "--predictions", "decision", "--bootstrap", "100"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "every group vs 'sex=M & id≥200' (privileged, the reference), and the largest gaps" in out
    assert re.search(r"statistical_parity_difference\s+'sex=F & id<200' vs 'sex=M & id≥200'\s+-0\.800", out), out
    assert re.search(r"disparate_impact\s+largest gap: '.+' vs '.+'", out), out
    assert main([*args, "--json"]) == 0
    differences = json.loads(capsys.readouterr().out)["models"][0]["differences"]
    assert len(differences) == 4 * 5 and differences[-1]["comparison"] == "largest gap"
    assert {row["reference"] for row in differences[:15]} == {"sex=M & id≥200"}


def test_audit_scores_from_a_second_file_joined_by_key_as_json(tmp_path, capsys) -> None:
    path, spec = _scored_csv(tmp_path)
    predictions = tmp_path / "predictions.csv"
    predictions.write_text("id,risk\n" + "".join(f"{i},{(i % 7) / 7:.3f}\n" for i in reversed(range(400))))
    args = ["audit", path, *spec, "--predictions-file", str(predictions), "--key", "id", "--scores",
            "--threshold", "0.4", "--bootstrap", "100", "--json", "--out", str(tmp_path / "audit.html")]
    assert main(args) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["inputs"]["rows"] == 400 and len(report["inputs"]["data_sha256"]) == 64
    (model,) = report["models"]
    assert model["model"] == "risk" and model["thresholds"] == [0.4, 0.4] and model["n_rows"] == 400
    assert [row["metric"] for row in model["differences"]][:2] == ["statistical_parity_difference", "disparate_impact"]
    verdicts = {row["verdict"] for row in model["differences"]}
    assert verdicts <= {"within tolerance", "disparity", "insufficient evidence"}
    assert "brier" in model["per_group"][0] and model["calibration"]
    assert captured.err.strip() == f"wrote {tmp_path / 'audit.html'}"
    page = (tmp_path / "audit.html").read_text(encoding="utf-8")
    assert "risk" in page and f"{model['differences'][0]['value']:.3f}" in page  # the same numbers in the report


@pytest.mark.parametrize(
    ("extra", "predictions", "message"),
    [
        (["--predictions", "score"], None, r"holds 10 distinct values .*mark the column as scores.*add --scores"),
        (["--predictions", "sex"], None, "holds the values 'F' and 'M', not 0/1"),
        ([], None, "choose the model's column"),
        (["--predictions-file", "P"], "risk\n" + "0.5\n0.2\n" * 10,
         "the predictions have 20 rows but the data has 400.*add --key COLUMN"),
        (["--predictions-file", "P", "--key", "id"], "id,risk\n" + "1,0.5\n1,0.2\n" * 3,
         r"key 'id' repeats in the predictions: 1 value\(s\) occur more than once \(e.g. 1\)"),
        (["--predictions", "id", "--scores"], None,
         r"scores column 'id' has values outside \[0, 1\].*--rescale-scores"),
        (["--predictions", "decision", "--group-thresholds", "0.4", "0.5"], None, "apply to scores: add --scores"),
    ],
)
def test_audit_bad_input_exits_2_naming_the_column(tmp_path, capsys, extra: list[str], predictions: str | None,
                                                   message: str) -> None:
    path, spec = _scored_csv(tmp_path)
    if predictions is not None:
        (tmp_path / "P.csv").write_text(predictions)
        extra = [str(tmp_path / "P.csv") if arg == "P" else arg for arg in extra]
    assert main(["audit", path, *spec, *extra]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err), err
