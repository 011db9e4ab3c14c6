"""The HTML audit report, the metrics export and the ``report`` command, on the trained German run."""

from __future__ import annotations

import html
import io
import json
import math
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from fairgen_core.audit import AuditConfig, DataAudit, audit_data, label_imbalance
from fairgen_core.cli import main
from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute, domain_table
from fairgen_core.export import csv_bytes
from fairgen_core.generator import FairGenerator
from fairgen_core.generator.evaluation import GeneratorQuality, assess_quality, assess_translation
from fairgen_core.metrics.fidelity import MEASURE_LABELS
from fairgen_core.metrics.paired import describe, paired_differences
from fairgen_core.model_audit import RecordedModels, audit_recorded, record_models, recorded_models
from fairgen_core.results.charts import domain_scores_figure
from fairgen_core.results.evidence import gather_evidence
from fairgen_core.results.metrics_export import metrics_json, metrics_table
from fairgen_core.results.report import PAIRED_DEFINITION, PM_DEFINITION, build_report
from fairgen_core.results.table import METRIC_TITLES
from fairgen_core.results.text import interval_text
from fairgen_core.results.verdicts import (
    METHODS_MISSING,
    SWEEP_MISSING,
    disparate_impact_verdict,
    measures_verdict,
    methods_verdict,
    sweep_verdict,
)
from fairgen_core.runs.layout import METHODS, SWEEP
from fairgen_core.runs.store import RunDir
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


def test_report_leads_the_quality_section_with_the_standard_measures(report: str, run: RunDir,
                                                                    quality: GeneratorQuality) -> None:
    section = report[report.index('<section id="quality">'):]
    assert section.index("Standard measures") < section.index("The paper's figure: FID")
    assert html.escape(quality.fidelity.summary()) in section
    for measure, verdict in quality.fidelity.verdicts().items():
        assert f'<tr class="{verdict}"><td>{html.escape(MEASURE_LABELS[measure])}</td>' in section
    assert f"{html.escape(quality.fidelity.weakest_domain())} (weakest domain)" in section
    for d in quality.fidelity.per_domain.itertuples(index=False):  # each domain with its rows and intervals
        assert (f'<td class="n">{d.n_real}</td><td class="n">{d.n_synthetic}</td>' in section)
        assert f"{d.trtr_accuracy:.3f} [{d.trtr_accuracy_low:.3f}, {d.trtr_accuracy_high:.3f}]" in section
        assert f"{d.detection:.3f} [{d.detection_low:.3f}, {d.detection_high:.3f}]" in section
    assert 'id="chart-domain-scores"' in section
    bars = {bar.name: bar for bar in domain_scores_figure(quality.fidelity.per_domain).data}
    domains = quality.fidelity.per_domain
    np.testing.assert_allclose(bars["detection"].error_y.arrayminus, domains["detection"] - domains["detection_low"])
    assert bars["column shapes"].error_y.array is None  # only detection has an interval
    green = '<p class="verdict good">' in section
    assert green == (not quality.shortcomings(gather_evidence(run, run.open_data().frame, quality=quality).validity))
    assert green or '<p class="verdict poor">' in section


def test_no_green_verdict_while_a_measure_is_poor(quality: GeneratorQuality) -> None:
    poor = replace(quality, fidelity=replace(quality.fidelity, detection=0.0))
    assert "Detection is poor (0.000)." in poor.shortcomings(None)
    assert "Not a good result: " in measures_verdict(poor, None)
    good = replace(poor, fidelity=replace(poor.fidelity, shapes=1.0, trends=1.0, detection=1.0,
                                          efficacy=replace(poor.fidelity.efficacy, tstr=poor.fidelity.efficacy.trtr,
                                                           tstr_fairness=poor.fidelity.efficacy.trtr_fairness)),
                   quality=replace(poor.quality, fid=0.0))
    assert good.shortcomings(None) == () and measures_verdict(good, None).endswith("Every measure is fair or good.")


def _without_plotlyjs(report: str) -> str:
    bundle = get_plotlyjs()
    assert report.count(bundle) == 1  # inlined once
    return report.replace(bundle, "")


def test_report_opens_offline_with_plotly_inlined_once(report: str) -> None:
    page = _without_plotlyjs(report)
    assert "cdn.plot.ly" not in page and "src=" not in page and "<link" not in page
    assert page.count('<div id="chart-') == 6  # training, domain scores, domains, marginals, sweep, methods


def test_user_strings_are_escaped(report: str) -> None:
    assert EVIL not in report
    assert html.escape(EVIL) in report  # the method and metric names and the note, as text
    opened = _without_plotlyjs(report).split("<script")[1:]
    assert len(opened) == 7  # the bundle's tag and one per chart, nothing from the data
    assert opened[0].startswith(' type="text/javascript"></script>')
    assert all(part[1:].lstrip().startswith("window.PLOTLYENV") for part in opened[1:])


def test_sweep_and_methods_tables_show_mean_and_std(report: str, run: RunDir) -> None:
    sweep = run.read_table(SWEEP)
    cell = sweep[(sweep["ratio"] == 0.5) & (sweep["metric"] == "balanced_accuracy")]["value"]
    assert f"{cell.mean():.3f} ± {cell.std():.3f}" in report
    no_tl = sweep[(sweep["method"] == "no TL") & (sweep["metric"] == "average_abs_odds_difference")]["value"]
    assert f"{no_tl.mean():.3f} ± {no_tl.std():.3f}" in report
    assert 'id="sweep"' in report and 'id="methods"' in report
    assert "By |Average odds diff.| against no TL on the same 3 repetitions" in report
    assert "<td>meta_fair</td><td>skipped: needs exactly two groups</td>" in report


def test_a_methods_table_of_skipped_methods_still_reports(run: RunDir, frame: pd.DataFrame,
                                                         quality: GeneratorQuality, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(run.path, folder)
    methods = run.read_table(METHODS).assign(value=math.nan)
    RunDir(folder).write_table(METHODS, methods)
    page = build_report(RunDir(folder), frame, quality=quality)
    assert "The methods table has no metric this report can rank." in page
    assert page.count('<div id="chart-') == 5  # no methods chart


def test_report_without_results_tables_says_what_to_run(german_run_dir: Path, frame: pd.DataFrame,  # noqa: F811
                                                       quality: GeneratorQuality) -> None:
    plain = build_report(RunDir(german_run_dir), frame, quality=quality)
    assert 'id="sweep"' in plain and 'id="methods"' in plain and 'id="quality"' in plain
    assert html.escape(SWEEP_MISSING) in plain and html.escape(METHODS_MISSING) in plain
    assert "Compute the trade-off" in plain and "python -m fairgen_core compare RUN_DIR" in plain
    assert 'id="chart-sweep"' not in plain and 'id="chart-methods"' not in plain


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
    assert document["verdicts"]["measures"].startswith(quality.fidelity.summary())
    fidelity = document["metrics"]["fidelity"]["overall"]
    assert fidelity["shapes"] == quality.fidelity.shapes and fidelity["detection"] == quality.fidelity.detection
    assert fidelity["tstr_balanced_accuracy"] == quality.fidelity.efficacy.tstr
    assert set(document["metrics"]["fidelity_by_domain"]) == set(quality.quality.per_domain["domain"])


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


# -- the data audit ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def audit(run: RunDir) -> DataAudit:
    """The Data audit page's analysis of the run's data, on the run's split."""
    source, manifest = run.open_data(), run.read_manifest()
    return audit_data(source.frame, manifest.spec, schema=source.schema, config=AuditConfig(seed=manifest.split.seed))


def test_report_audits_the_data_as_the_data_audit_page_does(report: str, run: RunDir, audit: DataAudit) -> None:
    assert audit.baseline.n_test == len(run.read_manifest().split.test)  # the baseline is scored on the run's split
    assert all(f'<section id="{anchor}">' in report for anchor in ("data-fairness", "proxies", "baseline"))
    imbalance = audit.imbalance
    assert f"statistical parity difference of {imbalance.statistical_parity_difference:+.3f}" in report
    assert f"disparate impact of {imbalance.disparate_impact:.2f}" in report
    assert "This passes the four-fifths rule" in report  # German: 0.648 / 0.723 = 0.90
    for proxy in audit.proxies.itertuples():
        assert (f"<tr><td>{html.escape(proxy.column)}</td><td>{proxy.kind}</td><td class=\"n\">{proxy.levels}</td>"
                f"<td class=\"n\">{proxy.mutual_information:.3f}</td>") in report
    baseline = audit.baseline
    assert f"balanced accuracy of {baseline.balanced_accuracy:.3f}" in report
    for group, row in baseline.by_group.iterrows():
        assert f"<tr><td>{html.escape(group)}</td><td class=\"n\">{int(row['n'])}</td>" in report
    for group, matrix in baseline.confusion_matrices().items():
        head = "".join(f"<th>{html.escape(str(name))}</th>" for name in (group, *matrix.columns))
        first = "".join(f'<td class="n">{count}</td>' for count in matrix.iloc[0])
        assert head in report and f"<tr><td>true {html.escape(matrix.index[0])}</td>{first}</tr>" in report


@pytest.mark.parametrize(("favourable", "expected"), [
    ((1, 1), "This passes the four-fifths rule"),
    ((1, 3), "This fails the four-fifths rule: the rate of s=a is below 80% of that of s=b"),
    ((3, 1), "This fails the four-fifths rule the other way round: the rate of s=b is below 80% of that of s=a"),
])
def test_disparate_impact_is_judged_by_the_four_fifths_rule(favourable: tuple[int, int], expected: str) -> None:
    labels = [[1] * n + [0] * (4 - n) for n in favourable]
    frame = pd.DataFrame({"y": labels[0] + labels[1], "s": ["a"] * 4 + ["b"] * 4})
    spec = DatasetSpec("y", (1,), (SensitiveAttribute("s", ("b",)),), min_domain_rows=1)
    assert expected in disparate_impact_verdict(domain_table(frame, spec), label_imbalance(frame, spec))


def test_plus_minus_and_the_paired_interval_are_defined_where_used(report: str) -> None:
    assert report.count(html.escape(PM_DEFINITION)) == 2  # under the sweep's and the methods' mean ± std tables
    assert report.count(html.escape(PAIRED_DEFINITION)) == 2  # under the sweep verdict and the paired table


def test_metrics_carry_the_audit(run: RunDir, frame: pd.DataFrame, quality: GeneratorQuality,
                                 audit: DataAudit) -> None:
    table = metrics_table(run, frame, quality=quality).set_index(["section", "item", "metric"])["value"]
    assert table[("data_fairness", "data", "disparate_impact")] == audit.imbalance.disparate_impact
    top = audit.proxies.iloc[0]
    assert table[("proxies", top["column"], "mutual_information")] == top["mutual_information"]
    group = audit.baseline.by_group.index[0]
    assert table[("baseline", group, "tpr")] == audit.baseline.by_group.loc[group, "tpr"]
    assert table[("baseline", "overall", "balanced_accuracy")] == audit.baseline.balanced_accuracy


# -- verdicts name a winner only when the paired interval excludes zero --------------------------------------------
NO_TL_GAPS = [0.080, 0.095, 0.100, 0.085, 0.090]


def _sweep(gaps_by_ratio: dict[float, list[float]], repetitions: int = 5) -> pd.DataFrame:
    """A sweep of |average odds| (and a flat balanced accuracy) per repetition, "no TL" at :data:`NO_TL_GAPS`."""
    rows = [{"method": "no TL", "ratio": math.nan, "repetition": rep, "metric": "average_abs_odds_difference",
             "value": value} for rep, value in enumerate(NO_TL_GAPS[:repetitions])]
    for ratio, gaps in gaps_by_ratio.items():
        rows += [{"method": "transfer", "ratio": ratio, "repetition": rep, "metric": "average_abs_odds_difference",
                  "value": value} for rep, value in enumerate(gaps[:repetitions])]
    rows += [{"method": method, "ratio": ratio, "repetition": rep, "metric": "balanced_accuracy",
              "value": 0.7 + 0.01 * rep}
             for method, ratio in [("no TL", math.nan), *(("transfer", r) for r in gaps_by_ratio)]
             for rep in range(repetitions)]
    return pd.DataFrame(rows)


def test_sweep_verdict_does_not_name_a_ratio_whose_lead_is_noise() -> None:
    # Ratio 0.9 has the lowest mean (0.086 against 0.090), but its paired differences go both ways.
    text = sweep_verdict(_sweep({0.5: [0.095, 0.100, 0.110, 0.095, 0.100], 0.9: [0.090, 0.080, 0.095, 0.075, 0.090]}))
    assert "fairest" not in text and "fairer at" not in text and "largest improvement" not in text
    assert "no detectable difference at ratio 0.9" in text and "less fair at ratio 0.5" in text


def test_sweep_verdict_names_a_ratio_whose_interval_excludes_zero() -> None:
    table = _sweep({0.0: [g - 0.03 for g in NO_TL_GAPS], 0.9: [0.090, 0.080, 0.095, 0.075, 0.090]})
    text = sweep_verdict(table)
    paired = paired_differences(table, reference="no TL")
    best = paired[(paired["ratio"] == 0.0) & (paired["metric"] == "average_abs_odds_difference")].iloc[0]
    assert "fairer at ratio 0;" in text and "no detectable difference at ratio 0.9" in text
    assert f"The largest improvement is at ratio 0: {describe(best.difference, best.ci_low, best.ci_high, 'fairer')}" \
        in text


def test_sweep_verdict_of_one_repetition_names_no_ratio() -> None:
    text = sweep_verdict(_sweep({0.0: [0.05], 0.9: [0.086]}, repetitions=1))
    assert "no interval can be computed" in text and "ratio 0" not in text and "fairest" not in text


def test_methods_verdict_names_only_methods_whose_interval_excludes_zero() -> None:
    rows = [{"method": method, "ratio": math.nan, "repetition": rep, "metric": "abs_equal_opportunity_difference",
             "value": value}
            for method, values in (("baseline", NO_TL_GAPS), ("reweighing", [0.090, 0.080, 0.095, 0.075, 0.090]),
                                   ("lfr", [g - 0.03 for g in NO_TL_GAPS]))
            for rep, value in enumerate(values)]
    text = methods_verdict(pd.DataFrame(rows))
    assert "lowest" not in text
    assert "|Equal opportunity diff.|: fairer for lfr (-0.030 [-0.030, -0.030]); no detectable difference for " \
        "reweighing" in text
    one = methods_verdict(pd.DataFrame(rows).query("repetition == 0"))
    assert "no interval can be computed" in one and "lfr" not in one


# -- the user's model recorded with the run ------------------------------------------------------------------------
RECORDED = RecordedModels(("duration", "credit_amount"), scores=True, threshold=0.3, rescale=True)


@pytest.fixture(scope="module")
def recorded_run(run: RunDir, tmp_path_factory: pytest.TempPathFactory) -> RunDir:
    """A copy of the run whose data's 'duration' and 'credit_amount' are recorded as the user's two score models."""
    folder = tmp_path_factory.mktemp("recorded") / "german"
    shutil.copytree(run.path, folder)
    record_models(folder, RECORDED)
    return RunDir(folder)


def test_a_run_with_recorded_prediction_columns_reports_their_audit(recorded_run: RunDir, frame: pd.DataFrame,
                                                                    quality: GeneratorQuality, report: str) -> None:
    page = build_report(recorded_run, frame, quality=quality)
    audits, _ = audit_recorded(frame, recorded_run.read_manifest().spec, RECORDED)
    assert 'id="model-audit"' in page and 'id="model-audit"' not in report  # only with recorded columns
    assert "duration, credit_amount of the run&#x27;s data hold your model(s)" in page
    for audit in audits:
        assert f"Model &#x27;{audit.model}&#x27; (scores, threshold 0.3)" in page
        for row in audit.differences.itertuples():
            assert f"{row.value:.3f}" in page and interval_text(row.ci_low, row.ci_high) in page
        assert audit.summary().split(" Disparity")[0].replace("'", "&#x27;") in page
    assert "Thresholds that equalise the TPR" in page and 'id="side-by-side"' not in page

    table = metrics_table(recorded_run, frame, quality=quality)
    differences = table[table["section"] == "model_audit"].set_index(["item", "metric"])["value"]
    first = audits[0].differences.iloc[0]
    item = "duration: 'sex=female' vs 'sex=male'"
    assert differences[(item, "statistical_parity_difference")] == pytest.approx(first["value"])
    assert differences[(item, "statistical_parity_difference ci_low")] == pytest.approx(first["ci_low"])
    by_group = table[table["section"] == "model_audit_by_group"].set_index(["item", "metric"])["value"]
    assert by_group[("credit_amount: sex=male", "tpr")] == pytest.approx(audits[1].per_group["tpr"].iloc[-1])
    document = json.loads(json.dumps(metrics_json(recorded_run, frame, quality=quality), allow_nan=False))
    assert [m["model"] for m in document["model_audit"]["models"]] == ["duration", "credit_amount"]
    assert document["model_audit"]["models"][0]["differences"][0]["verdict"] == first["verdict"]
    assert document["metrics"]["model_audit"][item]["statistical_parity_difference"] == pytest.approx(first["value"])
    assert document["verdicts"]["model_audit"].startswith("Model 'duration' (scores, threshold 0.3)")


def test_a_recorded_column_that_cannot_be_audited_is_explained_not_fatal(recorded_run: RunDir, frame: pd.DataFrame,
                                                                        quality: GeneratorQuality,
                                                                        tmp_path: Path) -> None:
    folder = tmp_path / "german"
    shutil.copytree(recorded_run.path, folder)
    record_models(folder, RecordedModels(("risk_score",)))
    page = build_report(RunDir(folder), frame, quality=quality)
    assert "could not be audited: predictions column &#x27;risk_score&#x27; is not in the data" in page
    assert json.loads(json.dumps(metrics_json(RunDir(folder), frame, quality=quality)))["model_audit"]["error"]


def test_the_audit_command_records_prediction_columns_in_a_run_trained_on_that_data(run: RunDir, tmp_path: Path,
                                                                                    capsys: pytest.CaptureFixture
                                                                                    ) -> None:
    folder = tmp_path / "german"
    shutil.copytree(run.path, folder)
    args = ["audit", "german", "--predictions", "duration", "--scores", "--rescale-scores", "--threshold", "0.4",
            "--bootstrap", "50", "--json", "--run", str(folder)]
    assert main(args) == 0
    assert recorded_models(folder) == RecordedModels(("duration",), scores=True, threshold=0.4, rescale=True)
    assert f"`report {folder}` audits them" in capsys.readouterr().err
    other = tmp_path / "other.csv"
    other.write_text("credit,sex,duration\n" + "".join(f"{'good' if i % 3 else 'bad'},{'male' if i % 2 else 'female'},"
                                                        f"{i % 7}\n" for i in range(200)))
    assert main(["audit", str(other), "--label", "credit", "--favourable", "good", "--sensitive", "sex=male",
                 "--predictions", "duration", "--scores", "--rescale-scores", "--run", str(folder)]) == 2
    assert "was trained on other data" in capsys.readouterr().err
    assert recorded_models(folder).threshold == 0.4  # the earlier record stays
