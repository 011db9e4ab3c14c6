"""Auditing the user's own model: aif360 and fairlearn as oracles on real data, bootstrap coverage in a
simulation, verdicts on constructed cases, thresholds, and bad input with clear messages."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from fairgen_core.data.datasets import get_builtin
from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute, assign_domains
from fairgen_core.errors import FairGenError, PredictionError, SpecError
from fairgen_core.model_audit import (
    DIFFERENCE_COLUMNS,
    DIFFERENCE_METRICS,
    DISPARITY,
    INSUFFICIENT,
    LARGEST_GAP,
    MARK_AS_SCORES,
    MATCH_BY_KEY,
    RESCALE_SCORES,
    VS_REFERENCE,
    WITHIN,
    ModelAudit,
    ModelAuditConfig,
    ModelInput,
    Tolerances,
    audit_model,
    audit_models,
    equalising_thresholds,
    group_rates,
    join_predictions,
    model_inputs,
)
from tests.oracle import same_value

# aif360 divides by zero for undefined rates (numpy RuntimeWarning raised inside aif360's own code).
AIF360_WARNINGS = pytest.mark.filterwarnings("ignore::RuntimeWarning:aif360")
GERMAN_SPEC = DatasetSpec("credit", ("good",),
                          (SensitiveAttribute("sex", ("male",)), SensitiveAttribute("age", threshold=25)))


def _differences(audit: ModelAudit) -> dict[str, float]:
    """Each metric's value, unprivileged (on every attribute) vs privileged: aif360's two compared groups."""
    return dict(zip(audit.headline["metric"], audit.headline["value"]))


# -- oracles ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def german() -> tuple[pd.DataFrame, dict[str, ModelInput]]:
    """German credit with sex × age ≥ 25 (four intersectional groups) and several models' outputs."""
    from sklearn.linear_model import LogisticRegression

    frame = get_builtin("german").load()
    assignment = assign_domains(frame, GERMAN_SPEC)
    features = pd.get_dummies(frame.drop(columns=["credit", "sex", "age"]), dtype=float)
    features = (features - features.mean()) / features.std()
    scores = LogisticRegression(max_iter=500).fit(features, assignment.label).predict_proba(features)[:, 1]
    rng = np.random.default_rng(11)
    no_selected = np.where(assignment.group == 0, 0, rng.integers(0, 2, len(frame)))
    models = {
        "logistic scores": ModelInput("logistic scores", scores, is_score=True),
        "logistic decisions": ModelInput("logistic decisions", (scores >= 0.5).astype(int), is_score=False),
        "random": ModelInput("random", rng.integers(0, 2, len(frame)), is_score=False),
        "all ones": ModelInput("all ones", np.ones(len(frame), dtype=int), is_score=False),
        "none selected in group 0": ModelInput("none selected in group 0", no_selected, is_score=False),
    }
    return frame, models


def _aif360_metric(frame: pd.DataFrame, decisions: np.ndarray):
    """aif360's ClassificationMetric: unprivileged = female & age < 25, privileged = male & age ≥ 25."""
    from aif360.datasets import BinaryLabelDataset
    from aif360.metrics import ClassificationMetric

    assignment = assign_domains(frame, GERMAN_SPEC)
    base = pd.DataFrame({"sex": (assignment.group >> 1).astype(float), "age": (assignment.group & 1).astype(float)})

    def dataset(labels: np.ndarray) -> BinaryLabelDataset:
        return BinaryLabelDataset(df=base.assign(y=labels.astype(float)), label_names=["y"],
                                  protected_attribute_names=["sex", "age"], favorable_label=1, unfavorable_label=0)

    return ClassificationMetric(dataset(assignment.label), dataset(decisions),
                                unprivileged_groups=[{"sex": 0, "age": 0}], privileged_groups=[{"sex": 1, "age": 1}])


def _precision(metric, privileged: bool) -> float:
    """aif360's positive predictive value, NaN when the group selects nobody (aif360 reports 0 for that 0/0;
    FairGen reports NaN, like every other rate without a denominator, and fairlearn with zero_division=nan)."""
    if metric.num_pred_positives(privileged=privileged) == 0:
        assert metric.positive_predictive_value(privileged=privileged) == 0.0
        return math.nan
    return metric.positive_predictive_value(privileged=privileged)


def _decisions(model: ModelInput) -> np.ndarray:
    return (model.values >= 0.5).astype(int) if model.is_score else model.values


@AIF360_WARNINGS
@pytest.mark.parametrize("name", ["logistic scores", "logistic decisions", "random", "all ones",
                                  "none selected in group 0"])
def test_differences_and_compared_groups_equal_aif360(german, name: str) -> None:
    frame, models = german
    audit = audit_model(frame, GERMAN_SPEC, models[name], ModelAuditConfig(bootstrap=50))
    metric = _aif360_metric(frame, _decisions(models[name]))
    ppv = {privileged: _precision(metric, privileged) for privileged in (False, True)}
    expected = {
        "statistical_parity_difference": metric.statistical_parity_difference(),
        "disparate_impact": metric.disparate_impact(),
        "equal_opportunity_difference": metric.equal_opportunity_difference(),
        "average_abs_odds_difference": metric.average_abs_odds_difference(),
        "predictive_parity_difference": ppv[False] - ppv[True],
    }
    ours = _differences(audit)
    assert list(ours) == list(DIFFERENCE_METRICS)
    wrong = {key: (ours[key], value) for key, value in expected.items() if not same_value(ours[key], value)}
    assert not wrong, f"differs from aif360 (ours, aif360): {wrong}"
    for row, privileged in ((audit.per_group.iloc[0], False), (audit.per_group.iloc[-1], True)):
        checks = {
            "tp": metric.num_true_positives(privileged=privileged),
            "fp": metric.num_false_positives(privileged=privileged),
            "tn": metric.num_true_negatives(privileged=privileged),
            "fn": metric.num_false_negatives(privileged=privileged),
            "selection_rate": metric.selection_rate(privileged=privileged),
            "tpr": metric.true_positive_rate(privileged=privileged),
            "fpr": metric.false_positive_rate(privileged=privileged),
            "fnr": metric.false_negative_rate(privileged=privileged),
            "precision": ppv[privileged],
            "balanced_accuracy": (metric.true_positive_rate(privileged=privileged)
                                  + metric.true_negative_rate(privileged=privileged)) / 2,
        }
        wrong = {key: (row[key], value) for key, value in checks.items() if not same_value(row[key], value)}
        assert not wrong, f"group {row['group']} differs from aif360 (ours, aif360): {wrong}"
    if name == "none selected in group 0":
        assert math.isnan(audit.per_group.loc[0, "precision"]) and ours["disparate_impact"] == 0.0
        row = audit.headline.set_index("metric").loc["predictive_parity_difference"]
        assert row["verdict"] == INSUFFICIENT and "has 0 selected rows" in row["note"]


@pytest.mark.parametrize("name", ["logistic scores", "random", "all ones", "none selected in group 0"])
def test_every_group_rate_equals_fairlearn_metric_frame(german, name: str) -> None:
    from fairlearn.metrics import (
        MetricFrame,
        count,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import balanced_accuracy_score, brier_score_loss, precision_score

    frame, models = german
    model = models[name]
    audit = audit_model(frame, GERMAN_SPEC, model, ModelAuditConfig(bootstrap=50))
    assignment = assign_domains(frame, GERMAN_SPEC)
    metrics = {
        "n": count, "selection_rate": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate,
        "fnr": false_negative_rate, "balanced_accuracy": balanced_accuracy_score,
        "precision": lambda y, p: precision_score(y, p, zero_division=np.nan),
    }
    by_group = MetricFrame(metrics=metrics, y_true=assignment.label, y_pred=_decisions(model),
                           sensitive_features=assignment.group).by_group
    if model.is_score:
        brier = MetricFrame(metrics=brier_score_loss, y_true=assignment.label, y_pred=model.values,
                            sensitive_features=assignment.group).by_group
        assert all(same_value(a, b) for a, b in zip(audit.per_group["brier"], brier)), (audit.per_group["brier"], brier)
    assert len(audit.per_group) == 4 == len(by_group)
    wrong = {(g, column): (audit.per_group.loc[g, column], by_group.loc[g, column])
             for g in range(4) for column in metrics
             if not same_value(audit.per_group.loc[g, column], by_group.loc[g, column])}
    assert not wrong, f"differs from fairlearn (ours, fairlearn): {wrong}"


@pytest.mark.parametrize("name", ["logistic scores", "random", "none selected in group 0"])
def test_every_group_against_the_reference_and_the_largest_gaps_equal_fairlearn(german, name: str) -> None:
    from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate
    from sklearn.metrics import precision_score

    frame, models = german
    model = models[name]
    audit = audit_model(frame, GERMAN_SPEC, model, ModelAuditConfig(bootstrap=50))
    assignment = assign_domains(frame, GERMAN_SPEC)
    names = assignment.group_names
    frames = MetricFrame(
        metrics={"selection_rate": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate,
                 "precision": lambda y, p: precision_score(y, p, zero_division=np.nan)},
        y_true=assignment.label, y_pred=_decisions(model),
        sensitive_features=pd.Series(assignment.group, name="group").map(dict(enumerate(names))))
    by_group = frames.by_group.loc[list(names)]
    reference = by_group.iloc[-1]
    expected = {}
    for group in names[:-1]:
        rates = by_group.loc[group]
        expected[(VS_REFERENCE, group, names[-1])] = {
            "statistical_parity_difference": rates["selection_rate"] - reference["selection_rate"],
            "disparate_impact": rates["selection_rate"] / reference["selection_rate"],
            "equal_opportunity_difference": rates["tpr"] - reference["tpr"],
            "average_abs_odds_difference": (abs(rates["tpr"] - reference["tpr"])
                                            + abs(rates["fpr"] - reference["fpr"])) / 2,
            "predictive_parity_difference": rates["precision"] - reference["precision"],
        }
    differences, ratios = frames.difference(method="between_groups"), frames.ratio(method="between_groups")
    odds = max((abs(by_group.loc[a, "tpr"] - by_group.loc[b, "tpr"])
                + abs(by_group.loc[a, "fpr"] - by_group.loc[b, "fpr"])) / 2 for a in names for b in names if a != b)
    largest = {"statistical_parity_difference": -differences["selection_rate"],
               "disparate_impact": ratios["selection_rate"], "equal_opportunity_difference": -differences["tpr"],
               "average_abs_odds_difference": odds, "predictive_parity_difference": -differences["precision"]}
    table = audit.differences
    assert list(table.columns) == list(DIFFERENCE_COLUMNS) and len(table) == 4 * len(DIFFERENCE_METRICS)
    assert table["comparison"].tolist() == [VS_REFERENCE] * 15 + [LARGEST_GAP] * 5
    assert (table["reference"].iloc[:15] == names[-1]).all() and table["group"].iloc[:15:5].tolist() == list(names[:-1])
    wrong = {}
    for row in table.itertuples(index=False):
        if row.comparison == VS_REFERENCE:
            theirs = expected[(row.comparison, row.group, row.reference)][row.metric]
        else:
            theirs = largest[row.metric]
            low, high = (by_group.loc[row.group], by_group.loc[row.reference])  # the pair that gives the gap
            column = {"statistical_parity_difference": "selection_rate", "disparate_impact": "selection_rate",
                      "equal_opportunity_difference": "tpr",
                      "predictive_parity_difference": "precision"}.get(row.metric)
            if column is not None:
                assert (low[column], high[column]) == (by_group[column].min(), by_group[column].max()), row
        if not same_value(row.value, theirs):
            wrong[(row.metric, row.comparison, row.group)] = (row.value, theirs)
    assert not wrong, f"differs from fairlearn (ours, fairlearn): {wrong}"


def _three_groups() -> tuple[pd.DataFrame, DatasetSpec, ModelInput]:
    """Race with four values binarised as White or not, crossed with sex: four groups. Two unprivileged groups
    differ most (selection 0.2 vs 0.7); the group unprivileged on both attributes matches the reference (0.5)."""
    rows, decisions = [], []
    for race, sex, n, rate in (("Black", "F", 1000, 0.5), ("Asian", "M", 1000, 0.2), ("White", "F", 1000, 0.7),
                               ("White", "M", 1000, 0.5)):
        y = np.r_[np.ones(n // 2, int), np.zeros(n - n // 2, int)]
        d = np.tile(np.r_[np.ones(round(rate * 10), int), np.zeros(10 - round(rate * 10), int)], n // 10)
        rows.append(pd.DataFrame({"race": race, "sex": sex, "y": y}))
        decisions.append(d)
    spec = DatasetSpec("y", (1,), (SensitiveAttribute("race", ("White",)), SensitiveAttribute("sex", ("M",))))
    return pd.concat(rows, ignore_index=True), spec, ModelInput("m", np.concatenate(decisions), is_score=False)


def test_several_groups_each_get_a_verdict_and_the_largest_gap_is_found_between_any_two() -> None:
    frame, spec, model = _three_groups()
    audit = audit_model(frame, spec, model)
    rows = audit.differences[audit.differences["metric"] == "statistical_parity_difference"].set_index("group")
    other_f, other_m, white_f = "race∈{Asian, Black} & sex=F", "race∈{Asian, Black} & sex=M", "race=White & sex=F"
    assert rows["reference"].tolist() == ["race=White & sex=M"] * 3 + [white_f]
    assert rows.index[:3].tolist() == [other_f, other_m, white_f]
    assert rows.iloc[0]["verdict"] == WITHIN  # the headline pair alone would say parity
    assert rows.iloc[1]["verdict"] == DISPARITY and rows.iloc[2]["verdict"] == DISPARITY
    gap = rows.iloc[3]
    assert gap["comparison"] == LARGEST_GAP and gap.name == other_m
    assert gap["value"] == pytest.approx(-0.5) and gap["ci_high"] < -0.1 and gap["verdict"] == DISPARITY
    assert gap["note"] == f"the selection rate is lower for '{other_m}' than for '{white_f}'"
    summary = audit.summary()
    assert "each of the 4 groups compared with 'race=White & sex=M' (privileged, the reference)" in summary
    assert f"statistical parity difference largest gap: '{other_m}' vs '{white_f}' -0.500" in summary
    assert audit.headline["group"].unique().tolist() == [other_f] and len(audit.headline) == 5


def test_two_groups_keep_one_row_per_metric_and_no_largest_gap() -> None:
    audit = audit_model(*_constructed((500, 500), (0.4, 0.5)))
    table = audit.differences
    assert table["metric"].tolist() == list(DIFFERENCE_METRICS) and set(table["comparison"]) == {VS_REFERENCE}
    assert set(table["group"]) == {"s=a"} and set(table["reference"]) == {"s=b"}
    pd.testing.assert_frame_equal(audit.headline, table)


def test_a_group_without_rows_is_insufficient_evidence_and_left_out_of_the_largest_gap() -> None:
    frame, spec, model = _three_groups()
    keep = (frame["race"] != "Black").to_numpy()  # no row unprivileged on both attributes
    audit = audit_model(frame[keep].reset_index(drop=True), spec, ModelInput("m", model.values[keep], is_score=False))
    empty = audit.differences[audit.differences["group"] == "race=Asian & sex=F"]
    assert set(empty["verdict"]) == {INSUFFICIENT} and empty["value"].isna().all()
    assert empty["note"].str.startswith("group 'race=Asian & sex=F' has 0 ").all()
    gap = audit.differences[audit.differences["comparison"] == LARGEST_GAP].set_index("metric")
    assert gap.loc["statistical_parity_difference", "value"] == pytest.approx(-0.5)


def test_calibration_bins_hold_every_row_and_their_means(german) -> None:
    frame, models = german
    audit = audit_model(frame, GERMAN_SPEC, models["logistic scores"], ModelAuditConfig(bootstrap=10))
    curve = audit.calibration
    assert curve is not None and curve.groupby("group", sort=False)["n"].sum().tolist() == audit.per_group["n"].tolist()
    assert ((curve["mean_score"] >= curve["bin_low"]) & (curve["mean_score"] <= curve["bin_high"])).all()
    assert curve["observed_rate"].between(0, 1).all()
    scores, label = models["logistic scores"].values, assign_domains(frame, GERMAN_SPEC).label
    top = scores >= 0.9
    last = curve[curve["bin"] == 9]
    assert last["n"].sum() == top.sum()
    assert (last["observed_rate"] * last["n"]).sum() == pytest.approx(label[top].sum())


# -- bootstrap coverage ----------------------------------------------------------------------------
def _true_values(base: np.ndarray, tpr: np.ndarray, fpr: np.ndarray) -> dict[str, float]:
    selection = base * tpr + (1 - base) * fpr
    precision = base * tpr / selection
    return {
        "statistical_parity_difference": selection[0] - selection[1],
        "disparate_impact": selection[0] / selection[1],
        "equal_opportunity_difference": tpr[0] - tpr[1],
        "average_abs_odds_difference": (abs(tpr[0] - tpr[1]) + abs(fpr[0] - fpr[1])) / 2,
        "predictive_parity_difference": precision[0] - precision[1],
    }


def test_bootstrap_intervals_cover_the_true_values_at_about_the_nominal_rate() -> None:
    sizes, base = np.array([400, 800]), np.array([0.4, 0.55])
    tpr, fpr = np.array([0.6, 0.75]), np.array([0.2, 0.3])
    truth = _true_values(base, tpr, fpr)
    spec = DatasetSpec("y", (1,), (SensitiveAttribute("g", threshold=1),))
    group = np.repeat([0, 1], sizes)
    rng = np.random.default_rng(2024)
    covered = {metric: 0 for metric in truth}
    n_sim = 200
    for sim in range(n_sim):
        y = (rng.random(group.size) < base[group]).astype(int)
        decision = (rng.random(group.size) < np.where(y == 1, tpr[group], fpr[group])).astype(int)
        audit = audit_model(pd.DataFrame({"y": y, "g": group}), spec, ModelInput("m", decision, is_score=False),
                            ModelAuditConfig(bootstrap=400, seed=sim))
        for row in audit.differences.itertuples():
            covered[row.metric] += row.ci_low <= truth[row.metric] <= row.ci_high
    coverage = {metric: hits / n_sim for metric, hits in covered.items()}
    assert all(0.90 <= c <= 0.99 for c in coverage.values()), coverage


# -- verdicts --------------------------------------------------------------------------------------
def _constructed(sizes: tuple[int, int], selection: tuple[float, float], tpr: tuple[float, float] | None = None
                 ) -> tuple[pd.DataFrame, DatasetSpec, ModelInput]:
    """Two groups with exact counts: half the rows positive, the given selection rates (TPR = FPR unless given)."""
    frames, decisions = [], []
    for g, (n, rate) in enumerate(zip(sizes, selection)):
        positives = n // 2
        true_rate = rate if tpr is None else tpr[g]
        false_rate = rate if tpr is None else (rate * n - true_rate * positives) / (n - positives)
        y = np.r_[np.ones(positives, int), np.zeros(n - positives, int)]
        tp, fp = round(true_rate * positives), round(false_rate * (n - positives))
        d = np.r_[np.ones(tp, int), np.zeros(positives - tp, int), np.ones(fp, int), np.zeros(n - positives - fp, int)]
        frames.append(pd.DataFrame({"y": y, "s": "ab"[g]}))
        decisions.append(d)
    spec = DatasetSpec("y", (1,), (SensitiveAttribute("s", ("b",)),))
    return pd.concat(frames, ignore_index=True), spec, ModelInput("m", np.concatenate(decisions), is_score=False)


def _verdicts(audit: ModelAudit) -> dict[str, str]:
    return dict(zip(audit.differences["metric"], audit.differences["verdict"]))


def test_clear_disparity() -> None:
    audit = audit_model(*_constructed((2000, 2000), (0.2, 0.6), tpr=(0.3, 0.8)))
    verdicts = _verdicts(audit)
    for metric in ("statistical_parity_difference", "disparate_impact", "equal_opportunity_difference",
                   "average_abs_odds_difference"):
        assert verdicts[metric] == DISPARITY, metric
    note = audit.differences.set_index("metric").loc["statistical_parity_difference", "note"]
    assert note == "the selection rate is lower for 's=a' than for 's=b'"
    assert "Disparity: statistical parity difference -0.400" in audit.summary()


def test_clear_parity() -> None:
    audit = audit_model(*_constructed((3000, 3000), (0.5, 0.5)))
    assert set(_verdicts(audit).values()) == {WITHIN}
    assert (audit.differences["note"] == "").all()
    assert _differences(audit)["disparate_impact"] == 1.0


def test_too_few_rows_give_insufficient_evidence_and_the_rows_needed() -> None:
    # the unprivileged group has 20 rows (10 positives): a large gap, but not enough evidence
    audit = audit_model(*_constructed((20, 2000), (0.0, 0.5)))
    rows = audit.differences.set_index("metric")
    assert set(rows["verdict"]) == {INSUFFICIENT}
    assert rows.loc["statistical_parity_difference", "note"] == (
        "group 's=a' has 20 rows, fewer than 30: at its current share that takes about 30 rows of this group (now 20)")
    assert rows.loc["equal_opportunity_difference", "note"] == (
        "group 's=a' has 10 rows with the favourable label, fewer than 30: at its current share that takes about 60 "
        "rows of this group (now 20)")
    assert rows.loc["predictive_parity_difference", "note"] == (
        "group 's=a' has 0 selected rows (decision 1), fewer than 30: it needs at least 30 such rows")


def test_an_interval_spanning_the_tolerance_says_how_many_rows_would_settle_it() -> None:
    audit = audit_model(*_constructed((400, 400), (0.45, 0.5)))
    row = audit.differences.set_index("metric").loc["statistical_parity_difference"]
    assert row["verdict"] == INSUFFICIENT and row["ci_low"] < -0.1 < row["ci_high"]
    needed = int(row["note"].split("about ")[1].split(" rows")[0].replace(",", ""))
    assert 800 < needed < 10_000
    # the same rates (group sizes that are multiples of 40 keep them exact): 10% more rows settle it, 30% fewer do not
    for factor, verdict in ((1.1, WITHIN), (0.7, INSUFFICIENT)):
        size = math.ceil(factor * needed / 2 / 40) * 40
        verdicts = _verdicts(audit_model(*_constructed((size, size), (0.45, 0.5))))
        assert verdicts["statistical_parity_difference"] == verdict, (factor, size)


def test_tolerances_are_configurable() -> None:
    data = _constructed((3000, 3000), (0.5, 0.6))
    assert _verdicts(audit_model(*data))["statistical_parity_difference"] == INSUFFICIENT
    strict = ModelAuditConfig(tolerances=Tolerances(statistical_parity=0.05, disparate_impact=0.9))
    verdicts = _verdicts(audit_model(*data, strict))
    assert verdicts["statistical_parity_difference"] == DISPARITY and verdicts["disparate_impact"] == DISPARITY
    with pytest.raises(FairGenError, match="four-fifths rule: 0.8"):
        Tolerances(disparate_impact=1.25)


def test_intervals_are_reproducible_and_independent_of_the_other_models() -> None:
    frame, spec, model = _constructed((500, 500), (0.4, 0.5))
    other = ModelInput("other", 1 - model.values, is_score=False)
    alone = audit_model(frame, spec, model)
    together = audit_models(frame, spec, [other, model])[1]
    pd.testing.assert_frame_equal(alone.differences, together.differences)


def test_to_dict_is_strict_json_and_summary_names_the_groups() -> None:
    audit = audit_model(*_constructed((20, 2000), (0.0, 0.5)))
    data = json.loads(json.dumps(audit.to_dict(), allow_nan=False))
    assert data["differences"][4]["value"] is None  # precision of a group selecting nobody: undefined
    assert data["unprivileged"] == "s=a" and data["privileged"] == "s=b"
    assert data["summary"].startswith("Model 'm' (decisions) on 2,020 rows, 's=a' (unprivileged) compared with 's=b'")


# -- thresholds ------------------------------------------------------------------------------------
def _scored(n: int = 4000) -> tuple[pd.DataFrame, DatasetSpec, ModelInput]:
    rng = np.random.default_rng(5)
    g = rng.integers(0, 2, n)
    y = (rng.random(n) < 0.5).astype(int)
    scores = np.clip(0.35 * y + 0.1 * g + rng.random(n) * 0.55, 0, 1)  # group 1 scores higher
    spec = DatasetSpec("y", (1,), (SensitiveAttribute("g", threshold=1),))
    return pd.DataFrame({"y": y, "g": g}), spec, ModelInput("score", scores, is_score=True)


def test_group_rates_match_the_audit_at_any_threshold() -> None:
    frame, spec, model = _scored()
    assignment = assign_domains(frame, spec)
    for thresholds in (0.3, 0.5, (0.45, 0.6)):
        config = ModelAuditConfig(bootstrap=10, threshold=0.5 if isinstance(thresholds, tuple) else thresholds,
                                  group_thresholds=thresholds if isinstance(thresholds, tuple) else None)
        audit = audit_model(frame, spec, model, config)
        rates = group_rates(assignment.label, model.values, assignment.group, thresholds, assignment.group_names)
        assert list(rates.index) == list(audit.per_group["group"])
        for column in ("n", "selection_rate", "tpr", "fpr"):
            np.testing.assert_allclose(rates[column].to_numpy(), audit.per_group[column].to_numpy(), rtol=0, atol=1e-12)
    assert audit.thresholds == (0.45, 0.6) and "group thresholds 0.45, 0.6" in audit.summary()


def test_equalising_thresholds_close_the_tpr_gap_and_report_the_cost() -> None:
    frame, spec, model = _scored()
    assignment = assign_domains(frame, spec)
    single = group_rates(assignment.label, model.values, assignment.group, 0.5)
    result = equalising_thresholds(assignment.label, model.values, assignment.group, threshold=0.5)
    equalised = group_rates(assignment.label, model.values, assignment.group, result.thresholds)
    assert single["tpr"].max() - single["tpr"].min() > 0.15
    assert equalised["tpr"].max() - equalised["tpr"].min() < 0.02
    assert result.tpr == pytest.approx(tuple(equalised["tpr"]))
    assert abs(result.target_tpr - float(np.mean(model.values[assignment.label == 1] >= 0.5))) < 1e-12
    assert result.thresholds[1] > 0.5 > result.thresholds[0]  # the higher-scored group needs a higher bar
    assert result.cost == pytest.approx(result.balanced_accuracy_single - result.balanced_accuracy_equalised)


# -- bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("column", "scores", "message"),
    [
        ("one", False, r"predictions column 'one' holds a single value \(1\) in all 6 rows: .*Check that this is the "
                       "model's output column"),
        ("wide", True, r"scores column 'wide' has values outside \[0, 1\] \(from -2 to 4; at rows 1, 6 \(row 1 = the "
                       r"first data row\)\): .*or rescale the scores to \[0, 1\] with FairGen \(min–max"),
        ("holes", True, r"predictions column 'holes' has 2 missing value\(s\), at rows 2, 4 .*Fill them in"),
        ("text", True, r"predictions column 'text' has non-numeric value\(s\) such as 'high', at row 3 .*give scores "
                       r"as numbers in \[0, 1\]"),
        ("yes_no", False, "holds the values 'no' and 'yes', not 0/1: map the favourable decision to 1"),
        ("one_two", False, "holds the values 1 and 2, not 0/1: map the favourable decision to 1"),
        ("wide", False, r"holds 6 distinct values .*mark the column as scores and choose a threshold"),
        ("scor", True, "predictions column 'scor' is not in the data: did you mean 'score'"),
    ],
)
def test_bad_prediction_columns_get_a_message_naming_the_column(column: str, scores: bool, message: str) -> None:
    with pytest.raises((PredictionError, SpecError), match=message) as raised:
        model_inputs(_bad_columns(), [column], scores=scores)
    assert "--" not in str(raised.value)  # no front end's flags: the CLI and the page add their own hints


def _bad_columns() -> pd.DataFrame:
    return pd.DataFrame({
        "one": [1] * 6, "wide": [-2.0, 0.1, 0.5, 0.7, 0.9, 4.0], "holes": [0.1, None, 0.3, None, 0.5, 0.6],
        "text": ["0.1", "0.2", "high", "0.4", "0.5", "0.6"], "yes_no": ["yes", "no"] * 3, "one_two": [1, 2] * 3,
        "score": [0.1] * 6,
    })


@pytest.mark.parametrize(
    ("column", "scores", "remedy"),
    [("wide", False, MARK_AS_SCORES), ("one_two", False, MARK_AS_SCORES), ("wide", True, RESCALE_SCORES),
     ("holes", True, None), ("one", False, None), ("yes_no", False, None)],
)
def test_a_refused_column_names_the_setting_that_fixes_it(column: str, scores: bool, remedy: str | None) -> None:
    with pytest.raises(PredictionError) as raised:
        model_inputs(_bad_columns(), [column], scores=scores)
    assert raised.value.remedy == remedy


def test_predictions_with_other_row_counts_point_to_a_key() -> None:
    with pytest.raises(PredictionError, match="Match them by a key column present in both files") as raised:
        join_predictions(pd.DataFrame({"y": [0, 1, 1]}), pd.DataFrame({"p": [0, 1]}))
    assert raised.value.remedy == MATCH_BY_KEY and "--" not in str(raised.value)


def test_rescaling_keeps_the_order_of_scores_outside_zero_one() -> None:
    (model,) = model_inputs(pd.DataFrame({"s": [-2.0, 0.0, 2.0, 6.0]}), ["s"], scores=True, rescale=True)
    assert model.values.tolist() == [0.0, 0.25, 0.5, 1.0]


def test_boolean_decisions_are_zero_one() -> None:
    (model,) = model_inputs(pd.DataFrame({"d": [True, False, True]}), ["d"], scores=False)
    assert model.values.tolist() == [1, 0, 1] and not model.is_score


@pytest.mark.parametrize(
    ("predictions", "key", "message"),
    [
        (pd.DataFrame({"p": [0, 1] * 2}), None,
         r"the predictions have 4 rows but the data has 5: matching by row order"),
        (pd.DataFrame({"id": [1, 2, 2, 3, 3, 4, 5], "p": [0, 1] * 3 + [0]}), "id",
         r"key 'id' repeats in the predictions: 2 value\(s\) occur more than once \(e.g. 2, 3\)"),
        (pd.DataFrame({"id": [1, 2, 3, 4], "p": [0, 1] * 2}), "id",
         r"1 data row\(s\) have no prediction \(key 'id' e.g. 5\): add their predictions"),
        (pd.DataFrame({"id": [1, 2, 3, 4, 5, 6, 7], "p": [0, 1] * 3 + [1]}), "id",
         r"2 prediction\(s\) match no data row \(key 'id' e.g. 6, 7\)"),
        (pd.DataFrame({"id": [1, 2, None, 4, 5], "p": [0, 1] * 2 + [1]}), "id",
         r"key 'id' is missing in 1 row\(s\) of the predictions, at row 3"),
        (pd.DataFrame({"ID": [1, 2, 3, 4, 5], "p": [0, 1] * 2 + [1]}), "id",
         r"key column 'id' is not in the predictions \(their columns: 'ID', 'p'\): add it, or match by row order"),
    ],
)
def test_bad_joins_get_a_message_with_counts_and_examples(predictions: pd.DataFrame, key: str | None,
                                                          message: str) -> None:
    data = pd.DataFrame({"id": [1, 2, 3, 4, 5], "y": [0, 1, 1, 0, 1]})
    with pytest.raises((PredictionError, SpecError), match=message):
        join_predictions(data, predictions, key=key)


def test_join_by_key_matches_text_and_number_keys_and_keeps_the_data_index() -> None:
    data = pd.DataFrame({"id": [10, 20, 30], "y": [0, 1, 1]}, index=[5, 6, 7])
    predictions = pd.DataFrame({"id": ["30", "10", "20"], "p": [0.3, 0.1, 0.2]})
    joined = join_predictions(data, predictions, key="id")
    assert joined.index.tolist() == [5, 6, 7] and joined["p"].tolist() == [0.1, 0.2, 0.3]
    by_order = join_predictions(data, predictions.drop(columns="id"))
    assert by_order.index.tolist() == [5, 6, 7] and by_order["p"].tolist() == [0.3, 0.1, 0.2]


def test_misaligned_models_and_thresholds_are_refused() -> None:
    frame, spec, model = _constructed((50, 50), (0.5, 0.5))
    with pytest.raises(PredictionError, match="model 'short' has 99 value"):
        audit_model(frame, spec, ModelInput("short", model.values[:99], is_score=False))
    with pytest.raises(PredictionError, match="model 'm' must hold 0/1 decisions"):
        audit_model(frame, spec, ModelInput("m", model.values * 2, is_score=False))
    with pytest.raises(FairGenError, match="one threshold per group: 3 given for the 2 groups 's=a', 's=b'"):
        audit_model(frame, spec, model, ModelAuditConfig(group_thresholds=(0.5, 0.5, 0.5)))
    with pytest.raises(PredictionError, match="listed twice"):
        model_inputs(frame, ["y", "y"], scores=False)
