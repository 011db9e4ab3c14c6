"""The classifier C: balanced pre-training data, real:synthetic mixing, determinism, quality on German."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import torch

from fairgen_core.classifier import (
    ClassifierConfig,
    FairClassifier,
    MLPClassifier,
    balanced_accuracy,
    balanced_synthetic,
    encode_rows,
    finetune,
    fit_baseline,
    fit_fair_classifier,
    mixed_batches,
    predict,
    pretrain,
    synthetic_pairs,
)
from fairgen_core.config import GeneratorConfig
from fairgen_core.data.datasets import get_builtin
from fairgen_core.data.spec import assign_domains
from fairgen_core.data.splits import Split, split_by_domain
from fairgen_core.errors import FairGenError
from fairgen_core.generator import FairGenerator, fit_generator
from fairgen_core.metrics.fairness import fairness_report

SMALL = ClassifierConfig(hidden_dim=32, batch_size=64, max_epochs=20, patience=5, pretrain_rows_per_domain=500,
                         device="cpu")


@dataclass
class German:
    frame: pd.DataFrame
    split: Split
    generator: FairGenerator


@pytest.fixture(scope="module")
def german() -> German:
    dataset = get_builtin("german")
    frame = dataset.load()
    spec = dataset.default_spec()
    split = split_by_domain(assign_domains(frame, spec).domain, seed=0)
    config = GeneratorConfig(hidden_dim=32, latent_dim=8, epochs=20, patience=0, device="cpu")
    generator = fit_generator(frame, spec, schema=dataset.schema(frame), config=config, split=split)
    return German(frame, split, generator)


@pytest.fixture(scope="module")
def pretrained(german: German) -> MLPClassifier:
    x_val, y_val, _ = encode_rows(german.generator, german.frame, german.split.val)
    return pretrain(german.generator, x_val, y_val, SMALL)


def _test_report(german: German, classifier: FairClassifier) -> tuple[float, object]:
    assignment = assign_domains(german.frame, german.generator.spec)
    rows = german.split.test
    y_pred = classifier.predict(german.frame.iloc[rows])
    y_true = assignment.label[rows]
    report = fairness_report(y_true, y_pred, assignment.group[rows], assignment.group_names)
    return balanced_accuracy(y_true, y_pred), report


def test_pretraining_rows_are_exactly_balanced(german: German) -> None:
    x, y, domains = balanced_synthetic(german.generator, 37, seed=1)
    n_domains = german.generator.n_domains
    assert x.shape == (37 * n_domains, german.generator.encoder.n_features)
    assert np.bincount(domains, minlength=n_domains).tolist() == [37] * n_domains
    assert np.bincount(y, minlength=2).tolist() == [37 * n_domains // 2] * 2
    assert (y == domains % 2).all()
    again = balanced_synthetic(german.generator, 37, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip((x, y, domains), again))


def _marker_batches(ratio: float, batch_size: int = 10, n: int = 40) -> list[tuple[int, int]]:
    """(real rows, synthetic rows) per batch; real rows carry 0 and synthetic rows 1 in their only feature."""
    real, pairs = np.zeros((n, 1), np.float32), np.ones((n, 1), np.float32)
    y_real, y_pairs = np.zeros(n), np.ones(n)
    out = []
    for batch in mixed_batches(real, y_real, pairs, y_pairs, ratio, batch_size, np.random.default_rng(0)):
        x, y = batch.x, batch.y
        synthetic = int(x.sum())
        assert int(y.sum()) == synthetic  # labels travel with their rows
        out.append((len(x) - synthetic, synthetic))
    return out


def test_ratio_sets_the_real_share_of_every_batch() -> None:
    assert _marker_batches(1.0) == [(10, 0)] * 4
    assert _marker_batches(0.0) == [(0, 10)] * 4
    assert _marker_batches(0.5) == [(5, 5)] * 4
    ratios = np.linspace(0, 1, 11)
    real_per_batch = [_marker_batches(r)[0][0] for r in ratios]
    assert real_per_batch == sorted(real_per_batch) and real_per_batch[0] == 0 and real_per_batch[-1] == 10


def test_each_epoch_walks_the_real_rows_without_repeats() -> None:
    real = np.arange(12, dtype=np.float32)[:, None]
    batches = list(mixed_batches(real, np.zeros(12), -real, np.ones(12), 1.0, 5, np.random.default_rng(3)))
    assert [len(b.x) for b in batches] == [5, 5, 2]
    assert sorted(float(v) for b in batches for v in b.x[:, 0]) == list(range(12))


@pytest.mark.parametrize("ratio", [-0.1, 1.5, float("nan")])
def test_a_ratio_outside_zero_one_is_rejected(german: German, pretrained: MLPClassifier, ratio: float) -> None:
    x = np.zeros((4, pretrained.n_features), np.float32)
    y = np.zeros(4)
    with pytest.raises(FairGenError, match="ratio"):
        finetune(pretrained, x, y, x, y, x, y, ratio=ratio, config=SMALL)
    with pytest.raises(FairGenError, match="ratio"):
        next(mixed_batches(x, y, x, y, ratio, 2, np.random.default_rng(0)))
    with pytest.raises(FairGenError, match="ratio"):
        fit_fair_classifier(german.generator, german.frame, german.split, ratio=ratio, pretrained=pretrained)


def test_same_seed_gives_identical_predictions(german: German) -> None:
    x_val, y_val, _ = encode_rows(german.generator, german.frame, german.split.val)
    config = ClassifierConfig(hidden_dim=16, max_epochs=3, pretrain_rows_per_domain=100, device="cpu", seed=5)
    first, second = (pretrain(german.generator, x_val, y_val, config) for _ in range(2))
    assert np.array_equal(predict(first, x_val), predict(second, x_val))
    tuned = [fit_fair_classifier(german.generator, german.frame, german.split, config=config, pretrained=first)
             for _ in range(2)]
    assert np.array_equal(tuned[0].predict_proba(x_val), tuned[1].predict_proba(x_val))


def test_finetuned_classifier_beats_chance_on_german(german: German, pretrained: MLPClassifier) -> None:
    fair = fit_fair_classifier(german.generator, german.frame, german.split, ratio=0.5, config=SMALL,
                               pretrained=pretrained)
    x_val, y_val, _ = encode_rows(german.generator, german.frame, german.split.val)
    assert balanced_accuracy(y_val, fair.predict(x_val)) > 0.6
    test_accuracy, report = _test_report(german, fair)
    assert test_accuracy > 0.6
    assert len(report.absolute) == 4 and all(np.isfinite(v) for v in report.absolute.values())
    before = pretrained.state_dict()["net.0.weight"].clone()
    assert fair.model is not pretrained and (before == pretrained.state_dict()["net.0.weight"]).all()


def test_baseline_and_pairs_use_the_encoded_features(german: German) -> None:
    x, _, domains = encode_rows(german.generator, german.frame, german.split.train)
    x_pairs, y_pairs, _ = synthetic_pairs(german.generator, x, domains, seed=0)
    assert x_pairs.shape == x.shape and set(np.unique(y_pairs)) <= {0, 1}
    baseline = fit_baseline(german.generator, german.frame, german.split, config=SMALL)
    assert baseline.ratio is None and baseline.model.n_features == german.generator.encoder.n_features
    accuracy, _ = _test_report(german, baseline)
    assert accuracy > 0.55


def test_counterfactual_pairs_flip_the_group_and_keep_the_label(german: German) -> None:
    x, y, domains = encode_rows(german.generator, german.frame, german.split.train)
    _, y_pairs, targets = synthetic_pairs(german.generator, x, domains, seed=0, pairs="counterfactual")
    assert (targets // 2 != domains // 2).all() and (y_pairs == y).all() and (targets % 2 == y).all()
    _, y_paper, paper = synthetic_pairs(german.generator, x, domains, seed=0, pairs="paper")
    assert (paper // 2 != domains // 2).all()
    flipped = (y_paper != y).mean()
    assert 0.3 < flipped < 0.7  # the paper's rule flips the label of about half the pairs
    assert (y_paper == paper % 2).all()  # ... and a paper pair takes its target's label


@pytest.mark.parametrize("ratio", [0.5, 0.3, 0.8])
def test_a_row_and_its_own_pair_share_a_batch(ratio: float) -> None:
    ids = np.arange(40, dtype=np.float32)[:, None]
    labels = np.zeros(40)
    for batch in mixed_batches(ids, labels, ids + 1000, labels, ratio, 10, np.random.default_rng(2)):
        real, pairs = batch.x[: batch.n_real, 0], batch.x[batch.n_real:, 0]
        assert batch.n_matched == min(len(real), len(pairs)) > 0
        assert torch.equal(pairs[: batch.n_matched] - 1000, real[: batch.n_matched])  # row i next to its pair


def test_the_consistency_term_pulls_a_row_and_its_pair_together() -> None:
    from fairgen_core.classifier.training import pair_consistency

    logits = torch.tensor([2.0, -1.0, 2.0, 3.0], requires_grad=True)  # two real rows, then their pairs
    loss = pair_consistency(logits, n_real=2, n_matched=2)
    loss.backward()
    assert loss.item() > 0
    assert logits.grad[0] == 0 and logits.grad[2] == 0  # an equal pair feels nothing
    assert logits.grad[1] < 0 < logits.grad[3]  # gradient descent raises the low one and lowers the high one
    assert float(pair_consistency(torch.tensor([1.0, 1.0]), n_real=1, n_matched=1)) == 0.0


def test_domain_weights_give_every_domain_the_same_total_weight() -> None:
    from fairgen_core.classifier import domain_weights

    domains = np.array([0] * 70 + [1] * 20 + [2] * 9 + [3] * 1)
    weights = domain_weights(domains)
    totals = np.bincount(domains, weights=weights)
    np.testing.assert_allclose(totals, [25.0] * 4)
    assert weights.mean() == pytest.approx(1.0)


def test_pair_weights_follow_their_pairs_in_mixed_batches() -> None:
    ids = np.arange(6, dtype=np.float32)[:, None]
    labels = np.zeros(6)
    batches = list(mixed_batches(ids, labels, ids + 100, labels, 0.5, 4, np.random.default_rng(1),
                                 pair_weight=ids[:, 0] + 100))
    for batch in batches:
        x, w = batch.x, batch.weight
        real = x[:, 0] < 100
        assert torch.equal(w[real], torch.ones(int(real.sum())))  # real rows default to weight 1
        assert torch.equal(w[~real], x[~real, 0])


def test_fit_fair_classifier_keeps_the_epoch_the_rule_chooses(german: German, pretrained: MLPClassifier) -> None:
    from fairgen_core.data.spec import assign_domains
    from fairgen_core.metrics.fairness import fairness_report

    x_val, y_val, d_val = encode_rows(german.generator, german.frame, german.split.val)
    names = assign_domains(german.frame, german.generator.spec).group_names
    scores = {}
    for rule in ("accuracy", "fair"):
        fitted = fit_fair_classifier(german.generator, german.frame, german.split, config=SMALL,
                                     pretrained=pretrained, selection=rule)
        report = fairness_report(y_val, fitted.predict(x_val), d_val // 2, names)
        scores[rule] = (report.overall["balanced_accuracy"], report.absolute["abs_equal_opportunity_difference"])
    assert scores["accuracy"][0] >= scores["fair"][0]  # the accuracy rule keeps the most accurate epoch
    assert scores["fair"][0] >= scores["accuracy"][0] - 0.02  # the fair rule stays within the tolerance
    assert scores["fair"][1] <= scores["accuracy"][1] + 1e-12  # ... and is at least as fair on validation
