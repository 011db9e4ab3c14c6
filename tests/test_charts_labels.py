"""What the charts say to an auditor: label values on the heat map, loss titles in words, visible single points,
readable bin names and percentage points, wrapped ticks with room, Pareto labels that do not pile up, no emoji."""

from __future__ import annotations

import html
import re
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest

from dashboard.charts import confusion_heatmap, joint_probability_heatmap
from fairgen_core.audit import column_distribution, label_imbalance
from fairgen_core.data.schema import infer_schema
from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute, assign_domains, domain_table
from fairgen_core.generator.loss_terms import LossTerms
from fairgen_core.results.charts import LOSS_TITLES, MARKER_POINTS, loss_figure, marginals_figure, pareto_figure
from tests.conftest import REPO_ROOT

#: Every term's name in the training log.
LOGGED_TERMS = tuple(LossTerms(**{f.name: 0.5 for f in fields(LossTerms)}).as_dict())
#: Pictographs, dingbats and the emoji variation selector: boxes in browsers without an emoji font.
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u23e9-\u23fa\u2139\ufe0f]")


def _people(label: str, values: tuple[object, object], n: int = 80) -> pd.DataFrame:
    """``n`` rows: group a has the first label value in 3 of 4 rows, group b in 1 of 4."""
    group = np.array(["a", "b"] * (n // 2))
    first = np.where(group == "a", np.arange(n) % 8 < 6, np.arange(n) % 8 < 2)
    return pd.DataFrame({label: np.where(first, values[0], values[1]), "s": group,
                         "pay": np.linspace(10_000, 1_000_000, n)})


def _ticks(axis) -> list[str]:
    return [html.unescape(text) for text in axis.ticktext]


def test_the_heat_map_names_the_label_values_and_marks_the_favourable_one() -> None:
    frame = _people("default-payment-next-month", (1, 0))
    spec = DatasetSpec("default-payment-next-month", (0,), (SensitiveAttribute("s", ("b",)),), min_domain_rows=1)
    figure = joint_probability_heatmap(domain_table(frame, spec), spec.n_domains,
                                       assign_domains(frame, spec).label_names)
    assert _ticks(figure.layout.xaxis) == ["default-payment-next-month=1<br>(unfavourable)",
                                           "default-payment-next-month=0<br>(favourable)"]
    assert "y=1" not in str(figure.to_dict())


def test_label_values_with_markup_characters_are_escaped_on_the_heat_map() -> None:
    frame = _people("income", ("<=50K", ">50K"))
    spec = DatasetSpec("income", (">50K",), (SensitiveAttribute("s", ("b",)),), min_domain_rows=1)
    figure = joint_probability_heatmap(domain_table(frame, spec), spec.n_domains,
                                       assign_domains(frame, spec).label_names)
    assert list(figure.layout.xaxis.ticktext) == ["income=&lt;=50K<br>(unfavourable)", "income=&gt;50K<br>(favourable)"]


def test_a_loss_chart_of_one_epoch_shows_its_points_and_says_what_each_term_is() -> None:
    figure = loss_figure(pd.DataFrame({"epoch": [1], **{term: [0.5] for term in LOGGED_TERMS}}), "epoch", "Losses")
    assert all("markers" in trace.mode for trace in figure.data)
    titles = [annotation.text.replace("<br>", " ") for annotation in figure.layout.annotations]
    assert len(titles) == len(LOGGED_TERMS) == 11
    assert "likelihood (reconstruction of x from z in the target domain) (like)" in titles
    assert "prior KL (codes z against N(0, I)) (prior)" in titles
    assert {axis.title.text for axis in figure.select_xaxes()} == {"epoch"}
    assert {axis.title.text for axis in figure.select_yaxes()} == {"loss"}


def test_every_logged_loss_term_has_a_plain_title() -> None:
    assert set(LOGGED_TERMS) <= set(LOSS_TITLES)


def test_a_long_loss_history_is_drawn_as_lines_only() -> None:
    steps = MARKER_POINTS + 1
    figure = loss_figure(pd.DataFrame({"step": range(steps), "like": np.ones(steps)}), "step", "Losses per step")
    assert figure.data[0].mode == "lines"
    assert figure.select_xaxes().__next__().title.text == "step"


def test_numeric_bins_are_named_with_readable_numbers() -> None:
    frame = _people("y", (1, 0), n=100)
    spec = DatasetSpec("y", (1,), (SensitiveAttribute("s", ("b",)),), min_domain_rows=1)
    schema = infer_schema(frame).with_kinds({"pay": "numeric"})
    labels = column_distribution(frame, spec, "pay", schema=schema).shares["value"].unique().tolist()
    assert labels[:2] == ["10,000 – 59,500", "59,500 – 109,000"]
    assert labels[-1] == "950,500 – 1,000,000"
    assert not any("e+" in label for label in labels)


def test_the_base_rate_gap_is_said_in_percentage_points() -> None:
    frame = _people("y", (1, 0))
    spec = DatasetSpec("y", (1,), (SensitiveAttribute("s", ("b",)),), min_domain_rows=1)
    rates = label_imbalance(frame, spec).describe()[1]
    assert "a gap of 50.0 percentage points;" in rates


def test_long_confusion_matrix_labels_are_wrapped_and_get_room() -> None:
    labels = pd.Index(["default-payment-next-month=1", "default-payment-next-month=0"])
    matrix = pd.DataFrame([[5, 1], [2, 7]], index=labels.rename("true"), columns=labels.rename("predicted"))
    figure = confusion_heatmap(matrix, "sex=female")
    for axis in (figure.layout.xaxis, figure.layout.yaxis):
        assert axis.automargin is True
        lines = [line for text in axis.ticktext for line in text.split("<br>")]
        assert max(map(len, lines)) <= 16 and "".join(lines) == "".join(labels)


def test_report_marginals_labels_are_not_clipped() -> None:
    marginals = pd.DataFrame({"column": ["months-since-the-last-payment-was-made", "age"], "kind": ["numeric"] * 2,
                              "statistic": ["ks", "ks"], "value": [0.3, 0.1]})
    figure = marginals_figure(marginals)
    assert figure.layout.yaxis.automargin is True
    assert figure.layout.margin.l is None  # no fixed narrow margin: it grows with the labels
    assert all(len(line) <= 30 for label in figure.data[0].y for line in label.split("<br>"))


def _results(points: dict[str, tuple[float, float]]) -> pd.DataFrame:
    rows = []
    for label, (accuracy, gap) in points.items():
        method, _, ratio = label.partition(" r=")
        for metric, value in (("balanced_accuracy", accuracy), ("abs_equal_opportunity_difference", gap)):
            rows.append({"method": method, "ratio": float(ratio) if ratio else np.nan, "repetition": 0,
                         "metric": metric, "value": value})
    return pd.DataFrame(rows)


def test_the_pareto_scatter_names_only_the_front_the_baseline_and_ours() -> None:
    table = _results({"baseline": (0.70, 0.20), "reweighing": (0.72, 0.10), "laftr": (0.69, 0.12),
                      "meta_fair": (0.65, 0.30), "transfer r=0.5": (0.71, 0.18), "dir": (0.74, 0.25)})
    points = {trace.name: trace for trace in pareto_figure(table).data if trace.name != "Pareto front"}
    named = {name for name, trace in points.items() if trace.text}
    assert named == {"baseline", "reweighing", "dir", "transfer r=0.5"}
    assert all(points[name].mode == "markers" for name in ("laftr", "meta_fair"))
    by_gap = sorted(named, key=lambda name: points[name].x[0])
    assert [points[name].textposition for name in by_gap] == ["top center", "bottom center"] * 2
    assert all(trace.showlegend is not False for trace in points.values())  # the unnamed ones are in the legend


@pytest.mark.parametrize("folder", ["pages", "dashboard", "fairgen_core"])
def test_no_emoji_in_ui_strings(folder: str) -> None:
    found = [f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}"
             for path in sorted((REPO_ROOT / folder).rglob("*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if EMOJI.search(line)]
    assert not found, "emoji render as boxes in Debian's Chromium; use :material/...: icons:\n" + "\n".join(found)
