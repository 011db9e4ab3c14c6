"""AppTest of the Data audit page: it audits the Data page's choice and follows it when that changes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import fresh_app

AUDIT, DATA = "../pages/audit.py", "../pages/data.py"  # relative to dashboard/app.py


@pytest.fixture
def app() -> AppTest:
    at = fresh_app()
    at.run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _proxies(at: AppTest):
    return next(df.value for df in at.dataframe if "mutual_information" in df.value.columns)


def test_audits_adult_then_follows_the_switch_to_german(app: AppTest) -> None:
    app.switch_page(AUDIT).run()
    assert not app.exception, app.exception
    assert app.title[0].value == "Data audit"
    metrics = _metrics(app)
    assert metrics["sex=Female"] == "16,192" and metrics["sex=Male"] == "32,650"
    text = " ".join(m.value for m in app.markdown)
    assert "The smallest cell, sex=Female & income=>50K, has 1,769 rows: 8% of the largest" in text
    assert _proxies(app).iloc[0]["column"] == "relationship"
    assert any("relationship" in w.value for w in app.warning)  # flagged as a strong proxy
    assert app.selectbox(key="audit.adult.column").value == "relationship"  # distribution of the top proxy
    baseline = next(df.value for df in app.dataframe if "selection_rate" in df.value.columns)
    assert baseline["n"].sum() > 7_000

    app.switch_page(DATA).run()
    app.selectbox(key="data.builtin").set_value("german").run()
    app.switch_page(AUDIT).run()
    assert not app.exception, app.exception
    metrics = _metrics(app)
    assert metrics["sex=female"] == "310" and metrics["sex=male"] == "690"
    assert "sex=female & credit=bad, has 109 rows" in " ".join(m.value for m in app.markdown)
    assert _proxies(app).iloc[0]["column"] == "age"


def test_picking_a_column_draws_its_distribution(app: AppTest) -> None:
    app.switch_page(AUDIT).run()
    app.selectbox(key="audit.adult.column").set_value("age").run()
    assert not app.exception, app.exception
    quantiles = next(df.value for df in app.dataframe if "median" in df.value.columns)
    assert quantiles["n"].to_dict() == {"sex=Female": 16_192, "sex=Male": 32_650}


def test_charts_name_the_favourable_label_and_readable_bins(app: AppTest) -> None:
    app.switch_page(AUDIT).run()
    app.selectbox(key="audit.adult.column").set_value("fnlwgt").run()
    assert not app.exception, app.exception
    figures = {chart.key: json.loads(chart.proto.spec) for chart in app.get("plotly_chart")}
    assert figures["audit.heatmap"]["layout"]["xaxis"]["ticktext"] == ["income=&lt;=50K<br>(unfavourable)",
                                                                       "income=&gt;50K<br>(favourable)"]
    bins = figures["audit.distribution"]["data"][0]["x"]
    assert bins[0] == "12,285 – 86,191" and not any("e+" in b for b in bins)
    assert "a gap of 19.5 percentage points" in " ".join(m.value for m in app.markdown)


def test_without_a_valid_choice_it_points_at_the_data_page(app: AppTest) -> None:
    app.multiselect(key="adult.income.favourable").set_value([]).run()  # no valid spec any more
    app.switch_page(AUDIT).run()
    assert not app.exception, app.exception
    assert "Data** page first" in app.info[0].value
    assert not app.metric


def test_a_kept_leak_comes_with_the_baseline_warning_naming_it(app: AppTest) -> None:
    rng = np.random.default_rng(0)
    frisked = rng.integers(0, 2, 400)
    stops = pd.DataFrame({"sex": rng.choice(["M", "F"], 400), "age": rng.integers(15, 70, 400),
                          "frisked_N": 1 - frisked, "frisked_Y": frisked})
    app.radio(key="data.origin").set_value("Upload a CSV").run()
    app.file_uploader(key="data.upload").set_value(("stops.csv", stops.to_csv(index=False).encode(), "text/csv")).run()
    app.selectbox(key="stops.csv.label").set_value("frisked_Y").run()
    app.multiselect(key="stops.csv.frisked_Y.sensitive").set_value(["sex"]).run()
    app.switch_page(AUDIT).run()
    assert not app.exception, app.exception
    assert not [w.value for w in app.warning if "near perfect" in w.value]  # left out by default: no leak to warn of
    app.switch_page(DATA).run()
    app.checkbox(key="stops.csv.keep.frisked_N").check().run()
    app.switch_page(AUDIT).run()
    assert not app.exception, app.exception
    (warning,) = [w.value for w in app.warning if "near perfect" in w.value]
    assert warning.startswith("the baseline's balanced accuracy 1.000 is near perfect because column 'frisked_N' "
                              "leaks the label 'frisked_Y'")
    assert warning.endswith("On the **Data** page: untick **Keep** for that column.")
    assert _metrics(app)["Balanced accuracy"] == "1.000"
