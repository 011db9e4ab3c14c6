"""AppTest of the Model audit page: choose prediction columns, audit them, move the threshold, switch models;
bad columns and bad prediction files give messages and keep the user's choices."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import state
from fairgen_core.data.schema import ColumnKind
from fairgen_core.model_audit import VERDICTS
from tests.app.conftest import fresh_app

MODEL_AUDIT, DATA = "../pages/model_audit.py", "../pages/data.py"  # relative to dashboard/app.py
FILE = "people.csv"
ROWS = 400


def people_csv() -> str:
    """Groups F (unprivileged) and M; a score that favours M, its 0/1 decisions, and an age column."""
    rng = np.random.default_rng(3)
    sex = np.where(np.arange(ROWS) % 2, "F", "M")
    hired = rng.random(ROWS) < 0.5
    score = np.clip(0.3 * hired + 0.25 * (sex == "M") + rng.uniform(0, 0.45, ROWS), 0, 1).round(3)
    lines = [f"{s},{'yes' if h else 'no'},{p},{int(p >= 0.5)},{20 + (i // 2) % 40}"
             for i, (s, h, p) in enumerate(zip(sex, hired, score))]
    return "sex,hired,score,decision,age\n" + "\n".join(lines) + "\n"


def on_data_page() -> AppTest:
    """The dashboard with people.csv uploaded (label hired = yes, sensitive sex, M privileged), on the Data page."""
    at = fresh_app()
    at.run()
    at.radio(key="data.origin").set_value("Upload a CSV").run()
    at.file_uploader(key="data.upload").set_value((FILE, people_csv().encode(), "text/csv")).run()
    at.selectbox(key=f"{FILE}.label").set_value("hired").run()
    at.multiselect(key=f"{FILE}.hired.favourable").set_value(["yes"]).run()
    at.multiselect(key=f"{FILE}.hired.sensitive").set_value(["sex"]).run()
    at.multiselect(key=f"{FILE}.sex.privileged").set_value(["M"]).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    return at


@pytest.fixture
def app() -> AppTest:
    """The dashboard with people.csv uploaded (label hired = yes, sensitive sex, M privileged), on Model audit."""
    at = on_data_page()
    at.switch_page(MODEL_AUDIT).run()
    assert not at.exception, at.exception
    return at


def test_prediction_columns_marked_on_the_data_page_are_not_modelled_and_come_chosen() -> None:
    at = on_data_page()
    marked = at.multiselect(key=f"{FILE}.predictions")
    assert marked.options == ["score", "decision", "age"] and marked.value == ["score"]  # suggested by its name
    marked.set_value(["score", "decision"]).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    assert any("Not modelled" in c.value and "**decision**" in c.value for c in at.caption)
    schema = at.session_state[state.DATA_KEY].schema  # what the Train page hands to the generator
    assert schema.feature_names(exclude=("hired", "sex")) == ("age",)
    assert schema.kind("score") is ColumnKind.PREDICTION  # neither modelled nor written into synthetic rows
    at.switch_page(MODEL_AUDIT).run()
    assert not at.exception, at.exception
    assert at.multiselect(key=f"model_audit.{FILE}.columns").value == ["score", "decision"]
    at.multiselect(key=f"model_audit.{FILE}.columns").set_value(["decision"]).run()  # the user's own choice stays
    at.switch_page(DATA).run()
    assert at.multiselect(key=f"{FILE}.predictions").value == ["score", "decision"]
    at.switch_page(MODEL_AUDIT).run()
    assert at.multiselect(key=f"model_audit.{FILE}.columns").value == ["decision"]
    assert at.header[0].value == "Model 'decision'"


def test_a_built_in_dataset_starts_without_prediction_columns() -> None:
    at = fresh_app()
    at.run()
    assert at.multiselect(key="adult.predictions").value == []
    assert "age" in at.session_state[state.DATA_KEY].schema.feature_names()


def _table(at: AppTest, column: str):
    return next(df.value for df in at.dataframe if column in df.value.columns)


def _audit_scores(at: AppTest) -> AppTest:
    at.multiselect(key=f"model_audit.{FILE}.columns").set_value(["score", "decision"]).run()
    at.toggle(key=f"model_audit.{FILE}.scores").set_value(True).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    return at


def test_choosing_a_score_column_audits_it_with_verdicts(app: AppTest) -> None:
    assert app.title[0].value == "Model audit"
    assert app.multiselect(key=f"model_audit.{FILE}.columns").options == ["score", "decision", "age"]
    _audit_scores(app)
    verdicts = _table(app, "verdict")
    assert len(verdicts) == 5 and set(verdicts["verdict"]) <= set(VERDICTS)
    parity = verdicts.set_index("metric").iloc[0]
    assert parity["verdict"] == "disparity" and float(parity["value"]) < -0.1  # the score favours M
    assert _table(app, "selection_rate")["group"].tolist() == ["sex=F", "sex=M"]
    assert any("equalise" in m.value or "balanced accuracy" in m.value for m in app.markdown)
    assert _table(app, "model")["model"].tolist() == ["score", "decision"]  # the models side by side


def test_moving_the_threshold_redraws_the_group_rates(app: AppTest) -> None:
    _audit_scores(app)
    before = _table(app, "threshold")["selection_rate"].tolist()
    slider = next(s for s in app.slider if s.key.endswith(".single"))
    slider.set_value(0.9).run()
    assert not app.exception, app.exception
    after = _table(app, "threshold")
    assert after["threshold"].tolist() == [0.9, 0.9]
    assert after["selection_rate"].tolist() < before and after["selection_rate"].max() < 0.2
    app.toggle(key="model_audit.score.per_group").set_value(True).run()  # one threshold per group, equalising TPR
    assert not app.exception, app.exception
    per_group = _table(app, "threshold")
    assert len(app.slider) == 2 and per_group["threshold"].nunique() == 2
    assert abs(per_group["tpr"].iloc[0] - per_group["tpr"].iloc[1]) < 0.1


def test_switching_models_shows_the_other_one(app: AppTest) -> None:
    _audit_scores(app)
    assert app.header[0].value == "Model 'score'"
    app.radio(key=f"model_audit.{FILE}.model").set_value("decision").run()
    assert not app.exception, app.exception
    assert app.header[0].value == "Model 'decision'"
    app.switch_page(DATA).run()  # choices survive a page switch
    app.switch_page(MODEL_AUDIT).run()
    assert app.header[0].value == "Model 'decision'"
    assert app.multiselect(key=f"model_audit.{FILE}.columns").value == ["score", "decision"]


def test_a_bad_column_gets_a_message_and_the_others_are_audited(app: AppTest) -> None:
    app.multiselect(key=f"model_audit.{FILE}.columns").set_value(["decision", "age"]).run()
    assert not app.exception, app.exception
    assert len(app.error) == 1 and "'age'" in app.error[0].value and "distinct values" in app.error[0].value
    assert "--" not in app.error[0].value and any("**These are scores**" in c.value for c in app.caption)
    assert app.header[0].value == "Model 'decision'"  # the good column is still audited


def test_a_predictions_file_with_other_row_counts_says_both_counts(app: AppTest) -> None:
    app.multiselect(key=f"model_audit.{FILE}.columns").set_value(["decision"]).run()
    short = "model_b\n" + "\n".join(str(i % 2) for i in range(ROWS - 1)) + "\n"
    app.file_uploader(key=f"model_audit.{FILE}.upload").set_value(("preds.csv", short.encode(), "text/csv")).run()
    assert not app.exception, app.exception
    assert any(f"{ROWS - 1:,} rows" in e.value and f"{ROWS:,}" in e.value for e in app.error)
    assert any("**Match its rows to the data by**" in c.value for c in app.caption)  # the page's own hint
    assert app.multiselect(key=f"model_audit.{FILE}.columns").value == ["decision"]  # nothing lost
    good = "model_b\n" + "\n".join(str(i % 2) for i in range(ROWS)) + "\n"
    app.file_uploader(key=f"model_audit.{FILE}.upload").set_value(("preds.csv", good.encode(), "text/csv")).run()
    app.multiselect(key=f"model_audit.{FILE}.columns").set_value(["decision", "model_b"]).run()
    assert not app.exception and not app.error, (app.exception, app.error)
    assert _table(app, "model")["model"].tolist() == ["decision", "model_b"]


def test_several_sensitive_attributes_show_every_group_against_the_reference() -> None:
    at = on_data_page()
    at.multiselect(key=f"{FILE}.hired.sensitive").set_value(["sex", "age"]).run()
    at.number_input(key=f"{FILE}.age.t").set_value(40.0).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    at.switch_page(MODEL_AUDIT).run()
    _audit_scores(at)
    verdicts = _table(at, "verdict")
    assert len(verdicts) == 4 * 5 and {"group", "reference"} <= set(verdicts.columns)
    assert set(verdicts["reference"].iloc[:15]) == {"sex=M & age≥40"}
    assert verdicts["group"].iloc[::5].tolist()[:3] == ["sex=F & age<40", "sex=F & age≥40", "sex=M & age<40"]
    assert verdicts["group"].iloc[15].startswith("largest gap: ")
    assert any("the table has every group and the largest gaps" in c.value for c in at.caption)
    side = _table(at, "model")
    assert side["model"].tolist() == ["score"] * 4 + ["decision"] * 4
    assert side["compared"].tolist()[:4] == ["'sex=F & age<40' vs 'sex=M & age≥40'",
                                            "'sex=F & age≥40' vs 'sex=M & age≥40'",
                                            "'sex=M & age<40' vs 'sex=M & age≥40'", "largest gap"]
