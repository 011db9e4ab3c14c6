"""The ratio sweep: one call, a small tidy table, every ratio plus the "no TL" reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairgen_core.classifier import ClassifierConfig, ratio_sweep
from fairgen_core.classifier.training import downsampled_rows
from fairgen_core.config import GeneratorConfig
from fairgen_core.data.datasets import get_builtin
from fairgen_core.data.spec import assign_domains
from fairgen_core.data.splits import split_by_domain
from fairgen_core.errors import FairGenError
from fairgen_core.generator import fit_generator
from fairgen_core.results.table import (
    DOWNSAMPLED,
    SWEEP_METRICS,
    TABLE_METRICS,
    TRANSFER,
    TRANSFER_CHOSEN_RATIO,
    TRANSFER_THRESHOLDS,
)

CONFIG = ClassifierConfig(hidden_dim=32, batch_size=64, max_epochs=8, patience=3, pretrain_rows_per_domain=300,
                          device="cpu")


@pytest.fixture(scope="module")
def german():
    dataset = get_builtin("german")
    frame, spec = dataset.load(), dataset.default_spec()
    split = split_by_domain(assign_domains(frame, spec).domain, seed=0)
    generator = fit_generator(frame, spec, schema=dataset.schema(frame), split=split, config=GeneratorConfig(
        hidden_dim=32, latent_dim=8, epochs=8, patience=0, device="cpu"))
    return generator, frame, split


def test_sweep_table_has_every_ratio_metric_and_repetition(german) -> None:
    generator, frame, split = german
    table = ratio_sweep(generator, frame, split, ratios=(0.0, 0.5, 1.0), repetitions=2, config=CONFIG)
    # 3 ratios, the ratio chosen on validation, "no TL", the down-sampled ablation
    assert len(table) == 2 * (3 + 3) * len(TABLE_METRICS)
    chosen = table[table["method"] == TRANSFER_CHOSEN_RATIO]
    assert chosen["ratio"].isna().all() and chosen["note"].str.contains("ratio=").all()
    transfer = table[table["method"] == "transfer"]
    assert sorted(transfer["ratio"].unique()) == [0.0, 0.5, 1.0]
    assert table[table["method"] == "no TL"]["ratio"].isna().all()
    assert table[table["method"] == DOWNSAMPLED]["ratio"].isna().all()
    assert set(table["metric"]) == set(TABLE_METRICS)
    assert sorted(table["seed"].unique()) == [0, 1]
    assert table[table["metric"].isin(SWEEP_METRICS)]["value"].between(0, 1).all()
    accuracy = table[(table["metric"] == "balanced_accuracy") & (table["method"] == "transfer")]["value"]
    assert accuracy.mean() > 0.55  # the classifiers learned something on German


def test_sweep_is_deterministic(german) -> None:
    generator, frame, split = german
    first = ratio_sweep(generator, frame, split, ratios=(0.5,), config=CONFIG)
    second = ratio_sweep(generator, frame, split, ratios=(0.5,), config=CONFIG)
    pd.testing.assert_frame_equal(first, second)
    assert not np.isnan(first["value"]).any()


def test_progress_is_told_every_cell_without_changing_the_results(german) -> None:
    generator, frame, split = german
    told: list[tuple[int, int, str]] = []
    table = ratio_sweep(generator, frame, split, ratios=(0.5,), config=CONFIG, progress=lambda *cell: told.append(cell))
    pd.testing.assert_frame_equal(table, ratio_sweep(generator, frame, split, ratios=(0.5,), config=CONFIG))
    assert [cell[:2] for cell in told] == [(0, 3), (1, 3), (2, 3), (3, 3)] and told[0][2] == "starting"
    # the cells train together and are told as each network stops, in whatever order that is
    assert sorted(cell[2] for cell in told[1:]) == sorted([
        "transfer at ratio 0.5, repetition 1 of 1", "no TL, repetition 1 of 1", f"{DOWNSAMPLED}, repetition 1 of 1"])


def test_bad_ratio_is_refused(german) -> None:
    generator, frame, split = german
    with pytest.raises(FairGenError):
        ratio_sweep(generator, frame, split, ratios=(1.5,), config=CONFIG)


def test_downsampling_keeps_the_smallest_domain_count_everywhere(german) -> None:
    generator, frame, split = german
    domains = assign_domains(frame, generator.spec).domain[split.train]
    kept = downsampled_rows(domains, seed=3)
    counts = np.bincount(domains[kept], minlength=4)
    assert counts.tolist() == [np.bincount(domains).min()] * 4
    assert len(np.unique(kept)) == len(kept)
    assert not ratio_sweep(generator, frame, split, ratios=(0.5,), config=CONFIG,
                           downsampled_ratio=None)["method"].eq(DOWNSAMPLED).any()


def test_streamed_rows_are_the_table_cell_by_cell(german) -> None:
    generator, frame, split = german
    streamed: list[pd.DataFrame] = []
    told: list[tuple[int, int, str]] = []
    table = ratio_sweep(generator, frame, split, ratios=(0.0, 0.5), repetitions=2, config=CONFIG,
                        thresholds_ratio=0.5, selections=("accuracy", "fair"), progress=lambda *cell: told.append(cell),
                        on_rows=lambda rows: (streamed.append(rows), told.append((-1, -1, "rows"))))
    key = ["repetition", "method", "ratio", "selection", "metric"]
    together = pd.concat(streamed, ignore_index=True)
    pd.testing.assert_frame_equal(together.sort_values(key, ignore_index=True),
                                  table.sort_values(key, ignore_index=True))
    # a call per cell (2 ratios, no TL, down-sampled per repetition), each just before the cell is counted
    assert len(streamed) == 2 * 4 and [cell[2] for cell in told[1::2]] == ["rows"] * 8
    for rows in streamed:
        assert rows["repetition"].nunique() == 1
        methods = set(rows["method"])
        # the thresholds come with their ratio; the chosen ratio with the repetition's last transfer cell
        assert len(methods - {TRANSFER_THRESHOLDS, TRANSFER_CHOSEN_RATIO}) == 1
        assert TRANSFER_THRESHOLDS not in methods or set(rows.loc[rows["method"] == TRANSFER, "ratio"]) == {0.5}
    pd.testing.assert_frame_equal(table, ratio_sweep(generator, frame, split, ratios=(0.0, 0.5), repetitions=2,
                                                     config=CONFIG, thresholds_ratio=0.5,
                                                     selections=("accuracy", "fair")))
