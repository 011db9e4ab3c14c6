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
