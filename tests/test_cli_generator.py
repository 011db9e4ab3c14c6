"""`fit`, `sample` and `quality` from the command line, on a small real dataset."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fairgen_core.cli import main
from fairgen_core.config import DEFAULT_ENCODING, EncoderConfig
from fairgen_core.data.datasets import get_builtin
from fairgen_core.data.io import read_csv
from fairgen_core.data.spec import assign_domains
from fairgen_core.generator import FairGenerator
from fairgen_core.runs.store import RunDir


@pytest.fixture(scope="module")
def german_run(tmp_path_factory) -> RunDir:
    out = tmp_path_factory.mktemp("run") / "german"
    assert main(["fit", "german", "--out", str(out), "--epochs", "3", "--device", "cpu", "--seed", "1"]) == 0
    return RunDir(out)


def test_fit_writes_manifest_progress_and_model(german_run: RunDir) -> None:
    manifest = german_run.read_manifest()
    assert manifest.data == "german" and manifest.spec.label == "credit"
    assert len(manifest.split.train) + len(manifest.split.val) + len(manifest.split.test) == 1000
    progress = german_run.read_progress()
    assert [p["epoch"] for p in progress] == [1, 2, 3]
    assert all(len(p["step_losses"]["generator"]) > 0 for p in progress)
    assert german_run.model_path.is_file()


def test_sample_writes_an_exactly_balanced_csv(german_run: RunDir, tmp_path, capsys) -> None:
    out = tmp_path / "synthetic.csv"
    assert main(["sample", str(german_run.path), "--n", "2000", "--out", str(out), "--device", "cpu"]) == 0
    assert "wrote 2,000 rows" in capsys.readouterr().out
    rows = read_csv(out).frame
    german = get_builtin("german")
    assert list(rows.columns) == list(german.load().columns)
    domains = assign_domains(rows, german.default_spec()).domain
    assert np.bincount(domains, minlength=4).tolist() == [500, 500, 500, 500]


def test_quality_reports_fid_against_the_noise_baseline(german_run: RunDir, capsys) -> None:
    assert main(["quality", str(german_run.path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["sigma"] == 0.25 and report["noise_baseline"] > 0 and report["fid"] > 0
    assert len(report["per_domain"]) == 4
    assert report["verdict"].startswith("Synthetic data is")
    translation = report["translation"]
    assert 0 <= translation["target_rate"] <= 1 and 0 < translation["real_rate"] <= 1
    assert translation["ratio"] == pytest.approx(translation["target_rate"] / translation["real_rate"])
    assert [row["domain"] for row in translation["per_domain"]] == [row["domain"] for row in report["per_domain"]]
    assert all(0 <= row["target_rate"] <= 1 and 0 <= row["real_rate"] <= 1 for row in translation["per_domain"])
    assert main(["quality", str(german_run.path)]) == 0
    text = capsys.readouterr().out
    assert "Per domain" in text and "Mean |correlation difference|" in text
    assert "Translation fidelity (counterfactual pairs" in text and "target domain" in text
    assert "memoris" in text  # the privacy verdict, whichever way it goes


def test_quality_leads_with_the_standard_measures(german_run: RunDir, capsys) -> None:
    assert main(["quality", str(german_run.path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert list(report)[:5] == ["shapes", "trends", "detection", "tstr", "tstr_fairness"]
    assert all(0 <= report[key] <= 1 for key in ("shapes", "trends", "detection"))
    assert 0 < report["tstr"]["tstr_balanced_accuracy"] <= 1 and 0 < report["tstr"]["trtr_balanced_accuracy"] <= 1
    assert report["tstr"]["gap"] == pytest.approx(report["tstr"]["tstr_balanced_accuracy"]
                                                  - report["tstr"]["trtr_balanced_accuracy"])
    assert set(report["tstr_fairness"]["tstr"]) == set(report["tstr_fairness"]["trtr"]) == {
        "abs_equal_opportunity_difference", "average_abs_odds_difference"}
    assert set(report["verdicts"]) == {"shapes", "trends", "detection", "tstr", "tstr_fairness"}
    assert set(report["verdicts"].values()) <= {"good", "fair", "poor"}
    domains = [row["domain"] for row in report["per_domain"]]
    assert report["weakest_domain"] in domains and len(report["worst_columns"]) == 3
    assert all({"fid", "n_real", "n_synthetic", "shape", "trend", "detection", "tstr_accuracy", "tstr_accuracy_low",
                "tstr_accuracy_high", "dcr_synthetic_median"} <= set(row) for row in report["per_domain"])
    assert all(row["tstr_accuracy_low"] <= row["tstr_accuracy"] <= row["tstr_accuracy_high"]
               for row in report["per_domain"] if row["tstr_accuracy"] is not None)
    assert main(["quality", str(german_run.path)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Standard measures: Column shapes") and "Per domain (standard measures)" in text
    assert ("Not a good result: " in text) == ("poor" in report["verdicts"].values() or not report["beats_baseline"]
                                                or not report["validity"]["good"])


def test_fit_ends_with_a_rounded_summary(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["fit", "german", "--out", str(out), "--epochs", "1", "--device", "cpu"]) == 0
    best = RunDir(out).read_progress()[-1]["best_fid"]
    assert capsys.readouterr().out.endswith(f"done: 1 epochs, best validation FID {best:.3f}, stopped: completed; "
                                            f"model in {out / 'model.pt'}\n")


def test_bad_run_folder_and_sizes_are_reported(german_run: RunDir, tmp_path, capsys) -> None:
    assert main(["sample", str(tmp_path), "--n", "4", "--out", str(tmp_path / "x.csv")]) == 2
    assert "not a FairGen run folder" in capsys.readouterr().err
    assert main(["quality", str(german_run.model_path)]) == 2  # the model file, not its folder: named, no traceback
    error = capsys.readouterr().err
    assert "is a file, not a FairGen run folder" in error and f"e.g. '{german_run.path}'" in error
    assert main(["sample", str(german_run.path), "--n", "1001", "--out", str(tmp_path / "x.csv")]) == 2
    assert "divisible by the 4 domains" in capsys.readouterr().err


def test_fit_resume_continues_the_same_run(tmp_path) -> None:
    out = str(tmp_path / "run")
    assert main(["fit", "german", "--out", out, "--epochs", "1", "--device", "cpu"]) == 0
    split_before = RunDir(out).read_manifest().split.test.tolist()
    assert main(["fit", "german", "--out", out, "--epochs", "3", "--device", "cpu", "--resume"]) == 0
    assert [p["epoch"] for p in RunDir(out).read_progress()] == [1, 2, 3]
    assert RunDir(out).read_manifest().split.test.tolist() == split_before


def test_fit_encodes_and_samples_as_asked_and_records_the_choice(german_run: RunDir, tmp_path) -> None:
    assert german_run.read_manifest().config.encoding == DEFAULT_ENCODING
    out = tmp_path / "paper"
    assert main(["fit", "german", "--out", str(out), "--epochs", "1", "--device", "cpu",
                 "--numeric-encoding", "max-abs", "--point-mass", "0", "--no-calibration",
                 "--no-fold-one-hot"]) == 0
    assert RunDir(out).read_manifest().config.encoding == EncoderConfig()
    model = FairGenerator.load(RunDir(out).model_path, device="cpu")
    assert model.encoder.config == EncoderConfig() and {s.kind for s in model.encoder.layout} == {"numeric", "softmax"}
    assert not model.calibrated and RunDir(out).read_manifest().config.calibrated_sampling is False
    assert FairGenerator.load(german_run.model_path, device="cpu").calibrated  # the default


def test_quality_reports_the_validity_of_the_synthetic_rows(german_run: RunDir, capsys) -> None:
    manifest = german_run.read_manifest()
    assert manifest.structure is not None and manifest.structure.row_rules  # recorded when the run was made
    assert main(["quality", str(german_run.path), "--json"]) == 0
    validity = json.loads(capsys.readouterr().out)["validity"]
    assert 0 <= validity["share"] <= 1 and validity["reference"] == 1.0
    assert validity["n_rows"] == len(manifest.split.test)
    assert {rule["rule"] for rule in validity["rules"]} == {rule.key for rule in manifest.structure.row_rules}
    assert [row["domain"] for row in validity["per_domain"]] == [
        "sex=female · credit=bad", "sex=female · credit=good", "sex=male · credit=bad", "sex=male · credit=good"]
    assert validity["verdict"].endswith(".") and isinstance(validity["good"], bool)
    assert main(["quality", str(german_run.path)]) == 0
    assert "Validity: " in capsys.readouterr().out
