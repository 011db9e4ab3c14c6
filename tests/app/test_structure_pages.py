"""AppTest of the structure on the Data page (rules with evidence, unticked rules kept, leaks flagged) and of the
synthetic rows' validity on the Quality page (never a green verdict over rows that break the data's rules)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import state
from fairgen_core.cli import main
from fairgen_core.generator import FairGenerator
from fairgen_core.results.evidence import run_validity
from fairgen_core.runs.layout import MODEL
from fairgen_core.runs.store import RunDir
from tests.app.conftest import fresh_app, open_run_page

QUALITY = "../pages/quality.py"
EDUCATION = "'education-num' is a one-to-one recoding of 'education'"


def _stops(n: int = 300) -> pd.DataFrame:
    """A stop-and-frisk-like table: a one-hot group, a complement pair (one half of it a label) and another label."""
    rng = np.random.default_rng(0)
    frisked, hair = rng.integers(0, 2, n), rng.integers(0, 3, n)
    return pd.DataFrame({"sex": rng.choice(["M", "F"], n), "age": rng.integers(15, 70, n),
                         **{f"haircolr_{k}": (hair == k).astype(int) for k in range(3)},
                         "frisked_N": 1 - frisked, "frisked_Y": frisked, "arrested": rng.integers(0, 2, n)})


def _structure_table(app: AppTest) -> pd.DataFrame:
    return next(d.value for d in app.dataframe if "evidence" in d.value.columns)


def test_the_data_page_lists_the_rules_with_their_evidence() -> None:
    app = fresh_app()
    app.run()
    assert not app.exception, app.exception
    assert "Structure" in [h.value for h in app.subheader]
    table = _structure_table(app).set_index("rule")
    assert table.loc[EDUCATION, "evidence"] == "100% of 48,842 rows" and table.loc[EDUCATION, "check"]
    assert table.loc[EDUCATION, "kind"] == "derived" and table["check"].all()
    husband = "'relationship' = 'Husband' implies 'sex' = 'Male'"
    assert table.loc[husband, "kind"] == "implication"
    assert table.loc[husband, "evidence"].startswith("99.99% of the 19,716 rows with 'relationship' = 'Husband' (1 ")
    assert not any("leaks" in w.value for w in app.warning)


def test_an_unticked_rule_stays_unticked() -> None:
    app = fresh_app()
    app.session_state[state._CHOICES] = {("adult", "ignored_rules"): ["derived:education|education-num"]}
    app.run()
    assert not app.exception, app.exception
    table = _structure_table(app).set_index("rule")
    assert not table.loc[EDUCATION, "check"] and table.drop(index=EDUCATION)["check"].all()
    assert app.session_state[state._CHOICES][("adult", "ignored_rules")] == ["derived:education|education-num"]


def test_a_column_leaking_the_label_is_flagged_with_the_fix() -> None:
    app = fresh_app()
    app.run()
    app.radio(key="data.origin").set_value("Upload a CSV").run()
    app.file_uploader(key="data.upload").set_value(
        ("stops.csv", _stops().to_csv(index=False).encode(), "text/csv")).run()
    app.selectbox(key="stops.csv.label").set_value("frisked_Y").run()
    app.multiselect(key="stops.csv.frisked_Y.sensitive").set_value(["sex"]).run()
    assert not app.exception, app.exception
    (leak,) = [w.value for w in app.warning if "leaks" in w.value]
    assert leak.startswith("column 'frisked_N' leaks the label 'frisked_Y': it is its exact complement")
    assert "left out of the generator, its classifiers and the data audit (kind **leak**)" in leak
    rules = _structure_table(app)["rule"].tolist()
    assert "'frisked_N' and 'frisked_Y' are complements (they sum to 1)" in rules
    keep = app.checkbox(key="stops.csv.keep.frisked_N")
    assert not keep.value and app.session_state[state.DATA_KEY].schema.kind("frisked_N") == "leak"
    keep.check().run()
    assert app.session_state[state._CHOICES][("stops.csv", "kept_leaks")] == ["frisked_N"]
    assert app.session_state[state.DATA_KEY].schema.kind("frisked_N") == "binary"


@pytest.fixture(scope="module")
def stops_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("stops")
    _stops().to_csv(folder / "stops.csv", index=False)
    out = folder / "run"
    assert main(["fit", str(folder / "stops.csv"), "--label", "arrested", "--sensitive", "sex=M", "--out", str(out),
                 "--epochs", "2", "--device", "cpu", "--seed", "0"]) == 0
    model = FairGenerator.load(out / MODEL, device="cpu")  # as made before rows were repaired to keep the structure
    model.assembler = replace(model.assembler, structure=None)
    model.save(out / MODEL)
    return out


def test_the_quality_page_shows_validity_and_no_green_verdict_over_broken_rules(stops_run: Path, monkeypatch) -> None:
    monkeypatch.chdir(stops_run.parent.parent)  # `fit FILE.csv` records the file's full path: read from anywhere
    run = RunDir(stops_run)
    manifest, frame = run.read_manifest(), run.open_data().frame
    expected = run_validity(FairGenerator.load(run.model_path), frame, manifest)
    assert not expected.good  # unrepaired: the one-hot group and the complement are generated column by column
    app = open_run_page(fresh_app(timeout=120), QUALITY, stops_run)
    assert "Validity" in [h.value for h in app.subheader]
    verdict = next(v for v in manifest.structure.to_dict()["rules"] if v["kind"] == "complement")["description"]
    table = next(d.value for d in app.dataframe if "real_share" in d.value.columns)
    assert verdict in table["description"].tolist()
    np.testing.assert_allclose(table.set_index("description").loc[verdict, "share"],
                               expected.per_rule.set_index("description").loc[verdict, "share"])
    assert not any(s.value.startswith("Synthetic data") for s in app.success)  # the FID verdict is not green
    assert any(expected.verdict() in w.value for w in app.warning)


def test_the_german_run_keeps_its_rules(german_run_dir: Path) -> None:
    app = open_run_page(fresh_app(timeout=120), QUALITY, german_run_dir)
    validity = [s.value for s in app.success if "structural rule(s) of the data" in s.value]
    assert validity == ["100% of the synthetic rows keep all 18 structural rule(s) of the data (real test rows: 100%)."]
