"""AppTest of the Data page: built-in default, switching datasets, uploads, validation messages."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import state
from tests.app.conftest import fresh_app
from tests.conftest import REPO_ROOT

APP = str(REPO_ROOT / "dashboard" / "app.py")


@pytest.fixture
def app() -> AppTest:
    at = fresh_app()
    at.run()
    assert not at.exception, at.exception
    return at


def _domain_counts(at: AppTest) -> dict[str, int]:
    table = next(df.value for df in at.dataframe if "base_rate" in df.value.columns)
    return {str(group): int(n) for group, n in table["n"].items()}


def test_opens_on_adult_with_the_papers_spec(app: AppTest) -> None:
    assert app.title[0].value == "Data"
    assert app.selectbox(key="data.builtin").value == "adult"
    assert "48,842 rows × 15 columns" in app.markdown[0].value
    assert app.selectbox(key="adult.label").value == "income"
    assert app.multiselect(key="adult.income.favourable").value == [">50K"]
    assert app.multiselect(key="adult.income.sensitive").value == ["sex"]
    assert _domain_counts(app) == {"sex=Female": 16_192, "sex=Male": 32_650}
    assert not app.error
    name, spec = app.session_state[state.SPEC_KEY]  # what the other pages will read
    assert name == "adult" and spec.label == "income" and spec.sensitive[0].privileged == ("Male",)


def test_switching_to_german_and_adding_age_threshold(app: AppTest) -> None:
    app.selectbox(key="data.builtin").set_value("german").run()
    assert _domain_counts(app) == {"sex=female": 310, "sex=male": 690}
    app.multiselect(key="german.credit.sensitive").set_value(["sex", "age"]).run()
    app.number_input(key="german.age.t").set_value(25.0).run()
    assert not app.exception
    counts = _domain_counts(app)
    assert sum(counts.values()) == 1_000 and len(counts) == 4
    assert counts["sex=female & age<25"] == 84


def test_upload_semicolon_csv_and_choose_spec(app: AppTest) -> None:
    content = "sex;age;hired\n" + "".join(f"{'F' if i % 3 else 'M'};{20 + i % 40};{'yes' if i % 4 else 'no'}\n"
                                          for i in range(200))
    app.radio(key="data.origin").set_value("Upload a CSV").run()
    assert app.info  # asks for a file
    app.file_uploader(key="data.upload").set_value(("people.csv", content.encode(), "text/csv")).run()
    assert not app.exception
    assert "200 rows × 3 columns" in app.markdown[0].value
    assert any("delimiter ';'" in c.value for c in app.caption)
    app.selectbox(key="people.csv.label").set_value("hired").run()
    app.multiselect(key="people.csv.hired.favourable").set_value(["yes"]).run()
    app.multiselect(key="people.csv.hired.sensitive").set_value(["sex"]).run()
    app.multiselect(key="people.csv.sex.privileged").set_value(["M"]).run()
    assert not app.error
    assert _domain_counts(app) == {"sex=F": 133, "sex=M": 67}


def test_bad_upload_shows_the_reason_and_keeps_the_page_alive(app: AppTest) -> None:
    app.radio(key="data.origin").set_value("Upload a CSV").run()
    app.file_uploader(key="data.upload").set_value(("photo.csv", b"\x89PNG\r\n\x1a\n0000", "text/csv")).run()
    assert not app.exception
    assert "'photo.csv' is a PNG image, not a CSV" in app.error[0].value


def test_single_class_label_is_reported_next_to_the_choice(app: AppTest) -> None:
    app.multiselect(key="adult.income.favourable").set_value(["<=50K", ">50K"]).run()
    assert not app.exception
    assert any("only one class" in e.value for e in app.error)
    assert app.session_state[state.SPEC_KEY] is None  # an invalid choice is never handed on
