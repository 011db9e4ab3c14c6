"""Pre-training C on balanced synthetic rows and fine-tuning it on real rows mixed with their synthetic pairs."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as fn

from fairgen_core.classifier.model import MLPClassifier
from fairgen_core.classifier.selection import DEFAULT_SELECTION, EpochRecorder, Validation, select
from fairgen_core.config import ClassifierConfig, PairProtocol
from fairgen_core.data.encoding import TabularEncoder
from fairgen_core.data.spec import assign_domains
from fairgen_core.data.splits import Split
from fairgen_core.devices import resolve_device
from fairgen_core.errors import FairGenError
from fairgen_core.generator.model import FairGenerator

ArrayLike = np.ndarray | torch.Tensor


@dataclass
class TrainResult:
    """What one call of :func:`train_classifier` did.

    Attributes
    ----------
    best_epoch : int
        Epoch (from 1) whose weights were restored.
    best_score : float
        Validation balanced accuracy of those weights.
    history : list of dict
        Per epoch: ``epoch``, mean training ``loss`` and ``val_balanced_accuracy``.
    stopped : str
        ``"early"`` or ``"completed"``.
    """

    best_epoch: int = 0
    best_score: float = -np.inf
    history: list[dict[str, float]] = field(default_factory=list)
    stopped: str = "completed"

    def update(self, epoch: int, score: float, patience: int) -> bool:
        """Book one scored epoch; True when its score is the best so far.

        After ``patience`` epochs without a better score (0: never) :attr:`stopped` becomes ``"early"``: the
        early-stopping rule of every network the comparison trains.

        Examples
        --------
        >>> result = TrainResult()
        >>> [result.update(epoch, score, patience=2) for epoch, score in enumerate([0.6, 0.7, 0.7, 0.65])]
        [True, True, False, False]
        >>> result.best_epoch, result.stopped
        (1, 'early')
        """
        if score > self.best_score:
            self.best_epoch, self.best_score = epoch, score
            return True
        if patience and epoch - self.best_epoch >= patience:
            self.stopped = "early"
        return False


@dataclass
class FairClassifier:
    """A trained classifier C with the encoder that turns rows into its inputs.

    Attributes
    ----------
    model : MLPClassifier
        The network.
    encoder : TabularEncoder
        The generator's encoder; lets :meth:`predict_proba` take data frames.
    ratio : float or None
        Real share of the fine-tuning batches (None: trained on real rows only, no pre-training).
    """

    model: MLPClassifier
    encoder: TabularEncoder
    ratio: float | None = None

    def predict_proba(self, x: np.ndarray | pd.DataFrame) -> np.ndarray:
        """Probability of the favourable label for encoded rows or a data frame in the original schema."""
        encoded = self.encoder.transform(x) if isinstance(x, pd.DataFrame) else x
        return predict(self.model, encoded)

    def predict(self, x: np.ndarray | pd.DataFrame, threshold: float = 0.5) -> np.ndarray:
        """0/1 predictions (1 = favourable)."""
        return (self.predict_proba(x) >= threshold).astype(np.int64)


# -- small helpers ---------------------------------------------------------------------------------
def check_ratio(ratio: float) -> float:
    """The real share of a fine-tuning batch, validated.

    Examples
    --------
    >>> check_ratio(0.5)
    0.5
    """
    if not 0.0 <= float(ratio) <= 1.0:
        raise FairGenError(f"the real:synthetic ratio must be in [0, 1] (1 = only real rows), got {ratio}.")
    return float(ratio)


def balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """(TPR + TNR) / 2 of 0/1 predictions; the mean of the defined rates when a class is absent.

    Examples
    --------
    >>> balanced_accuracy(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0]))
    0.75
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    rates = [float(np.mean(y_pred[y_true == c] == c)) for c in (0, 1) if (y_true == c).any()]
    return float(np.mean(rates)) if rates else float("nan")


def _device_of(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def predict(classifier: MLPClassifier, x: ArrayLike) -> np.ndarray:
    """Probabilities of the favourable label, computed in eval mode without gradients."""
    classifier.eval()
    xb = torch.as_tensor(x, dtype=torch.float32, device=_device_of(classifier))
    return torch.sigmoid(classifier(xb)).cpu().numpy()


# -- batches -----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Batch:
    """One training batch: real rows first, then synthetic pairs.

    Attributes
    ----------
    x, y : torch.Tensor
        Float features and float 0/1 labels.
    weight : torch.Tensor or None
        Per-row loss weights (None: all 1).
    n_real : int
        Rows ``[0, n_real)`` are real, the rest synthetic pairs.
    n_matched : int
        Real row ``i`` and pair row ``n_real + i`` are a row and its own pair for ``i < n_matched``.
    """

    x: torch.Tensor
    y: torch.Tensor
    weight: torch.Tensor | None = None
    n_real: int = 0
    n_matched: int = 0


def mixed_batches(x_real: ArrayLike, y_real: ArrayLike, x_pairs: ArrayLike, y_pairs: ArrayLike, ratio: float,
                  batch_size: int, generator: np.random.Generator, *, sample_weight: ArrayLike | None = None,
                  pair_weight: ArrayLike | None = None) -> Iterator[Batch]:
    """One epoch of shuffled batches, ``round(ratio * size)`` real rows and the rest synthetic pairs each.

    An epoch has as many rows as the larger of the two sets. When there is one pair per real row
    (``x_pairs[i]`` is the pair of ``x_real[i]``), both are walked in one random order of the rows, so a
    batch holds real rows together with their own pairs (:attr:`Batch.n_matched` of them); otherwise each
    set is walked in its own random order (cycled when it is the smaller one).

    Parameters
    ----------
    x_real, y_real : array or tensor
        Encoded real rows and their 0/1 labels.
    x_pairs, y_pairs : array or tensor
        Their synthetic counterparts and the pairs' labels.
    ratio : float
        Real share per batch in [0, 1]: 1 only real rows, 0 only synthetic pairs.
    batch_size : int
        Rows per batch (the last one may be smaller).
    generator : numpy.random.Generator
        Source of the shuffling.
    sample_weight : array or tensor, optional
        Loss weight of each real row (e.g. reweighing or :func:`domain_weights`); the shuffling is the same
        with or without weights.
    pair_weight : array or tensor, optional
        Loss weight of each synthetic pair.

    Yields
    ------
    Batch
        On the device of ``x_real``; weights only when either weight is given.

    Examples
    --------
    >>> real, pairs = np.zeros((8, 1), np.float32), np.ones((8, 1), np.float32)
    >>> labels = np.zeros(8)
    >>> [int(b.x.sum()) for b in mixed_batches(real, labels, pairs, labels, 0.25, 4, np.random.default_rng(0))]
    [3, 3]
    >>> ids = np.arange(8, dtype=np.float32)[:, None]  # a row and its own pair share the batch
    >>> b = next(mixed_batches(ids, labels, ids + 100, labels, 0.5, 4, np.random.default_rng(0)))
    >>> (b.x[2:, 0] - b.x[:2, 0]).tolist(), b.n_matched
    ([100.0, 100.0], 2)
    """
    ratio = check_ratio(ratio)
    x_real, y_real = torch.as_tensor(x_real, dtype=torch.float32), torch.as_tensor(y_real, dtype=torch.float32)
    x_pairs = torch.as_tensor(x_pairs, dtype=torch.float32, device=x_real.device)
    y_pairs = torch.as_tensor(y_pairs, dtype=torch.float32, device=x_real.device)
    weighted = sample_weight is not None or pair_weight is not None
    w_real, w_pairs = (torch.ones(len(x), device=x_real.device) if w is None
                       else torch.as_tensor(w, dtype=torch.float32, device=x_real.device)
                       for x, w in ((x_real, sample_weight), (x_pairs, pair_weight)))
    for real, pairs, matched in batch_rows(len(x_real), len(x_pairs), ratio, batch_size, generator):
        real_idx, pair_idx = (torch.as_tensor(rows, device=x_real.device) for rows in (real, pairs))
        yield Batch(torch.cat([x_real[real_idx], x_pairs[pair_idx]]), torch.cat([y_real[real_idx], y_pairs[pair_idx]]),
                    torch.cat([w_real[real_idx], w_pairs[pair_idx]]) if weighted else None, len(real), matched)


def batch_rows(n_real: int, n_pairs: int, ratio: float, batch_size: int,
               generator: np.random.Generator) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
    """One epoch of :func:`mixed_batches` as row positions: ``(real rows, pair rows, matched)`` per batch.

    ``matched`` counts the real rows whose own pairs are in the batch (at the same positions of both lists).

    Examples
    --------
    >>> [(r.tolist(), p.tolist(), m) for r, p, m in batch_rows(4, 4, 0.5, 2, np.random.default_rng(0))]
    [([2], [2], 1), ([0], [0], 1)]
    """
    n = max(n_real, n_pairs)
    paired = n_real == n_pairs and n_real > 0
    real_order = generator.permutation(max(n_real, 1))
    pair_order = real_order if paired else generator.permutation(max(n_pairs, 1))
    used_real = used_pairs = 0
    for start in range(0, n, batch_size):
        size = min(batch_size, n - start)
        k = int(np.floor(ratio * size + 0.5))
        real = real_order[np.arange(used_real, used_real + k) % len(real_order)]
        pairs = pair_order[np.arange(used_pairs, used_pairs + size - k) % len(pair_order)]
        if paired:
            used_real = used_pairs = used_real + max(k, size - k)
        else:
            used_real, used_pairs = used_real + k, used_pairs + size - k
        yield real, pairs, min(k, size - k) if paired else 0


# -- the generic loop --------------------------------------------------------------------------------
#: Called after every epoch (and, when asked, before the first) with the network and the epoch number.
EpochHook = Callable[[MLPClassifier, int], Any]


def recording(recorder: Any, x_val: ArrayLike, x_test: ArrayLike, **chosen: float) -> EpochHook:
    """An :data:`EpochHook` that hands every epoch's validation and test probabilities to ``recorder``.

    ``recorder`` is an :class:`~fairgen_core.classifier.selection.EpochRecorder`; each epoch is recorded as a
    candidate described by ``epoch`` and ``chosen``.
    """
    return lambda model, epoch: recorder.record(predict(model, x_val), predict(model, x_test), epoch=epoch, **chosen)


def train_classifier(model: MLPClassifier, batches_fn: Callable[[int], Iterable[Batch]], x_val: ArrayLike,
                     y_val: ArrayLike, config: ClassifierConfig, *,
                     callback: Callable[[dict[str, float]], Any] | None = None,
                     pos_weight: float | None = None, on_epoch: EpochHook | None = None,
                     from_epoch_zero: bool = False) -> TrainResult:
    """Adam on binary cross-entropy with logits; early stopping on the validation balanced accuracy.

    Parameters
    ----------
    model : MLPClassifier
        Trained in place and left with the weights of its best validation balanced accuracy (eval mode).
    batches_fn : callable
        ``batches_fn(epoch)`` gives the :class:`Batch` es of an epoch (epochs count from 1).
    x_val, y_val : array or tensor
        Encoded validation rows and their 0/1 labels (threshold 0.5).
    config : ClassifierConfig
        Learning rate, epochs, patience, seed and the weight of the pair-consistency term.
    callback : callable, optional
        Receives each epoch's history entry.
    pos_weight : float, optional
        Weight of the positive class in the loss (see :func:`positive_weight`).
    on_epoch : callable, optional
        ``on_epoch(model, epoch)`` after every epoch, e.g. an :class:`~fairgen_core.classifier.selection.
        EpochRecorder` turning epochs into candidates for the selection rule.
    from_epoch_zero : bool
        Score the untrained (e.g. pre-trained) weights as epoch 0 too: fine-tuning then starts from a
        candidate that keeps what pre-training gave.
    """
    torch.manual_seed(config.seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    y_val = np.asarray(torch.as_tensor(y_val).cpu())
    result = TrainResult()
    best_state = copy.deepcopy(model.state_dict())
    if from_epoch_zero:
        result.update(0, balanced_accuracy(y_val, (predict(model, x_val) >= 0.5).astype(np.int64)), config.patience)
        if on_epoch is not None:
            on_epoch(model, 0)
    for epoch in range(1, config.max_epochs + 1):
        loss = _train_epoch(model, optimiser, batches_fn(epoch), pos_weight, config.consistency)
        score = balanced_accuracy(y_val, (predict(model, x_val) >= 0.5).astype(np.int64))
        entry = {"epoch": float(epoch), "loss": loss, "val_balanced_accuracy": score}
        result.history.append(entry)
        if callback is not None:
            callback(entry)
        if on_epoch is not None:
            on_epoch(model, epoch)
        if result.update(epoch, score, config.patience):
            best_state = copy.deepcopy(model.state_dict())
        elif result.stopped == "early":
            break
    model.load_state_dict(best_state)
    model.eval()
    return result


def _train_epoch(model: MLPClassifier, optimiser: torch.optim.Optimizer, batches: Iterable[Batch],
                 pos_weight: float | None, consistency: float) -> float:
    model.train()
    weight = None if pos_weight is None else torch.tensor(pos_weight, device=_device_of(model))
    losses = []
    for batch in batches:
        if len(batch.x) == 0:
            continue
        logits = model(batch.x)
        loss = fn.binary_cross_entropy_with_logits(logits, batch.y, weight=batch.weight, pos_weight=weight)
        if consistency and batch.n_matched:
            loss = loss + consistency * pair_consistency(logits, batch.n_real, batch.n_matched)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    return float(np.mean(losses)) if losses else float("nan")


def pair_consistency(logits: torch.Tensor, n_real: int, n_matched: int) -> torch.Tensor:
    """Mean squared difference of C's probabilities for a row and its own pair (the first ``n_matched``).

    Examples
    --------
    >>> float(pair_consistency(torch.tensor([0.0, 0.0, 0.0, 100.0]), n_real=2, n_matched=2))
    0.125
    """
    probability = torch.sigmoid(logits)
    return (probability[:n_matched] - probability[n_real:n_real + n_matched]).pow(2).mean()


def _fit(model: MLPClassifier, x: ArrayLike, y: ArrayLike, x_pairs: ArrayLike, y_pairs: ArrayLike, ratio: float,
         x_val: ArrayLike, y_val: ArrayLike, config: ClassifierConfig, *, sample_weight: ArrayLike | None = None,
         pair_weight: ArrayLike | None = None, on_epoch: EpochHook | None = None,
         from_epoch_zero: bool = False) -> MLPClassifier:
    """Move everything to the device and run :func:`train_classifier` on mixed batches (real rows and pairs
    weighted by ``sample_weight`` and ``pair_weight`` when given)."""
    device = resolve_device(config.device)
    model.to(device)
    batches, weight = fit_batches(x, y, x_pairs, y_pairs, ratio, config, device, sample_weight=sample_weight,
                                  pair_weight=pair_weight)
    train_classifier(model, batches, torch.as_tensor(x_val, device=device), y_val, config, pos_weight=weight,
                     on_epoch=on_epoch, from_epoch_zero=from_epoch_zero)
    return model


def fit_batches(x: ArrayLike, y: ArrayLike, x_pairs: ArrayLike, y_pairs: ArrayLike, ratio: float,
                config: ClassifierConfig, device: torch.device, *, sample_weight: ArrayLike | None = None,
                pair_weight: ArrayLike | None = None) -> tuple[Callable[[int], Iterable[Batch]], float | None]:
    """The epochs of :func:`mixed_batches` a network trains on (shuffled from ``config.seed``) and its class weight.

    Returns
    -------
    (callable, float or None)
        ``batches(epoch)`` on ``device``, and :func:`positive_weight` of the mix when ``config.balance_classes``.
    """
    x, y, x_pairs, y_pairs = (torch.as_tensor(a, device=device) for a in (x, y, x_pairs, y_pairs))
    rng = np.random.default_rng(config.seed)
    weight = positive_weight(y, y_pairs, ratio, sample_weight, pair_weight) if config.balance_classes else None
    return (lambda _epoch: mixed_batches(x, y, x_pairs, y_pairs, ratio, config.batch_size, rng,
                                         sample_weight=sample_weight, pair_weight=pair_weight)), weight


def positive_weight(y_real: ArrayLike, y_pairs: ArrayLike, ratio: float, w_real: ArrayLike | None = None,
                    w_pairs: ArrayLike | None = None) -> float | None:
    """Negatives / positives in the expected (weighted) batch mix (None when a class is missing from it).

    Examples
    --------
    >>> positive_weight(np.array([1, 1, 1, 0]), np.array([0, 1]), 0.5)  # 62.5% positives
    0.6
    >>> positive_weight(np.array([1, 1, 1, 0]), np.array([0, 1]), 1.0, w_real=np.array([1, 1, 1, 3]))
    1.0
    """
    def positive_share(y: ArrayLike, w: ArrayLike | None) -> float:
        y = np.asarray(torch.as_tensor(y, dtype=torch.float64).cpu())
        w = np.ones_like(y) if w is None else np.asarray(torch.as_tensor(w, dtype=torch.float64).cpu())
        return float((y * w).sum() / w.sum())

    share = ratio * positive_share(y_real, w_real) if ratio > 0 else 0.0
    if ratio < 1:
        share += (1 - ratio) * positive_share(y_pairs, w_pairs)
    return (1 - share) / share if 0 < share < 1 else None


def domain_weights(domains: ArrayLike) -> np.ndarray:
    """Per-row weights that give every (group, label) domain present the same total weight (mean weight 1).

    Training with them is training on the paper's "balanced real data" without discarding rows.

    Examples
    --------
    >>> domain_weights(np.array([0, 0, 0, 1])).tolist()
    [0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 2.0]
    """
    domains = np.asarray(domains, dtype=np.int64)
    counts = np.bincount(domains)
    present = int((counts > 0).sum())
    return (len(domains) / (present * counts[domains])).astype(np.float64)


# -- the paper's transfer learning -------------------------------------------------------------------
def balanced_synthetic(generator: FairGenerator, per_domain: int, seed: int) -> tuple[np.ndarray, np.ndarray,
                                                                                     np.ndarray]:
    """Exactly ``per_domain`` synthetic rows in every (group, label) domain, shuffled: the rows the generator
    exports (kept to the data's structure), encoded.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Encoded rows, labels (``domain % 2``) and domains.
    """
    x, domains = generator.sample_encoded([per_domain] * generator.n_domains, seed=seed)
    return x.astype(np.float32), (domains % 2).astype(np.int64), domains.astype(np.int64)


def synthetic_pairs(generator: FairGenerator, x: np.ndarray, domains: np.ndarray, seed: int, *,
                    pairs: PairProtocol = "counterfactual") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each real row translated to another group: its synthetic pair.

    ``counterfactual`` pairs keep the row's label (target = other group, same label); ``paper`` pairs flip
    the label at random, as the paper's translator targets do. Either way a pair is labelled with its target
    domain's label, which for counterfactual pairs is the source row's own label.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Encoded translations x_g (kept to the data's structure, as exported pairs are), their labels
        (``target % 2``) and their target domains.
    """
    targets = generator.paired_targets(domains, seed=seed, pairs=pairs).astype(np.int64)
    return generator.pairs_encoded(x, targets, seed=seed), targets % 2, targets


def pretrain(generator: FairGenerator, x_val: ArrayLike, y_val: ArrayLike, config: ClassifierConfig) -> MLPClassifier:
    """C trained on balanced synthetic rows until the REAL validation rows' balanced accuracy stops improving."""
    x, y, _ = balanced_synthetic(generator, config.pretrain_rows_per_domain, config.seed)
    model = MLPClassifier.from_config(x.shape[1], config)
    return _fit(model, x, y, x, y, 1.0, x_val, y_val, config)


def finetune(classifier: MLPClassifier, x_real: ArrayLike, y_real: ArrayLike, x_pairs: ArrayLike, y_pairs: ArrayLike,
             x_val: ArrayLike, y_val: ArrayLike, *, ratio: float, config: ClassifierConfig,
             sample_weight: ArrayLike | None = None, pair_weight: ArrayLike | None = None,
             on_epoch: EpochHook | None = None) -> MLPClassifier:
    """A copy of ``classifier`` trained further on batches with a real share ``ratio`` (rest: synthetic pairs).

    The learning rate is ``config.lr * config.finetune_lr_scale``; the pre-trained weights are scored as
    epoch 0, so a selection rule can keep them. ``sample_weight`` and ``pair_weight`` scale the loss of real
    rows and pairs (see :func:`domain_weights`); ``on_epoch`` sees every epoch, 0 included.

    Raises
    ------
    FairGenError
        If ``ratio`` is outside [0, 1].
    """
    ratio = check_ratio(ratio)
    tuned = replace(config, lr=config.lr * config.finetune_lr_scale)
    return _fit(copy.deepcopy(classifier), x_real, y_real, x_pairs, y_pairs, ratio, x_val, y_val, tuned,
                sample_weight=sample_weight, pair_weight=pair_weight, on_epoch=on_epoch, from_epoch_zero=True)


def train_real_only(x_train: ArrayLike, y_train: ArrayLike, x_val: ArrayLike, y_val: ArrayLike,
                    config: ClassifierConfig, *, sample_weight: ArrayLike | None = None,
                    on_epoch: EpochHook | None = None) -> MLPClassifier:
    """The "no TL" baseline: the same network trained on real rows only, without pre-training.

    ``sample_weight`` (one per training row, optional) scales each row's loss, e.g. reweighing weights; the
    class balancing of ``config.balance_classes`` uses the weighted label shares. ``on_epoch`` sees every epoch.
    """
    model = MLPClassifier.from_config(int(np.shape(x_train)[1]), config)
    return _fit(model, x_train, y_train, x_train, y_train, 1.0, x_val, y_val, config, sample_weight=sample_weight,
                on_epoch=on_epoch)


def encode_rows(generator: FairGenerator, frame: pd.DataFrame,
                rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Encoded features, 0/1 labels and domains of ``frame.iloc[rows]`` (label and sensitive columns excluded)."""
    assignment = assign_domains(frame, generator.spec)
    if not assignment.valid[rows].all():
        raise FairGenError("some rows have a missing label or sensitive value: drop them or use a domain split.")
    x = generator.encoder.transform(frame.iloc[rows])
    return x, assignment.label[rows].astype(np.int64), assignment.domain[rows].astype(np.int64)


def downsampled_rows(domains: ArrayLike, seed: int) -> np.ndarray:
    """Positions of a random subset with as many rows in every domain present as in the smallest one.

    The paper's down-sampling ablation: "discarding samples that exceed the number of the smallest group".

    Examples
    --------
    >>> rows = downsampled_rows(np.array([0, 0, 0, 1, 1, 2]), seed=0)
    >>> np.bincount(np.array([0, 0, 0, 1, 1, 2])[rows]).tolist()
    [1, 1, 1]
    """
    domains = np.asarray(domains, dtype=np.int64)
    present = np.unique(domains)
    smallest = min(int((domains == d).sum()) for d in present)
    rng = np.random.default_rng(seed)
    return np.sort(np.concatenate([rng.choice(np.flatnonzero(domains == d), smallest, replace=False)
                                   for d in present]))


def balanced_weights(config: ClassifierConfig, *domains: np.ndarray) -> list[np.ndarray | None]:
    """:func:`domain_weights` of each array of domains when ``config.balance_domains``, else None for each."""
    return [domain_weights(d) if config.balance_domains else None for d in domains]


class _SelectedWeights:
    """An :data:`EpochHook` that records every epoch (weights kept) and restores the one a rule chooses."""

    def __init__(self, validation: Validation, x_val: ArrayLike) -> None:
        self.validation, self.x_val = validation, x_val
        self.recorder: EpochRecorder | None = None

    def __call__(self, model: MLPClassifier, epoch: int) -> None:
        if self.recorder is None:  # the network trained in place: known at its first epoch
            self.recorder = EpochRecorder(self.validation, [model], keep_states=True)
        probability = predict(model, self.x_val)
        self.recorder.record(probability, probability, epoch=epoch)  # no test rows: the choice needs none

    def restore(self, model: MLPClassifier, rule: str) -> MLPClassifier:
        """Load the weights ``rule`` chooses (:func:`~fairgen_core.classifier.selection.select`) into ``model``."""
        if self.recorder is not None:
            self.recorder.restore(select(self.recorder.candidates, rule))
        return model


def _validation(generator: FairGenerator, frame: pd.DataFrame, split: Split) -> tuple[np.ndarray, np.ndarray,
                                                                                   Validation]:
    x_val, y_val, d_val = encode_rows(generator, frame, split.val)
    group_names = tuple(assign_domains(frame, generator.spec).group_names)
    return x_val, y_val, Validation(y_val, d_val // 2, group_names)


def fit_fair_classifier(generator: FairGenerator, frame: pd.DataFrame, split: Split, *, ratio: float = 0.5,
                        config: ClassifierConfig | None = None, pretrained: MLPClassifier | None = None,
                        selection: str = DEFAULT_SELECTION) -> FairClassifier:
    """Pre-train on balanced synthetic rows (unless ``pretrained`` is given), then fine-tune at ``ratio``.

    Parameters
    ----------
    generator : FairGenerator
        The fitted translator; its encoder and spec define the features, labels and domains.
    frame : pandas.DataFrame
        The whole table; ``split`` selects the training and validation rows.
    split : Split
        Train/validation/test rows (the test rows are not touched).
    ratio : float
        Real share of the fine-tuning batches (paper default 0.5).
    config : ClassifierConfig, optional
        Defaults to ``ClassifierConfig()``.
    pretrained : MLPClassifier, optional
        A pre-trained C to reuse (a ratio sweep pre-trains once); it is copied, not modified.
    selection : {"fair", "accuracy"}
        The rule that chooses the fine-tuning epoch (0: the pre-trained C) on the validation rows.
    """
    ratio, config = check_ratio(ratio), config or ClassifierConfig()
    x_train, y_train, d_train = encode_rows(generator, frame, split.train)
    x_val, y_val, validation = _validation(generator, frame, split)
    x_pairs, y_pairs, d_pairs = synthetic_pairs(generator, x_train, d_train, config.seed, pairs=config.pairs)
    w_real, w_pairs = balanced_weights(config, d_train, d_pairs)
    base = pretrained if pretrained is not None else pretrain(generator, x_val, y_val, config)
    weights = _SelectedWeights(validation, x_val)
    model = finetune(base, x_train, y_train, x_pairs, y_pairs, x_val, y_val, ratio=ratio, config=config,
                     sample_weight=w_real, pair_weight=w_pairs, on_epoch=weights)
    return FairClassifier(weights.restore(model, selection), generator.encoder, ratio)


def fit_baseline(generator: FairGenerator, frame: pd.DataFrame, split: Split, *,
                 config: ClassifierConfig | None = None, selection: str = DEFAULT_SELECTION) -> FairClassifier:
    """The "no TL" reference on the same encoded features: real training rows only (domain-balanced when
    ``config.balance_domains``), no pre-training; the epoch chosen by ``selection`` on the validation rows."""
    config = config or ClassifierConfig()
    x_train, y_train, d_train = encode_rows(generator, frame, split.train)
    x_val, y_val, validation = _validation(generator, frame, split)
    (w_real,) = balanced_weights(config, d_train)
    weights = _SelectedWeights(validation, x_val)
    model = train_real_only(x_train, y_train, x_val, y_val, config, sample_weight=w_real, on_epoch=weights)
    return FairClassifier(weights.restore(model, selection), generator.encoder, None)
