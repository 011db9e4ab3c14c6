"""AppTest of the Data page: built-in default, switching datasets, uploads, validation messages."""

from __future__ import annotations

import statistics

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


def _upload(at: AppTest, name: str, content: str) -> AppTest:
    at.radio(key="data.origin").set_value("Upload a CSV").run()
    at.file_uploader(key="data.upload").set_value((name, content.encode(), "text/csv")).run()
    assert not at.exception, at.exception
    return at


def _people(n: int = 120) -> str:
    return "sex;age;hired;team\n" + "".join(
        f"{'F' if i % 3 else 'M'};{20 + i % 40};{'yes' if i % 4 else 'no'};{'ab'[i % 2]}\n" for i in range(n)
    )


def test_label_that_was_sensitive_is_set_aside_without_a_widget_error(app: AppTest) -> None:
    app.selectbox(key="adult.label").set_value("sex").run()
    assert not app.exception and not app.error
    sensitive = app.multiselect(key="adult.sex.sensitive")
    assert "sex" not in sensitive.options and sensitive.value == []
    assert any("'sex' is now the label" in i.value for i in app.info)
    assert app.session_state[state.SPEC_KEY] is None
    sensitive.set_value(["race"]).run()
    assert not app.exception and not app.error
    # a Male/Female label has no suggested favourable value (the CLI's rule): the page asks, it does not guess
    assert app.multiselect(key="adult.sex.favourable").value == []
    assert any("count as the favourable outcome" in i.value for i in app.info)
    app.multiselect(key="adult.sex.favourable").set_value(["Female"]).run()
    assert app.session_state[state.SPEC_KEY][1].sensitive_columns == ("race",)
    app.multiselect(key="adult.sex.favourable").set_value([]).run()  # emptied by the user: now an error
    assert any("Choose at least one favourable value of 'sex'" in e.value for e in app.error)
    app.selectbox(key="adult.label").set_value("income").run()  # sex is offered (and chosen) again
    assert not app.exception
    assert set(app.multiselect(key="adult.income.sensitive").value) == {"race", "sex"}


def test_upload_suggests_a_target_like_label_and_asks_for_sensitive_attributes(app: AppTest) -> None:
    rows = "".join(f"{i},{1 + i % 2},{i % 2},{int(i % 3 == 0)},{int(i % 3 == 1)},{int(i % 3 == 2)}\n"
                   for i in range(60))
    _upload(app, "credit.csv", "ID,SEX,default payment next month,MARRIAGE_1,MARRIAGE_2,MARRIAGE_3\n" + rows)
    assert app.selectbox(key="credit.csv.label").value == "default payment next month"
    assert not app.error  # nothing is wrong before the user has chosen anything
    assert any("Choose the sensitive attribute(s)" in i.value for i in app.info)
    sensitive = app.multiselect(key="credit.csv.default payment next month.sensitive")
    sensitive.set_value(["SEX"]).run()
    app.multiselect(key="credit.csv.default payment next month.sensitive").set_value([]).run()
    assert any("Choose at least one sensitive attribute" in e.value for e in app.error)  # now a wrong choice


def test_choices_kept_for_a_file_with_other_columns_do_not_break_the_page(app: AppTest) -> None:
    _upload(app, "people.csv", _people())
    app.selectbox(key="people.csv.label").set_value("team").run()
    app.multiselect(key="people.csv.team.sensitive").set_value(["sex"]).run()
    _upload(app, "people.csv", "gender,score,passed\n" + "".join(
        f"{'FM'[i % 2]},{i},{'yn'[i % 3 == 0]}\n" for i in range(60)))
    assert app.selectbox(key="people.csv.label").value == "passed"
    assert app.multiselect(key="people.csv.passed.sensitive").value == []


def test_empty_or_text_numeric_sensitive_columns_are_explained_not_crashing(app: AppTest) -> None:
    content = "ethnicity,age,hired,sex\n" + "".join(
        f",{'unknown' if i == 7 else 20 + i % 40},{'yn'[i % 4 == 0]},{'FM'[i % 3 == 0]}\n" for i in range(100))
    _upload(app, "gaps.csv", content)
    app.selectbox(key="gaps.csv.label").set_value("hired").run()
    app.multiselect(key="gaps.csv.hired.sensitive").set_value(["ethnicity", "age"]).run()
    assert not app.exception, app.exception
    assert any("sensitive attribute 'ethnicity' is empty (all 100 values are missing)" in e.value for e in app.error)
    ages = [20 + i % 40 for i in range(100) if i != 7]  # 'unknown' counts as missing
    assert app.number_input(key="gaps.csv.age.t").value == statistics.median(ages)


def test_kept_choices_that_are_no_longer_offered_fall_back_to_the_defaults() -> None:
    at = fresh_app()
    at.session_state[state._CHOICES] = {("", "origin"): "From a URL", ("", "builtin"): "meps",
                                        ("adult", "label"): "salary", ("adult", "sensitive"): ["gender", "sex"]}
    at.run()
    assert not at.exception, at.exception
    assert at.radio(key="data.origin").value == "Built-in dataset"
    assert at.selectbox(key="data.builtin").value == "adult"  # the first built-in: MEPS needs a file
    assert at.selectbox(key="adult.label").value == "income"
    assert at.multiselect(key="adult.income.sensitive").value == ["sex"]
