"""One entry point for every method: predictions on German, reasons instead of exceptions, the tidy table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from fairgen_core.classifier import ClassifierConfig
from fairgen_core.classifier.selection import Candidate
from fairgen_core.data.splits import Split
from fairgen_core.errors import FairGenError
from fairgen_core.generator import FairGenerator
from fairgen_core.mitigations import (
    METHODS,
    DisparateImpactRemoverMethod,
    Laftr,
    MetaFair,
    MethodData,
    MethodResult,
    compare_methods,
    get_method,
    results_table,
    run_method,
)
from fairgen_core.results.table import COLUMNS, SWEEP_METRICS, TABLE_METRICS
from tests.mitigations.synthetic import leaky

CONFIG = ClassifierConfig(hidden_dim=32, batch_size=64, max_epochs=15, patience=3, device="cpu")
TWO_GROUPS_ONLY = ("reweighing", "disparate_impact_remover", "calibrated_eq_odds", "meta_fair")


@pytest.fixture(scope="module")
def german_results(german: MethodData) -> dict[str, MethodResult]:
    return {name: run_method(name, german, CONFIG, seed=0) for name in METHODS}


def test_the_registry_holds_the_papers_comparison_set() -> None:
    assert list(METHODS) == ["baseline", "reweighing", "disparate_impact_remover", "calibrated_eq_odds",
                             "meta_fair", "adversarial_debiasing", "laftr", "group_thresholds"]
    assert all(method.name == name for name, method in METHODS.items())


def test_every_method_predicts_the_german_test_rows(german: MethodData, german_results) -> None:
    n_test = len(german.y_test)
    for name, result in german_results.items():
        assert result.skipped_reason is None, name
        assert result.method == name
        assert result.predictions.shape == (n_test,) and result.scores.shape == (n_test,)
        assert set(np.unique(result.predictions)) <= {0, 1}
        assert np.isfinite(result.scores).all()
        assert result.seconds > 0
    assert german_results["disparate_impact_remover"].chosen["repair_level"] in (0.5, 0.8, 1.0)
    assert german_results["meta_fair"].chosen["train_rows"] == len(german.y_train)
    for name in ("adversarial_debiasing", "laftr"):
        assert 1 <= german_results[name].chosen["epoch"] <= CONFIG.max_epochs
    for name in ("baseline", "reweighing", "adversarial_debiasing", "laftr"):  # probabilities, threshold 0.5
        result = german_results[name]
        assert ((result.scores >= 0.5) == result.predictions.astype(bool)).all()
        assert result.scores.min() >= 0 and result.scores.max() <= 1


def test_methods_differ_from_the_baseline(german: MethodData) -> None:
    # epoch by epoch: the selection rule may pick an early, barely trained epoch for two methods alike
    baseline = [c.test_scores for c in get_method("baseline").candidates(german, CONFIG)]
    for name in ("reweighing", "disparate_impact_remover", "adversarial_debiasing", "laftr"):
        scores = [c.test_scores for c in get_method(name).candidates(german, CONFIG)]
        assert max(np.abs(a - b).max() for a, b in zip(scores, baseline)) > 1e-3, name


def test_runs_are_repeatable_and_seeded(german: MethodData, german_results) -> None:
    again = run_method("reweighing", german, CONFIG, seed=0)
    np.testing.assert_array_equal(again.scores, german_results["reweighing"].scores)
    other = run_method("reweighing", german, CONFIG, seed=1)
    assert not np.array_equal(other.scores, again.scores)


def test_meta_fair_subsamples_large_training_sets(german: MethodData) -> None:
    result = run_method(MetaFair(tau=0.2, max_train_rows=300), german, CONFIG, seed=0)  # small tau: fewer candidates
    assert result.skipped_reason is None
    assert result.chosen["train_rows"] == 300


def test_three_groups_skip_the_two_group_methods_and_run_the_others() -> None:
    data = leaky(1, sizes=(300, 150, 150), n_groups=3)
    short = ClassifierConfig(hidden_dim=16, batch_size=64, max_epochs=3, patience=0, device="cpu")
    for name in METHODS:
        result = run_method(name, data, short, seed=0)
        if name in TWO_GROUPS_ONLY:
            assert result.skipped and "exactly two groups" in result.skipped_reason, name
            assert result.predictions is None and result.note == result.skipped_reason
        else:
            assert not result.skipped, (name, result.skipped_reason)
            assert result.predictions.shape == (150,)


def test_a_failing_method_is_reported_not_raised(german: MethodData) -> None:
    @dataclass(frozen=True)
    class Broken:
        name: ClassVar[str] = "broken"

        def candidates(self, data: MethodData, config: ClassifierConfig) -> list[Candidate]:
            raise ValueError("boom")

    result = run_method(Broken(), german, CONFIG)
    assert result.skipped_reason == "failed: ValueError: boom"
    no_numeric = MethodData(*(german.part("train") + german.part("val") + german.part("test")),
                            group_names=german.group_names)
    skipped = run_method(DisparateImpactRemoverMethod(), no_numeric, CONFIG)
    assert "no" in skipped.skipped_reason and "numeric" in skipped.skipped_reason
    with pytest.raises(FairGenError, match="unknown comparison method 'lafter'"):
        run_method("lafter", german, CONFIG)


def test_compare_methods_gives_the_sweep_layout(german_run: tuple[FairGenerator, pd.DataFrame, Split]) -> None:
    table = compare_methods(*german_run, methods=("baseline", Laftr(gamma=2.0)), config=CONFIG, repetitions=2)
    assert tuple(table.columns) == COLUMNS
    assert len(table) == 2 * 2 * len(TABLE_METRICS)
    assert table["method"].unique().tolist() == ["baseline", "laftr"]
    assert table["ratio"].isna().all()
    assert sorted(table["seed"].unique()) == [0, 1] and sorted(table["repetition"].unique()) == [0, 1]
    assert set(table["metric"]) == set(TABLE_METRICS)
    assert table[table["metric"].isin(SWEEP_METRICS)]["value"].between(0, 1).all()
    assert table[table["method"] == "laftr"]["note"].str.startswith("epoch=").all()
    assert table[table["method"] == "laftr"]["note"].str.contains("gamma=2").all()
    assert (table["selection"] == "fair").all()
    accuracy = table[table["metric"] == "balanced_accuracy"]["value"]
    assert accuracy.mean() > 0.55


def test_compare_methods_tells_progress_per_method_and_repetition(
        german_run: tuple[FairGenerator, pd.DataFrame, Split]) -> None:
    told: list[tuple[int, int, str]] = []
    table = compare_methods(*german_run, methods=("baseline",), config=CONFIG, repetitions=2,
                            progress=lambda *cell: told.append(cell))
    pd.testing.assert_frame_equal(table, compare_methods(*german_run, methods=("baseline",), config=CONFIG,
                                                         repetitions=2))
    assert told == [(0, 2, "starting"), (1, 2, "baseline, repetition 1 of 2"), (2, 2, "baseline, repetition 2 of 2")]


def test_compare_methods_streams_each_methods_rows_as_it_finishes(
        german_run: tuple[FairGenerator, pd.DataFrame, Split]) -> None:
    streamed: list[pd.DataFrame] = []
    told: list[str] = []
    methods = ("baseline", "group_thresholds", "laftr")  # two share one network in the stack; LAFTR runs after it
    table = compare_methods(*german_run, methods=methods, config=CONFIG, repetitions=2, selections=("accuracy", "fair"),
                            progress=lambda *cell: told.append(cell[2]),
                            on_rows=lambda rows: (streamed.append(rows), told.append("rows")))
    key = ["repetition", "method", "selection", "metric"]
    pd.testing.assert_frame_equal(pd.concat(streamed, ignore_index=True).sort_values(key, ignore_index=True),
                                  table.sort_values(key, ignore_index=True))
    assert len(streamed) == 6 and all(len(rows.groupby(["method", "repetition"])) == 1 for rows in streamed)
    assert told[1::2] == ["rows"] * 6  # each method's rows just before it is counted
    assert [rows["method"].iloc[0] for rows in streamed[-2:]] == ["laftr", "laftr"]  # the network methods first
    pd.testing.assert_frame_equal(table, compare_methods(*german_run, methods=methods, config=CONFIG, repetitions=2,
                                                         selections=("accuracy", "fair")))


def test_results_table_marks_skipped_methods(german: MethodData) -> None:
    skipped = MethodResult("meta_fair", skipped_reason="too slow")
    ran = MethodResult("baseline", german.y_test.copy(), german.y_test.astype(float))
    table = results_table([(0, 7, skipped), (0, 7, ran)], german)
    assert table[table["method"] == "meta_fair"]["value"].isna().all()
    assert (table[table["method"] == "meta_fair"]["note"] == "too slow").all()
    perfect = table[table["method"] == "baseline"].set_index("metric")["value"]
    assert perfect["balanced_accuracy"] == 1.0 and perfect["abs_equal_opportunity_difference"] == 0.0
    assert (table["seed"] == 7).all()
