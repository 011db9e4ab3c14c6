"""Adversarial debiasing and LAFTR: less unequal opportunity than the baseline where the label leaks the group."""

from __future__ import annotations

import pytest
import torch

from fairgen_core.classifier import ClassifierConfig
from fairgen_core.mitigations import AdversarialDebiasing, Laftr, method_metrics, run_method
from fairgen_core.mitigations.torch_utils import cell_error
from tests.mitigations.synthetic import leaky

CONFIG = ClassifierConfig(hidden_dim=32, batch_size=128, max_epochs=40, patience=5, device="cpu")
EQ_OPP = "abs_equal_opportunity_difference"


@pytest.fixture(scope="module")
def biased():
    data = leaky(0)
    baseline = run_method("baseline", data, CONFIG, seed=0)
    return data, method_metrics(baseline, data)


@pytest.mark.parametrize("method", [AdversarialDebiasing(alpha=3.0), Laftr(gamma=3.0)],
                         ids=["adversarial_debiasing", "laftr"])
def test_adversarial_methods_reduce_the_equal_opportunity_gap(biased, method) -> None:
    data, baseline = biased
    assert baseline[EQ_OPP] > 0.3  # the unconstrained network predicts largely from the group
    result = run_method(method, data, CONFIG, seed=0)
    assert result.skipped_reason is None
    metrics = method_metrics(result, data)
    assert metrics[EQ_OPP] < 0.5 * baseline[EQ_OPP]
    assert metrics[EQ_OPP] < baseline[EQ_OPP] - 0.2
    assert metrics["balanced_accuracy"] > 0.6  # still a classifier, not a constant
    assert 1 <= result.chosen["epoch"] <= CONFIG.max_epochs


def test_without_the_adversary_the_gap_stays(biased) -> None:
    data, baseline = biased
    result = run_method(Laftr(gamma=0.0), data, CONFIG, seed=0)
    assert method_metrics(result, data)[EQ_OPP] > 0.5 * baseline[EQ_OPP]


def test_group_normalised_error_weighs_every_cell_equally() -> None:
    # a confident adversary, right on the big cell and wrong on the small one
    logits = torch.tensor([[5.0, -5.0]] * 9 + [[5.0, -5.0]])
    group = torch.tensor([0] * 9 + [1])
    error = cell_error(logits, group, group)
    assert float(error) == pytest.approx(1.0, abs=0.01)  # 0 on the big cell + 1 on the small one
    plain_mean = float((1 - torch.softmax(logits, 1).gather(1, group[:, None])).mean())
    assert plain_mean == pytest.approx(0.1, abs=0.01)
