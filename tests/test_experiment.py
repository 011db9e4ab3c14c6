"""The experiment runner on real German data: tidy table, manifest, figures, caching, reproducibility."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from fairgen_core.cli import main
from fairgen_core.config import ClassifierConfig, GeneratorConfig
from fairgen_core.data.datasets import get_builtin
from fairgen_core.errors import FairGenError
from fairgen_core.experiment import CellDone, ExperimentConfig, run_experiment
from fairgen_core.results.table import SWEEP_METRICS
from fairgen_core.runs.executor import ExecutorConfig
from fairgen_core.runs.store import RunDir

GERMAN = get_builtin("german")
SMALL = {"experiment": ExperimentConfig(repetitions=2, ratios=(0.0, 0.5, 1.0), methods=("baseline", "reweighing")),
         "generator": GeneratorConfig(epochs=2, device="cpu"),
         "classifier": ClassifierConfig(max_epochs=4, device="cpu", pretrain_rows_per_domain=500)}


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, pd.DataFrame, list[CellDone]]:
    out = tmp_path_factory.mktemp("experiment") / "german"
    cells: list[CellDone] = []
    result = run_experiment(GERMAN.load(), GERMAN.default_spec(), out, data_name="german", progress=cells.append,
                            **SMALL)
    return out, result.results, cells


def test_results_are_one_tidy_table_with_every_method_ratio_and_repetition(finished) -> None:
    out, results, cells = finished
    assert list(results.columns) == ["dataset", "method", "ratio", "repetition", "seed", "selection", "metric",
                                     "value", "note"]
    assert set(results["method"]) == {"transfer", "transfer, ratio chosen", "transfer + thresholds", "no TL",
                                      "down-sampled TL", "baseline", "reweighing"}
    assert sorted(results.loc[results["method"] == "transfer", "ratio"].unique()) == [0.0, 0.5, 1.0]
    assert results.loc[results["method"] == "transfer + thresholds", "ratio"].unique().tolist() == [0.5]
    assert set(results["selection"]) == {"accuracy", "fair"}  # both rules, every method
    per_method = results.groupby(["selection", "method", "ratio"], dropna=False)["repetition"].nunique()
    assert (per_method == 2).all()
    assert results[results["metric"].isin(SWEEP_METRICS)]["value"].between(0, 1).all()
    paired = pd.read_csv(out / "paired.csv")
    assert {"ci_low", "ci_high", "verdict", "selection"} <= set(paired.columns)
    assert "baseline" not in set(paired["method"]) and (paired["n"] == 2).all()
    translation = pd.read_csv(out / "translation.csv")
    assert translation["repetition"].tolist() == [0, 1] and translation["target_rate"].between(0, 1).all()
    assert sorted({(c.stage, c.repetition) for c in cells}) == sorted(
        (stage, r) for stage in ("generator", "sweep", "methods") for r in (0, 1))
    assert [c.finished for c in cells] == list(range(1, 7)) and not any(c.cached for c in cells)
    saved = pd.read_csv(out / "results.csv", keep_default_na=False, na_values=[""])
    assert len(saved) == len(results)


def test_manifest_records_seeds_versions_and_data_hash(finished) -> None:
    out, _, _ = finished
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seeds"] == {"rep0": 0, "rep1": 1}
    assert len(manifest["fingerprint"]["data_sha256"]) == 64
    assert manifest["fingerprint"]["experiment"]["methods"] == ["baseline", "reweighing"]
    assert set(manifest["versions"]) >= {"python", "torch", "pandas", "numpy"}
    assert (out / "fig2_methods.html").stat().st_size > 100_000  # plotly.js inlined: opens offline
    assert "Balanced accuracy" in (out / "fig3_ratio.html").read_text()
    if Path("/usr/bin/chromium").exists():  # kaleido renders the images with the installed Chromium
        assert (out / "fig3_ratio.png").read_bytes()[:4] == b"\x89PNG"
    else:
        assert "install Chromium" in (out / "fig3_ratio.png.txt").read_text()


def test_rerun_reuses_every_cell_and_gives_the_same_table(finished) -> None:
    out, results, _ = finished
    cells: list[CellDone] = []
    again = run_experiment(GERMAN.load(), GERMAN.default_spec(), out, data_name="german", progress=cells.append,
                           **SMALL)
    assert all(c.cached for c in cells) and len(cells) == 6
    pd.testing.assert_frame_equal(again.results, results)


def test_a_deleted_cell_is_recomputed_identically(finished, tmp_path) -> None:
    out, results, _ = finished
    (out / "rep1" / "generator" / "sweep.csv").unlink()
    cells: list[CellDone] = []
    again = run_experiment(GERMAN.load(), GERMAN.default_spec(), out, data_name="german", progress=cells.append,
                           **SMALL)
    assert [(c.stage, c.repetition) for c in cells if not c.cached] == [("sweep", 1)]
    pd.testing.assert_frame_equal(again.results, results)


def test_a_different_experiment_in_the_same_folder_is_refused(finished) -> None:
    out, _, _ = finished
    with pytest.raises(FairGenError, match="different experiment"):
        run_experiment(GERMAN.load(), GERMAN.default_spec(), out, data_name="german",
                       experiment=ExperimentConfig(repetitions=1, ratios=(0.5,), methods=()),
                       generator=SMALL["generator"], classifier=SMALL["classifier"])


def test_bad_settings_name_the_fix() -> None:
    with pytest.raises(FairGenError, match="unknown method"):
        ExperimentConfig(methods=("magic",))
    with pytest.raises(FairGenError, match="ratios"):
        ExperimentConfig(ratios=(1.5,))
    with pytest.raises(FairGenError, match="number of repetitions must be positive, got 0"):
        ExperimentConfig(repetitions=0)
    with pytest.raises(FairGenError, match="number of parallel jobs must be positive, got 0"):
        ExecutorConfig(jobs=0)


@pytest.mark.parametrize("flag", ["--reps", "--jobs", "--max-parallel"])
def test_the_command_line_names_its_own_flag(flag, tmp_path, capsys) -> None:
    assert main(["experiment", "german", "--out", str(tmp_path / "out"), flag, "0"]) == 2
    assert f"{flag} must be positive, got 0." in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("flags", "message"), [
    (["--max-parallel", "2"], "--max-parallel bounds a Ray run"),
    (["--ray", "auto", "--jobs", "2"], "--jobs runs local processes"),
])
def test_the_command_line_refuses_flags_of_the_other_backend(flags, message, tmp_path, capsys) -> None:
    assert main(["experiment", "german", "--out", str(tmp_path / "out"), *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_command_line_runs_and_prints_the_summary(tmp_path, capsys) -> None:
    out = tmp_path / "cli"
    assert main(["experiment", "german", "--out", str(out), "--reps", "1", "--ratios", "0.5,1", "--methods",
                 "baseline", "--epochs", "1", "--classifier-epochs", "3", "--device", "cpu", "--no-calibration"]) == 0
    captured = capsys.readouterr()
    assert "[1/3] rep 0 generator" in captured.err and "[3/3] rep 0 methods" in captured.err
    assert RunDir(out / "rep0" / "generator").read_manifest().config.calibrated_sampling is False  # the paper's rows
    assert "transfer" in captured.out and "baseline" in captured.out and "results.csv" in captured.out
    assert main(["experiment", "german", "--out", str(out), "--reps", "1", "--ratios", "0.5,1", "--methods",
                 "magic"]) == 2
    assert "unknown method" in capsys.readouterr().err
