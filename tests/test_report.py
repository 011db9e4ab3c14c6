"""The HTML audit report, the metrics export and the ``report`` command, on the trained German run."""

from __future__ import annotations

import html
import io
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from fairgen_core.charts import METRIC_TITLES
from fairgen_core.cli import main
from fairgen_core.export import csv_bytes
from fairgen_core.generator import FairGenerator
from fairgen_core.generator.evaluation import GeneratorQuality, assess_quality, assess_translation
from fairgen_core.metrics.paired import describe, paired_differences
from fairgen_core.report import build_report, metrics_json, metrics_table
from fairgen_core.runs import METHODS, SWEEP, RunDir
from tests.app.conftest import german_run_dir  # noqa: F401  (the shared trained German run)

EVIL = "<script>alert(1)</script>"
SWEEP_METRICS = ("balanced_accuracy", "abs_equal_opportunity_difference", "average_abs_odds_difference")


def _results(methods: list[tuple[str, float]], metrics: tuple[str, ...], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame([
        {"method": method, "ratio": ratio, "repetition": rep, "seed": rep, "metric": metric,
         "value": float(rng.uniform(0.05, 0.8))}
        for rep in range(3) for method, ratio in methods for metric in metrics
    ])


@pytest.fixture(scope="module")
def run(german_run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> RunDir:  # noqa: F811
    """A copy of the German run with a small sweep.csv and a methods.csv carrying hostile names."""
    folder = tmp_path_factory.mktemp("report") / "german"
    shutil.copytree(german_run_dir, folder)
    copy = RunDir(folder)
    copy.write_table(SWEEP, _results([("transfer", 0.0), ("transfer", 0.5), ("transfer", 1.0), ("no TL", math.nan)],
                                     SWEEP_METRICS, seed=1))
    methods = _results([("baseline", math.nan), (EVIL, math.nan), ("meta_fair", math.nan)],
                       ("balanced_accuracy", EVIL), seed=2)
    skipped = methods["method"] == "meta_fair"  # as compare_methods writes a method it had to skip
    methods.loc[skipped, "value"] = math.nan
    notes = np.select([methods["method"] == EVIL, skipped], [EVIL, "skipped: needs exactly two groups"], "plain MLP")
    copy.write_table(METHODS, methods.assign(note=notes))
    return copy


@pytest.fixture(scope="module")
def frame(run: RunDir) -> pd.DataFrame:
    return run.open_data().frame


@pytest.fixture(scope="module")
def quality(run: RunDir, frame: pd.DataFrame) -> GeneratorQuality:
    return assess_quality(FairGenerator.load(run.model_path), frame, run.read_manifest().split, sigma=0.25)


@pytest.fixture(scope="module")
def report(run: RunDir, frame: pd.DataFrame, quality: GeneratorQuality) -> str:
    return build_report(run, frame, quality=quality)


def test_report_names_the_data_and_shows_assess_quality_numbers(report: str, quality: GeneratorQuality) -> None:
    assert "<title>FairGen audit — german</title>" in report
    assert "<td>credit</td>" in report and "<td>good</td>" in report and "sex ∈ {male}" in report
    for domain in quality.quality.per_domain.itertuples():
        assert html.escape(domain.domain) in report
        assert f"<td class=\"n\">{domain.fid:.3f}</td>" in report
        assert f"<td class=\"n\">{domain.noise_baseline:.3f}</td>" in report
    assert f"{quality.quality.fid:.3f}" in report and f"{quality.quality.noise_baseline:.3f}" in report
    assert html.escape(quality.quality.verdict()) in report and html.escape(quality.privacy.verdict()) in report
    assert "(smallest domain)" in report  # the female · bad cell


def _without_plotlyjs(report: str) -> str:
    bundle = get_plotlyjs()
    assert report.count(bundle) == 1  # inlined once
    return report.replace(bundle, "")


def test_report_opens_offline_with_plotly_inlined_once(report: str) -> None:
    page = _without_plotlyjs(report)
    assert "cdn.plot.ly" not in page and "src=" not in page and "<link" not in page
    assert page.count('<div id="chart-') == 5  # training, domains, marginals, sweep, methods


def test_user_strings_are_escaped(report: str) -> None:
    assert EVIL not in report
    assert html.escape(EVIL) in report  # the method and metric names and the note, as text
    opened = _without_plotlyjs(report).split("<script")[1:]
    assert len(opened) == 6  # the bundle's tag and one per chart, nothing from the data
    assert opened[0].startswith(' type="text/javascript"></script>')
    assert all(part[1:].lstrip().startswith("window.PLOTLYENV") for part in opened[1:])


def test_sweep_and_methods_tables_show_mean_and_std(report: str, run: RunDir) -> None:
    sweep = run.read_table(SWEEP)
    cell = sweep[(sweep["ratio"] == 0.5) & (sweep["metric"] == "balanced_accuracy")]["value"]
    assert f"{cell.mean():.3f} ± {cell.std():.3f}" in report
    no_tl = sweep[(sweep["method"] == "no TL") & (sweep["metric"] == "average_abs_odds_difference")]["value"]
    assert f"{no_tl.mean():.3f} ± {no_tl.std():.3f}" in report
    assert 'id="sweep"' in report and 'id="methods"' in report
    assert "The fairest ratio by |Average odds diff.|" in report
    assert "<td>meta_fair</td><td>skipped: needs exactly two groups</td>" in report


def test_a_methods_table_of_skipped_methods_still_reports(run: RunDir, frame: pd.DataFrame,
                                                         quality: GeneratorQuality, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(run.path, folder)
    methods = run.read_table(METHODS).assign(value=math.nan)
    RunDir(folder).write_table(METHODS, methods)
    page = build_report(RunDir(folder), frame, quality=quality)
    assert "The methods table has no metric this report can rank." in page
    assert page.count('<div id="chart-') == 4  # no methods chart


def test_report_without_results_tables_has_no_such_sections(german_run_dir: Path, frame: pd.DataFrame,  # noqa: F811
                                                            quality: GeneratorQuality) -> None:
    plain = build_report(RunDir(german_run_dir), frame, quality=quality)
    assert 'id="sweep"' not in plain and 'id="methods"' not in plain and 'id="quality"' in plain


def test_metrics_csv_and_json_carry_the_same_numbers(run: RunDir, frame: pd.DataFrame,
                                                     quality: GeneratorQuality) -> None:
    table = metrics_table(run, frame, quality=quality)
    back = pd.read_csv(io.BytesIO(csv_bytes(table)))
    pd.testing.assert_frame_equal(back, table)
    overall = table[(table["section"] == "quality") & (table["item"] == "overall")].set_index("metric")["value"]
    assert overall["fid"] == quality.quality.fid and overall["noise_baseline"] == quality.quality.noise_baseline
    by_domain = table[(table["section"] == "quality_by_domain") & (table["metric"] == "fid")]
    assert by_domain["value"].tolist() == quality.quality.per_domain["fid"].tolist()
    assert set(table["section"]) >= {"domains", "training", "marginals", "privacy", "sweep", "methods"}

    document = json.loads(json.dumps(metrics_json(run, frame, quality=quality)))
    assert document["run"]["dataset"] == "german" and document["run"]["label"] == "credit"
    for row in table.itertuples(index=False):
        value = document["metrics"][row.section][row.item][row.metric]
        assert (value is None and math.isnan(row.value)) or value == row.value
    assert document["verdicts"]["quality"] == quality.quality.verdict()


def test_report_command_writes_the_files(run: RunDir, quality: GeneratorQuality, tmp_path: Path) -> None:
    out = tmp_path / "out" / "report.html"
    assert main(["report", str(run.path), "--out", str(out), "--metrics-json", str(tmp_path / "m.json"),
                 "--metrics-csv", str(tmp_path / "m.csv")]) == 0
    assert "FairGen audit — german" in out.read_text(encoding="utf-8")
    document = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    assert document["metrics"]["quality"]["overall"]["fid"] == quality.quality.fid  # same data, model and seed
    assert len(pd.read_csv(tmp_path / "m.csv")) == len(metrics_table(run, run.open_data().frame, quality=quality))


def test_report_command_refuses_a_folder_that_is_not_a_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r.html")]) == 2
    assert "not a FairGen run folder" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_report_shows_translation_fidelity_and_paired_intervals(report: str, run: RunDir,
                                                                frame: pd.DataFrame) -> None:
    fidelity = assess_translation(FairGenerator.load(run.model_path), frame, run.read_manifest().split)
    assert "Translation fidelity (counterfactual pairs" in report
    assert html.escape(fidelity.summary()) in report
    for domain in fidelity.per_domain.itertuples():
        assert f"<td class=\"n\">{domain.target_rate:.3f}</td>" in report
    combined = pd.concat([run.read_table(METHODS), run.read_table(SWEEP)], ignore_index=True)
    paired = paired_differences(combined[combined["metric"].isin(METRIC_TITLES)])
    row = paired[(paired["method"] == "transfer") & (paired["ratio"] == 0.5)
                 & (paired["metric"] == "balanced_accuracy")].iloc[0]
    assert "Against the Baseline, on the same splits" in report
    assert html.escape(describe(row.difference, row.ci_low, row.ci_high, row.verdict)) in report
    assert "one standard deviation over repetitions" in report  # "±" is defined
