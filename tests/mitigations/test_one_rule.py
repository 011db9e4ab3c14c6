"""Every registered method is chosen by the one selection rule: methods propose candidates, the registry selects."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from fairgen_core.classifier import ClassifierConfig
from fairgen_core.classifier import selection as selection_module
from fairgen_core.classifier.selection import SELECTION_RULES
from fairgen_core.mitigations import METHODS, GroupThresholds, MethodData, evaluate_method, method_metrics
from fairgen_core.mitigations import registry as registry_module

SHORT = ClassifierConfig(hidden_dim=16, batch_size=64, max_epochs=4, patience=0, device="cpu")
# Calibrated equalised odds needs scores that rank the labels well enough for the groups' costs to be equalised:
# four epochs of the small network leave them too close to the base rates (mixing rates above 1, refused).
CONFIGS = {"calibrated_eq_odds": replace(SHORT, hidden_dim=ClassifierConfig().hidden_dim, max_epochs=20)}


def test_no_registered_method_can_select_for_itself() -> None:
    for name, method in METHODS.items():
        assert callable(getattr(method, "candidates", None)), name
        assert not hasattr(method, "run"), f"{name} has its own run(): it could bypass the selection rule"
        assert not hasattr(method, "tolerance"), f"{name} carries its own selection tolerance"


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_is_selected_through_the_rule(german: MethodData, name: str, monkeypatch) -> None:
    calls: list[tuple[str, int]] = []
    seen: dict[str, list] = {}
    real_select = selection_module.select

    def spy(candidates, rule, **kwargs):
        calls.append((rule, len(candidates)))
        seen[rule] = list(candidates)
        return real_select(candidates, rule, **kwargs)

    monkeypatch.setattr(registry_module, "select", spy)
    results = evaluate_method(name, german, CONFIGS.get(name, SHORT), seed=0, selections=SELECTION_RULES)
    assert [r.selection for r in results] == list(SELECTION_RULES)
    assert all(r.skipped_reason is None for r in results), [r.skipped_reason for r in results]
    assert [rule for rule, _ in calls] == list(SELECTION_RULES)  # one call per rule, nothing chosen elsewhere
    for result in results:
        options = seen[result.selection]
        chosen = options[real_select(options, result.selection)]
        np.testing.assert_array_equal(result.predictions, chosen.test_predictions)
        assert result.chosen["val_balanced_accuracy"] == chosen.val_balanced_accuracy
    accuracy, fair = results
    assert accuracy.chosen["val_balanced_accuracy"] >= fair.chosen["val_balanced_accuracy"]
    assert fair.chosen["val_abs_equal_opportunity_difference"] <= (
        accuracy.chosen["val_abs_equal_opportunity_difference"] + 1e-12)


def test_group_thresholds_returns_the_full_metric_set(german: MethodData) -> None:
    (result,) = evaluate_method(GroupThresholds(), german, SHORT, seed=0, selections=("fair",))
    metrics = method_metrics(result, german)
    assert set(metrics) >= {"balanced_accuracy", "abs_equal_opportunity_difference", "average_abs_odds_difference",
                            "abs_balanced_accuracy_difference", "abs_statistical_parity_difference",
                            "equal_opportunity_difference", "average_odds_difference",
                            "statistical_parity_difference", "balanced_accuracy_difference"}
    assert all(np.isfinite(v) for v in metrics.values())
    assert set(np.unique(result.predictions)) <= {0, 1}
    assert result.chosen["equalized_odds"] in (0.0, 1.0) and 0 <= result.chosen["epoch"] <= SHORT.max_epochs
