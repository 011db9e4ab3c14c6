"""AppTest of the Quality page on the trained German run: numbers equal assess_quality's, per-domain view, widgets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from fairgen_core.data.schema import ColumnKind
from fairgen_core.generator import FairGenerator
from fairgen_core.generator.evaluation import GeneratorQuality, assess_quality, assess_translation, quality_samples
from fairgen_core.metrics.fidelity import MEASURE_JUDGED_AS, MEASURE_LABELS
from fairgen_core.metrics.quality import marginal_comparison
from fairgen_core.runs.store import RunDir
from tests.app.conftest import fresh_app, open_run_page

PAGE = "../pages/quality.py"  # relative to the entry point, dashboard/app.py


@pytest.fixture
def app() -> AppTest:
    return fresh_app(timeout=120)


def _open(app: AppTest, run_dir: Path | None) -> AppTest:
    return open_run_page(app, PAGE, run_dir)


def _expected(run_dir: Path, sigma: float) -> GeneratorQuality:
    run = RunDir(run_dir)
    return assess_quality(FairGenerator.load(run.model_path), run.open_data().frame, run.read_manifest().split,
                          sigma=sigma)


def _table(app: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in app.dataframe if column in d.value.columns)


def test_without_a_run_points_to_the_train_page(app: AppTest) -> None:
    _open(app, None)
    assert "Train generator" in app.info[0].value
    assert not app.metric


def test_numbers_equal_assess_quality(app: AppTest, german_run_dir: Path) -> None:
    _open(app, german_run_dir)
    expected = _expected(german_run_dir, 0.25)  # German has no paper σ: the default
    assert app.number_input(key="quality.german.sigma").value == 0.25
    run = RunDir(german_run_dir)
    translation = assess_translation(FairGenerator.load(run.model_path), run.open_data().frame,
                                     run.read_manifest().split)
    fidelity = expected.fidelity
    assert [m.value for m in app.metric] == [
        f"{fidelity.shapes:.3f}", f"{fidelity.trends:.3f}", f"{fidelity.detection:.3f}",
        f"{fidelity.efficacy.tstr:.3f}",
        f"{fidelity.efficacy.tstr_fairness['abs_equal_opportunity_difference']:.3f}",
        f"{expected.quality.fid:.3f}", f"{expected.quality.noise_baseline:.3f}",
        f"{translation.target_rate:.0%}", f"{translation.real_rate:.0%}", f"{translation.label_kept:.0%}"]
    assert any(translation.summary() in w.value for w in (*app.warning, *app.success))
    fidelity = _table(app, "target_rate")
    np.testing.assert_allclose(fidelity["target_rate"], translation.per_domain["target_rate"])
    assert expected.quality.verdict() in [i.value for i in app.info]  # the paper's figure, never green itself
    assert expected.privacy.verdict() in [w.value for w in (*app.warning, *app.success)]

    per_domain = _table(app, "smallest")
    assert len(per_domain) == 4
    np.testing.assert_array_equal(per_domain["fid"], expected.quality.per_domain["fid"])
    assert per_domain.loc[per_domain["smallest"], "domain"].tolist() == ["sex=female · credit=bad"]
    assert per_domain["rows_in_data"].sum() == 1_000

    marginals = _table(app, "statistic")
    assert marginals["value"].tolist() == expected.marginals.sort_values("value", ascending=False)["value"].tolist()

    app.selectbox(key="quality.column").set_value("age").run()
    app.number_input(key="quality.german.sigma").set_value(0.5).run()
    assert not app.exception, app.exception
    assert app.metric[6].value == f"{_expected(german_run_dir, 0.5).quality.noise_baseline:.3f}"


def test_the_page_leads_with_the_standard_measures(app: AppTest, german_run_dir: Path) -> None:
    _open(app, german_run_dir)
    expected = _expected(german_run_dir, 0.25).fidelity
    assert [s.value for s in app.subheader][:3] == ["Standard measures", "Per domain: standard measures",
                                                     "The paper's figure: FID"]
    assert [m.label for m in app.metric][:5] == ["Column shapes", "Column-pair trends", "Detection",
                                                 "TSTR balanced accuracy", "TSTR |EqOpp|"]
    measures = _table(app, "judged value")
    assert measures["verdict"].tolist() == [v or "n/a" for v in expected.verdicts().values()]
    np.testing.assert_allclose(measures["judged value"], list(expected.values().values()))
    assert measures["judged as"].tolist() == [MEASURE_JUDGED_AS[m] for m in expected.values()]  # signs explained
    assert any("one synthetic draw against" in c.value and "without an interval" in c.value for c in app.caption)
    assert any("drawn calibrated to each domain's training marginals" in c.value for c in app.caption)  # the default
    domains = _table(app, "dcr_synthetic_median")
    assert domains["detection"].tolist() == [f"{d.detection:.3f} [{d.detection_low:.3f}, {d.detection_high:.3f}]"
                                             for d in expected.per_domain.itertuples(index=False)]
    assert domains["n_real"].tolist() == expected.per_domain["n_real"].tolist()  # every score with its rows
    first = expected.per_domain.iloc[0]
    assert domains["tstr_accuracy"].iloc[0] == (f"{first.tstr_accuracy:.3f} [{first.tstr_accuracy_low:.3f}, "
                                                f"{first.tstr_accuracy_high:.3f}]")
    smallest = expected.per_domain.loc[expected.per_domain["n_real"].idxmin()]
    assert any(f"'{smallest['domain']}', has {smallest['n_real']:,} real test rows" in c.value for c in app.caption)
    assert domains.loc[domains["weakest"], "domain"].tolist() == [expected.weakest_domain()]
    verdict = next(v for v in (*app.warning, *app.success) if v.value == expected.summary())
    assert (verdict in app.success) == (not expected.poor() and not any(
        w.value.startswith("Not a good result: ") for w in app.warning))
    for measure in expected.poor():  # no green verdict while a measure is poor, and each poor one is named
        assert verdict not in app.success
        assert any(w.value.startswith(f"Not a good result: {MEASURE_LABELS[measure]} is poor") for w in app.warning)


def test_the_page_draws_the_rows_assess_quality_compared(german_run_dir: Path) -> None:
    run = RunDir(german_run_dir)
    model, frame, split = FairGenerator.load(run.model_path), run.open_data().frame, run.read_manifest().split
    samples = quality_samples(model, frame, split)
    schema = model.encoder.schema
    numeric = [c for c in model.encoder.columns if schema.kind(c) is ColumnKind.NUMERIC]
    categorical = [c for c in model.encoder.columns if c not in numeric]
    pd.testing.assert_frame_equal(marginal_comparison(samples.real, samples.synthetic, numeric, categorical),
                                  assess_quality(model, frame, split).marginals)
    assert len(samples.real) == len(samples.synthetic) == len(split.test)
