"""The user's model next to a run's methods: scored on the run's test rows with the results tables' metrics, the
methods summarised over repetitions with t intervals, and the chart that shows both."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fairgen_core.config import GeneratorConfig
from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute, assign_domains
from fairgen_core.data.splits import Split
from fairgen_core.errors import FairGenError
from fairgen_core.metrics.fairness import fairness_report
from fairgen_core.model_audit import (
    COMPARED_METRICS,
    COMPARISON_COLUMNS,
    FAIRGEN_RUN,
    YOUR_MODEL,
    ModelAuditConfig,
    ModelInput,
    comparison_table,
    fairgen_results,
    metrics_on_rows,
)
from fairgen_core.results.charts import model_comparison_figure
from fairgen_core.results.table import COLUMNS, NO_TL, TRANSFER, TRANSFER_CHOSEN_RATIO
from fairgen_core.runs.layout import METHODS, SWEEP
from fairgen_core.runs.store import RunDir, new_manifest

SPEC = DatasetSpec("y", (1,), (SensitiveAttribute("sex", ("m",)), SensitiveAttribute("age", threshold=40)))
N = 1200


def _data() -> pd.DataFrame:
    """Four groups (sex × age), a label, and a score that favours one group; a few rows miss the label."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"sex": rng.choice(["f", "m"], N), "age": rng.integers(18, 70, N),
                          "y": rng.integers(0, 2, N).astype(float)})
    frame["score"] = np.clip(0.35 * frame["y"] + 0.2 * (frame["sex"] == "m") + rng.uniform(0, 0.5, N), 0, 1)
    frame.loc[[3, 10, 11], "y"] = np.nan
    return frame


def _tidy(method: str, selection: str, values: dict[str, list[float]], ratio: float = np.nan) -> pd.DataFrame:
    rows = [{"method": method, "ratio": ratio, "repetition": r, "seed": r, "selection": selection, "metric": metric,
             "value": value, "note": ""} for metric, per_rep in values.items() for r, value in enumerate(per_rep)]
    return pd.DataFrame(rows, columns=list(COLUMNS))


@pytest.fixture
def run(tmp_path: Path) -> RunDir:
    """A constructed run folder: manifest with a split of the data, methods.csv and sweep.csv."""
    frame = _data()
    csv = tmp_path / "data.csv"
    frame.to_csv(csv, index=False)
    position = np.arange(N)
    split = Split(position[position % 5 > 1], position[position % 5 == 1], position[position % 5 == 0], seed=0,
                  repetition=0)
    run = RunDir(tmp_path / "run")
    run.write_manifest(new_manifest(str(csv), str(csv), frame, SPEC, GeneratorConfig(), split))
    ba, eo = COMPARED_METRICS
    run.write_table(METHODS, pd.concat([
        _tidy("baseline", "fair", {ba: [0.70, 0.74, 0.72], eo: [0.20, 0.16, 0.18]}),
        _tidy("reweighing", "fair", {ba: [0.69, 0.71, 0.70], eo: [0.08, 0.10, 0.12]}),
        _tidy("baseline", "accuracy", {ba: [0.75, 0.75, 0.75], eo: [0.30, 0.30, 0.30]}),
        _tidy("meta_fair", "fair", {ba: [np.nan] * 3, eo: [np.nan] * 3}),  # skipped
    ], ignore_index=True))
    run.write_table(SWEEP, pd.concat([
        _tidy(TRANSFER_CHOSEN_RATIO, "fair", {ba: [0.71, 0.73, 0.72], eo: [0.05, 0.07, 0.06]}),
        _tidy(TRANSFER, "fair", {ba: [0.6, 0.6, 0.6], eo: [0.5, 0.5, 0.5]}, ratio=0.5),
        _tidy(NO_TL, "fair", {ba: [0.6, 0.6, 0.6], eo: [0.5, 0.5, 0.5]}),
    ], ignore_index=True))
    return run


def test_the_model_is_scored_on_the_runs_test_rows_with_the_results_tables_metrics(run: RunDir) -> None:
    manifest = run.read_manifest()
    frame = pd.read_csv(manifest.data_file)
    model = ModelInput("score", frame["score"].to_numpy(), is_score=True)
    config = ModelAuditConfig(threshold=0.6, bootstrap=400, seed=3)
    table = metrics_on_rows(frame, manifest.spec, model, manifest.split.test, config).set_index("metric")
    assignment = assign_domains(frame, manifest.spec)
    test = manifest.split.test[assignment.valid[manifest.split.test]]
    assert len(test) < len(manifest.split.test)  # a test row without a label is left out
    report = fairness_report(assignment.label[test], (frame["score"].to_numpy()[test] >= 0.6).astype(int),
                             assignment.group[test], assignment.group_names)
    assert len(assignment.group_names) == 4  # the largest gap over any two groups, as in the results tables
    expected = {"balanced_accuracy": report.overall["balanced_accuracy"], **report.absolute}
    for metric in COMPARED_METRICS:
        row = table.loc[metric]
        assert row["value"] == pytest.approx(expected[metric], abs=1e-12)
        assert row["ci_low"] < row["value"] < row["ci_high"] and row["ci_high"] - row["ci_low"] < 0.5
        assert row["n"] == len(test) and row["source"] == YOUR_MODEL and row["method"] == "score"
    again = metrics_on_rows(frame, manifest.spec, model, manifest.split.test, config).set_index("metric")
    pd.testing.assert_frame_equal(again, table)  # seeded


def test_the_methods_are_means_over_repetitions_with_t_intervals_next_to_the_model(run: RunDir) -> None:
    frame = pd.read_csv(run.read_manifest().data_file)
    yours = metrics_on_rows(frame, SPEC, ModelInput("d", (frame["score"] >= 0.5).to_numpy().astype(int), False),
                            run.read_manifest().split.test)
    results = fairgen_results(run.read_table(METHODS), run.read_table(SWEEP))
    table = comparison_table(yours, results, confidence=0.9)
    assert table["method"].drop_duplicates().tolist() == ["d", "baseline", "reweighing", TRANSFER_CHOSEN_RATIO]
    assert table["source"].tolist() == [YOUR_MODEL] * 2 + [FAIRGEN_RUN] * 6
    row = table[(table["method"] == "baseline") & (table["metric"] == "balanced_accuracy")].iloc[0]
    values = np.array([0.70, 0.74, 0.72])
    half = stats.t.ppf(0.95, 2) * values.std(ddof=1) / np.sqrt(3)
    assert row["value"] == pytest.approx(0.72) and row["n"] == 3  # the "fair" rows: the first rule in the table
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.72 - half, 0.72 + half))
    accuracy = comparison_table(yours, results, selection="accuracy")
    assert accuracy[accuracy["source"] == FAIRGEN_RUN]["method"].unique().tolist() == ["baseline"]
    assert accuracy["ci_low"].iloc[-1] == pytest.approx(0.30)  # equal values: a zero-width interval
    with pytest.raises(FairGenError, match="no rows chosen by the rule 'best'"):
        comparison_table(yours, results, selection="best")


def test_one_repetition_has_no_interval_and_no_sweep_leaves_the_methods_alone(run: RunDir) -> None:
    methods = run.read_table(METHODS)
    assert fairgen_results(methods) is methods
    single = comparison_table(pd.DataFrame(columns=list(COMPARISON_COLUMNS)), methods[methods["repetition"] == 0])
    assert single["n"].eq(1).all() and single["ci_low"].isna().all() and single["value"].notna().all()
    assert "meta_fair" not in set(single["method"])  # a skipped method has no values to show


@pytest.mark.parametrize(
    ("rows", "message"),
    [([], "none were given"), ([0, N], f"row position {N} is outside the data"),
     ([3, 10], "none of the 2 rows has both a label")],
)
def test_rows_that_cannot_be_scored_are_refused(rows: list[int], message: str) -> None:
    frame = _data()
    with pytest.raises(FairGenError, match=message):
        metrics_on_rows(frame, SPEC, ModelInput("s", frame["score"].to_numpy(), True), rows)


def test_the_chart_shows_every_value_with_its_interval_per_metric(run: RunDir) -> None:
    frame = pd.read_csv(run.read_manifest().data_file)
    yours = metrics_on_rows(frame, SPEC, ModelInput("score", frame["score"].to_numpy(), True),
                            run.read_manifest().split.test)
    table = comparison_table(yours, fairgen_results(run.read_table(METHODS), run.read_table(SWEEP)))
    figure = model_comparison_figure(table)
    assert [a.text for a in figure.layout.annotations] == ["Balanced accuracy ↑", "|Equal opportunity diff.| ↓"]
    assert len(figure.data) == 4  # per panel: your model(s), the run's methods
    for trace in figure.data:
        metric = COMPARED_METRICS[0 if trace.xaxis == "x" else 1]
        rows = table[(table["metric"] == metric) & (table["source"] == trace.name)]
        assert list(trace.x) == pytest.approx(rows["value"].tolist())
        assert list(trace.error_x.array) == pytest.approx((rows["ci_high"] - rows["value"]).tolist())
        assert list(trace.error_x.arrayminus) == pytest.approx((rows["value"] - rows["ci_low"]).tolist())
    assert list(figure.data[0].y) == ["score (your model)"] and figure.data[0].name == YOUR_MODEL
    assert list(figure.data[1].y) == ["baseline", "reweighing", TRANSFER_CHOSEN_RATIO]
