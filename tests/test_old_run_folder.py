"""A run folder written by an earlier FairGen (main at e1c8c93, before the service layer was regrouped) still loads.

The fixture ``tests/fixtures/run_2026_12_02`` was made by that version's ``fit german --epochs 2 --seed 3`` with a
small network (hidden 16, latent 4) to keep it small; every command below must read it as it reads a new run.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from fairgen_core.cli import main
from fairgen_core.data.spec import assign_domains
from fairgen_core.generator import FairGenerator
from fairgen_core.runs.store import RunDir
from tests.conftest import REPO_ROOT

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "run_2026_12_02"


@pytest.fixture
def old_run(tmp_path: Path) -> Path:
    """A copy of the fixture, so that commands writing into the run folder leave the repository alone."""
    return Path(shutil.copytree(FIXTURE, tmp_path / "run"))


def test_the_manifest_data_progress_and_model_load(old_run: Path) -> None:
    run = RunDir(old_run)
    manifest = run.read_manifest()
    assert manifest.data == "german" and manifest.spec.sensitive_columns == ("sex",)
    assert [entry["epoch"] for entry in run.read_progress() if "epoch" in entry and "step" not in entry][-1:] == [2]
    frame = run.open_data().frame
    model = FairGenerator.load(run.model_path, device="cpu")
    rows = model.sample(40, seed=0)
    counts = assign_domains(rows, manifest.spec).domain
    assert np.bincount(counts, minlength=4).tolist() == [10, 10, 10, 10]  # exactly balanced, as before
    assert set(rows.columns) == set(frame.columns)


def test_the_commands_read_it_like_a_new_run(old_run: Path, capsys) -> None:
    assert main(["quality", str(old_run), "--json"]) == 0
    quality = json.loads(capsys.readouterr().out)
    assert quality["fid"] >= 0 and 0 <= quality["translation"]["target_rate"] <= 1
    assert RunDir(old_run).read_manifest().structure is None  # made before structure was recorded: found again
    assert quality["validity"]["rules"] and quality["validity"]["reference"] == 1.0
    report = old_run / "report.html"
    assert main(["report", str(old_run), "--out", str(report)]) == 0
    assert "german" in report.read_text(encoding="utf-8")
    assert "Validity (rules every real row keeps)" in report.read_text(encoding="utf-8")


def _keys(record: dict) -> tuple[list[str], list[str], list[str]]:
    return list(record), list(record["losses"]), list(record.get("step_losses", record["losses"]))


def test_a_new_run_writes_its_log_and_history_in_the_old_format(tmp_path: Path, capsys) -> None:
    """The same keys in the same order: the training log, its loss terms and the checkpoint's history."""
    assert main(["fit", "german", "--epochs", "1", "--device", "cpu", "--out", str(tmp_path / "new")]) == 0
    capsys.readouterr()
    old, new = RunDir(FIXTURE), RunDir(tmp_path / "new")
    assert _keys(new.read_progress()[0]) == _keys(old.read_progress()[0])
    old_history = FairGenerator.load(old.model_path, device="cpu").history
    new_history = FairGenerator.load(new.model_path, device="cpu").history
    assert _keys(new_history[0]) == _keys(old_history[0]) and "step_losses" not in new_history[0]
