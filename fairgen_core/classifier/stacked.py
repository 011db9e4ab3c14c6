"""Many copies of the network C trained in lock-step: one stacked forward, backward and Adam step for all.

A sweep or a comparison trains a dozen small networks on the same rows; one at a time, each Adam step of a
64-unit network on 256 rows costs ≈ 2 ms, almost all of it per-operator overhead (``docs/benchmarks.md``).
:func:`train_stack` trains them together instead: the parameters of every network are rows of one matrix,
each step gathers every network's batch from one table of rows and runs one batched matrix product per layer
and one Adam update for all of them. Each network keeps everything
:func:`~fairgen_core.classifier.training.train_classifier` gives it — its starting weights, its shuffling
(:func:`~fairgen_core.classifier.training.batch_rows` from its seed), learning rate, class weight, dropout
masks (drawn from its own generator seeded as ``train_classifier`` seeds torch), Adam state, epochs scored on
the validation rows and early stopping — so a stack computes the same networks as training them one by one, up
to the rounding of batched arithmetic (tested), whatever else is in the stack. Networks that stop early leave it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as fn

from fairgen_core.classifier.model import MLPClassifier, dropout_mask
from fairgen_core.classifier.selection import EpochRecorder
from fairgen_core.classifier.training import (
    ArrayLike,
    TrainResult,
    balanced_accuracy,
    balanced_synthetic,
    batch_rows,
    check_ratio,
    pair_consistency,
    positive_weight,
)
from fairgen_core.config import ClassifierConfig
from fairgen_core.devices import resolve_device
from fairgen_core.errors import FairGenError
from fairgen_core.generator.model import FairGenerator

#: Told after every epoch of one network of a stack (and at epoch 0 when it starts from a candidate):
#: ``(epoch, validation probabilities, test probabilities or None)``.
StackHook = Callable[[int, np.ndarray, "np.ndarray | None"], object]

_BETAS = (0.9, 0.999)
_EPS = 1e-8


@dataclass(frozen=True, eq=False)
class Rows:
    """Encoded rows, their 0/1 labels and optional loss weights: one source of a network's batches."""

    x: ArrayLike
    y: ArrayLike
    weight: ArrayLike | None = None

    def __len__(self) -> int:
        return len(self.x)


@dataclass(frozen=True, eq=False)
class StackJob:
    """One network of a stack: where it starts, what it trains on and how each epoch is scored.

    Attributes
    ----------
    model : MLPClassifier
        Starting weights (copied, never modified); every job of a stack has the same architecture.
    real, pairs : Rows
        The mixed batches' sources (:func:`~fairgen_core.classifier.training.mixed_batches`): a share ``ratio``
        of every batch from ``real``, the rest from ``pairs``.
    ratio : float
        Real share of a batch.
    x_val : array or tensor
        Encoded validation rows, scored after every epoch (balanced accuracy at 0.5 decides early stopping).
    config : ClassifierConfig
        Batch size, epochs, patience, consistency weight and the seed of the shuffling and the dropout masks.
    lr : float
        Adam learning rate.
    x_test : array or tensor, optional
        Encoded test rows whose probabilities are handed to ``on_epoch`` too (every job of a stack has them,
        or none).
    pos_weight : float, optional
        Weight of the positive class in the loss.
    from_epoch_zero : bool
        Score the starting weights as epoch 0 (a candidate, and the first best score).
    on_epoch : StackHook, optional
        Told each scored epoch's probabilities.
    keep_best : bool
        Return the network with the weights of its best validation balanced accuracy (as ``train_classifier``
        leaves it), in :attr:`StackResult.model`.
    """

    model: MLPClassifier
    real: Rows
    pairs: Rows
    ratio: float
    x_val: ArrayLike
    config: ClassifierConfig
    lr: float
    x_test: ArrayLike | None = None
    pos_weight: float | None = None
    from_epoch_zero: bool = False
    on_epoch: StackHook | None = None
    keep_best: bool = False


@dataclass(frozen=True, eq=False)
class StackResult:
    """What :func:`train_stack` did for one job: its :class:`TrainResult`, and its best network when kept."""

    result: TrainResult
    model: MLPClassifier | None = None


# -- jobs ----------------------------------------------------------------------------------------------------
def finetune_job(classifier: MLPClassifier, x_real: ArrayLike, y_real: ArrayLike, x_pairs: ArrayLike,
                 y_pairs: ArrayLike, x_val: ArrayLike, *, ratio: float, config: ClassifierConfig,
                 x_test: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
                 pair_weight: ArrayLike | None = None, on_epoch: StackHook | None = None) -> StackJob:
    """What :func:`~fairgen_core.classifier.training.finetune` trains, as a job of a stack (epoch 0 scored).

    Raises
    ------
    FairGenError
        If ``ratio`` is outside [0, 1].
    """
    return _job(classifier, Rows(x_real, y_real, sample_weight), Rows(x_pairs, y_pairs, pair_weight),
                check_ratio(ratio), x_val, config, config.lr * config.finetune_lr_scale, x_test=x_test,
                on_epoch=on_epoch, from_epoch_zero=True)


def real_only_job(x_train: ArrayLike, y_train: ArrayLike, x_val: ArrayLike, config: ClassifierConfig, *,
                  x_test: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
                  on_epoch: StackHook | None = None) -> StackJob:
    """What :func:`~fairgen_core.classifier.training.train_real_only` trains, as a job of a stack."""
    model = MLPClassifier.from_config(int(np.shape(x_train)[1]), config)
    rows = Rows(x_train, y_train, sample_weight)
    return _job(model, rows, rows, 1.0, x_val, config, config.lr, x_test=x_test, on_epoch=on_epoch)


def pretrain_stack(generator: FairGenerator, x_val: ArrayLike, y_val: ArrayLike,
                   configs: Sequence[ClassifierConfig]) -> list[MLPClassifier]:
    """:func:`~fairgen_core.classifier.training.pretrain` for every config (e.g. one seed per repetition), in one stack.

    Returns
    -------
    list of MLPClassifier
        Per config, C with the weights of its best validation balanced accuracy on the real validation rows.
    """
    jobs = []
    for config in configs:
        x, y, _ = balanced_synthetic(generator, config.pretrain_rows_per_domain, config.seed)
        rows = Rows(x, y)
        jobs.append(_job(MLPClassifier.from_config(x.shape[1], config), rows, rows, 1.0, x_val, config, config.lr,
                         keep_best=True))
    return [outcome.model for outcome in train_stack(jobs, y_val, device=resolve_device(configs[0].device))]


def stack_recording(recorder: EpochRecorder, **chosen: float) -> StackHook:
    """A :data:`StackHook` that hands every epoch's probabilities to an :class:`~fairgen_core.classifier.selection.
    EpochRecorder` as a candidate described by ``epoch`` and ``chosen``."""
    return lambda epoch, val_p, test_p: recorder.record(val_p, test_p, epoch=epoch, **chosen)


def _job(model: MLPClassifier, real: Rows, pairs: Rows, ratio: float, x_val: ArrayLike, config: ClassifierConfig,
         lr: float, *, x_test: ArrayLike | None = None, on_epoch: StackHook | None = None,
         from_epoch_zero: bool = False, keep_best: bool = False) -> StackJob:
    pos_weight = (positive_weight(real.y, pairs.y, ratio, real.weight, pairs.weight) if config.balance_classes
                  else None)
    return StackJob(model, real, pairs, ratio, x_val, config, lr, x_test=x_test, pos_weight=pos_weight,
                    from_epoch_zero=from_epoch_zero, on_epoch=on_epoch, keep_best=keep_best)


# -- the stack -----------------------------------------------------------------------------------------------
class _Parameters:
    """The running networks' parameters: one row per network of a ``(networks, parameters)`` leaf tensor."""

    def __init__(self, models: Sequence[MLPClassifier], device: torch.device) -> None:
        linears = [models[0].net[i] for i in (0, 3, 6)]
        self.shapes = [s for layer in linears for s in ((layer.in_features, layer.out_features), (layer.out_features,))]
        self.sizes = [int(np.prod(shape)) for shape in self.shapes]
        self.flat = torch.stack([self._flatten(m) for m in models]).to(device).requires_grad_(True)

    @staticmethod
    def _flatten(model: MLPClassifier) -> torch.Tensor:
        return torch.cat([t.detach().reshape(-1) for i in (0, 3, 6)
                          for t in (model.net[i].weight.T, model.net[i].bias)])

    def keep(self, rows: torch.Tensor) -> None:
        """Drop every network but ``rows``."""
        self.flat = self.flat.detach()[rows].requires_grad_(True)

    def network(self, position: int) -> torch.Tensor:
        """A copy of the parameters of the network at ``position``."""
        return self.flat.detach()[position].clone()

    def unflatten(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """``flat`` (networks × parameters, or one network's) as weight and bias views, layer by layer."""
        return [part.unflatten(-1, shape) for part, shape in zip(flat.split(self.sizes, dim=-1), self.shapes)]

    def logits(self, x: torch.Tensor, masks: torch.Tensor | None = None) -> torch.Tensor:
        """``(networks, rows)`` logits of ``x``: ``(networks, rows, in)``, or ``(rows, in)`` shared by every network.

        ``masks`` (``(2, networks, rows, hidden)``) multiplies the two hidden layers (dropout).
        """
        w1, b1, w2, b2, w3, b3 = self.unflatten(self.flat)
        h = torch.relu(torch.matmul(x, w1) + b1[:, None])
        if masks is not None:
            h = h * masks[0]
        h = torch.relu(torch.baddbmm(b2[:, None], h, w2))
        if masks is not None:
            h = h * masks[1]
        return torch.baddbmm(b3[:, None], h, w3).squeeze(-1)


class _Adam:
    """Adam (torch's formula) with one learning rate and one step count per network; only networks that trained a
    batch step."""

    def __init__(self, flat: torch.Tensor, lr: Sequence[float]) -> None:
        self.lr = np.asarray(lr, dtype=np.float64)
        self.steps = np.zeros(len(self.lr), dtype=np.int64)
        self.m, self.v = torch.zeros_like(flat), torch.zeros_like(flat)

    def keep(self, rows: torch.Tensor) -> None:
        """Drop the state of every network but ``rows``."""
        kept = rows.cpu().numpy()
        self.lr, self.steps = self.lr[kept], self.steps[kept]
        self.m, self.v = self.m[rows], self.v[rows]

    @torch.no_grad()
    def step(self, flat: torch.Tensor, active: np.ndarray) -> None:
        """One update of the networks marked in ``active``."""
        beta1, beta2 = _BETAS
        self.steps += active
        steps = np.maximum(self.steps, 1)
        column = {"dtype": flat.dtype, "device": flat.device}
        step_size = torch.as_tensor(self.lr / (1 - beta1 ** steps), **column)[:, None]
        correction = torch.as_tensor(np.sqrt(1 - beta2 ** steps), **column)[:, None]
        grad = flat.grad
        if active.all():
            self.m.lerp_(grad, 1 - beta1)
            self.v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            flat.sub_(self.m / (self.v.sqrt() / correction).add_(_EPS) * step_size)
            return
        on = torch.as_tensor(active, device=flat.device)[:, None]
        self.m.copy_(torch.where(on, self.m.lerp(grad, 1 - beta1), self.m))
        self.v.copy_(torch.where(on, self.v * beta2 + (1 - beta2) * grad * grad, self.v))
        flat.sub_(torch.where(on, self.m / (self.v.sqrt() / correction).add_(_EPS) * step_size, 0.0))


class _Table:
    """Every job's row sources in one table on the device, each source stored once however many jobs share it."""

    def __init__(self, jobs: Sequence[StackJob], device: torch.device) -> None:
        self.offsets: dict[int, int] = {}
        xs, ys, ws = [], [], []
        for source in (s for j in jobs for s in (j.real, j.pairs)):
            if id(source) not in self.offsets:
                self.offsets[id(source)] = sum(len(x) for x in xs)
                xs.append(torch.as_tensor(source.x, dtype=torch.float32, device=device))
                ys.append(torch.as_tensor(source.y, dtype=torch.float32, device=device))
                ws.append(torch.ones(len(source), device=device) if source.weight is None
                          else torch.as_tensor(source.weight, dtype=torch.float32, device=device))
        self.x, self.y, self.weight = torch.cat(xs), torch.cat(ys), torch.cat(ws)
        self.device = device

    def rows(self, job: StackJob, real: np.ndarray, pairs: np.ndarray) -> np.ndarray:
        """Table positions of a batch: the real rows, then the pairs."""
        return np.concatenate([real + self.offsets[id(job.real)], pairs + self.offsets[id(job.pairs)]])


@dataclass
class _Running:
    """Book-keeping of one network while it trains."""

    job: StackJob
    generator: torch.Generator
    shuffle: np.random.Generator
    x_val: torch.Tensor
    x_test: torch.Tensor | None
    result: TrainResult = field(default_factory=TrainResult)
    batches: Iterator[tuple[np.ndarray, np.ndarray, int]] | None = None
    loss_sum: float = 0.0
    n_steps: int = 0
    best: torch.Tensor | None = None


class _Converted:
    """Scored rows as tensors on the device, converted once per array however many jobs share it."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.seen = device, {}

    def __call__(self, rows: ArrayLike) -> torch.Tensor:
        if id(rows) not in self.seen:
            self.seen[id(rows)] = (rows, torch.as_tensor(rows, dtype=torch.float32, device=self.device))
        return self.seen[id(rows)][1]


def train_stack(jobs: Sequence[StackJob], y_val: ArrayLike, *, device: torch.device | str = "cpu",
                on_done: Callable[[int, TrainResult], object] | None = None) -> list[StackResult]:
    """Train every job's network in one stack; each one as :func:`~fairgen_core.classifier.training.train_classifier`.

    Parameters
    ----------
    jobs : sequence of StackJob
        The networks (one shape and dropout); each with its own data, learning rate and seed.
    y_val : array or tensor
        0/1 labels of the validation rows every job scores.
    device : torch.device or str
        Where the stack trains (the jobs' rows are moved there).
    on_done : callable, optional
        ``on_done(job index, result)`` as soon as a network stops (early or at its last epoch).

    Returns
    -------
    list of StackResult
        Per job, in order: the epoch and score of its best validation balanced accuracy, its history and how it
        stopped, and the best network for jobs with ``keep_best`` (the jobs' ``on_epoch`` hooks see every epoch).

    Raises
    ------
    FairGenError
        If the jobs' networks differ in shape or dropout, or only some jobs have test rows.
    """
    if not jobs:
        return []
    if len({(j.model.n_features, j.model.net[0].out_features, j.model.net[2].p) for j in jobs}) > 1:
        raise FairGenError("a stack trains networks of one shape and dropout.")
    if len({j.x_test is None for j in jobs}) > 1:
        raise FairGenError("either every job of a stack scores test rows or none does.")
    device = torch.device(device)
    y_val = np.asarray(torch.as_tensor(y_val).cpu())
    table, converted = _Table(jobs, device), _Converted(device)
    params = _Parameters([j.model for j in jobs], device)
    adam = _Adam(params.flat, [j.lr for j in jobs])
    running = [_Running(j, torch.Generator(device=device).manual_seed(int(j.config.seed)),
                        np.random.default_rng(j.config.seed), converted(j.x_val),
                        None if j.x_test is None else converted(j.x_test)) for j in jobs]
    everyone = list(running)
    for position, r in enumerate(running):
        if r.job.keep_best:
            r.best = params.network(position)
    starting = [r for r in running if r.job.from_epoch_zero]
    if starting:
        _score(params, running, starting, y_val, epoch=0)
    for epoch in range(1, max(j.config.max_epochs for j in jobs) + 1):
        for r in running:
            r.batches = batch_rows(len(r.job.real), len(r.job.pairs), r.job.ratio, r.job.config.batch_size, r.shuffle)
            r.loss_sum, r.n_steps = 0.0, 0
        while _step(params, adam, table, running):
            pass
        _score(params, running, running, y_val, epoch=epoch)
        stopped = [r for r in running if r.result.stopped == "early" or epoch >= r.job.config.max_epochs]
        for r in stopped:
            if on_done is not None:
                on_done(everyone.index(r), r.result)
        if stopped:
            kept = torch.as_tensor([i for i, r in enumerate(running) if r not in stopped], device=device,
                                   dtype=torch.long)
            running = [r for r in running if r not in stopped]
            if not running:
                break
            params.keep(kept)
            adam.keep(kept)
    return [StackResult(r.result, None if r.best is None else _network(r.job.model, params, r.best))
            for r in everyone]


def _network(like: MLPClassifier, params: _Parameters, flat: torch.Tensor) -> MLPClassifier:
    """A copy of ``like`` holding one network's parameters, in eval mode."""
    model = copy.deepcopy(like).to(flat.device)
    with torch.no_grad():
        parts = params.unflatten(flat)
        for index, weight, bias in zip((0, 3, 6), parts[0::2], parts[1::2]):
            model.net[index].weight.copy_(weight.T)
            model.net[index].bias.copy_(bias)
    return model.eval()


def _step(params: _Parameters, adam: _Adam, table: _Table, running: list[_Running]) -> bool:
    """One batch of every network that has one left this epoch; False when none had."""
    drawn: list[tuple[np.ndarray, np.ndarray, int] | None] = []
    for r in running:
        batch = None
        while r.batches is not None:
            batch = next(r.batches, None)
            if batch is None:
                r.batches = None
            elif len(batch[0]) + len(batch[1]):
                break
        drawn.append(batch)
    active = np.array([b is not None for b in drawn])
    if not active.any():
        return False
    sizes = [0 if b is None else len(b[0]) + len(b[1]) for b in drawn]
    width = max(sizes)
    positions = np.zeros((len(drawn), width), dtype=np.int64)
    valid = np.zeros((len(drawn), width), dtype=np.float32)
    for i, (b, r) in enumerate(zip(drawn, running)):
        if b is not None:
            positions[i, :sizes[i]] = table.rows(r.job, b[0], b[1])
            valid[i, :sizes[i]] = 1.0
    rows = torch.as_tensor(positions, device=table.device)
    x, y = table.x[rows], table.y[rows]
    row_weight = table.weight[rows] * torch.as_tensor(valid, device=table.device)
    logits = params.logits(x, _masks(running, drawn, sizes, width, params))
    pos_weight = torch.as_tensor([[1.0 if r.job.pos_weight is None else r.job.pos_weight] for r in running],
                                 dtype=torch.float32, device=table.device)
    per_row = fn.binary_cross_entropy_with_logits(logits, y, weight=row_weight, pos_weight=pos_weight,
                                                  reduction="none")
    losses = per_row.sum(dim=1) / torch.as_tensor([max(s, 1) for s in sizes], dtype=torch.float32,
                                                   device=table.device)
    if any(r.job.config.consistency for r in running):
        zero = torch.zeros((), device=table.device)
        losses = losses + torch.stack([
            r.job.config.consistency * pair_consistency(logits[i, :sizes[i]], len(b[0]), b[2])
            if b is not None and r.job.config.consistency and b[2] else zero
            for i, (b, r) in enumerate(zip(drawn, running))])
    params.flat.grad = None
    losses.sum().backward()
    adam.step(params.flat, active)
    values = losses.detach().cpu().numpy()
    for i, r in enumerate(running):
        if active[i]:
            r.loss_sum += float(values[i])
            r.n_steps += 1
    return True


def _masks(running: list[_Running], drawn: list[object], sizes: list[int], width: int,
           params: _Parameters) -> torch.Tensor | None:
    """Both hidden layers' dropout masks, ``(2, networks, rows, hidden)``, each network's from its own generator.

    A network draws ``(2, rows, hidden)`` uniforms: the two layers' masks in the order
    :class:`~fairgen_core.classifier.model.Dropout` draws them in a forward pass.
    """
    p = running[0].job.model.net[2].p
    if p == 0:
        return None
    hidden = params.shapes[0][1]
    device = params.flat.device
    uniform = [torch.rand((2, sizes[i], hidden), generator=r.generator, device=device) if b is not None else None
               for i, (b, r) in enumerate(zip(drawn, running))]
    if all(u is not None and u.shape[1] == width for u in uniform):
        return dropout_mask(torch.stack(uniform, dim=1), p)
    padded = torch.zeros((2, len(running), width, hidden), device=device)
    for i, u in enumerate(uniform):
        if u is not None:
            padded[:, i, :sizes[i]] = u
    return dropout_mask(padded, p)


@torch.no_grad()
def _score(params: _Parameters, stack: list[_Running], scored: list[_Running], y_val: np.ndarray, *,
           epoch: int) -> None:
    """Validation (and test) probabilities of the ``scored`` networks of ``stack``; early-stopping book-keeping."""
    val = _probabilities(params, [r.x_val for r in stack])
    test = None if stack[0].x_test is None else _probabilities(params, [r.x_test for r in stack])
    for r in scored:
        i = stack.index(r)
        score = balanced_accuracy(y_val, (val[i] >= 0.5).astype(np.int64))
        result = r.result
        if epoch > 0:
            result.history.append({"epoch": float(epoch), "val_balanced_accuracy": score,
                                   "loss": r.loss_sum / r.n_steps if r.n_steps else float("nan")})
        if r.job.on_epoch is not None:
            r.job.on_epoch(epoch, val[i], None if test is None else test[i])
        if result.update(epoch, score, r.job.config.patience) and r.best is not None:
            r.best = params.network(i)


def _probabilities(params: _Parameters, xs: list[torch.Tensor]) -> np.ndarray:
    """``(networks, rows)`` probabilities; rows shared by every network are not copied per network."""
    x = xs[0] if all(x is xs[0] for x in xs) else torch.stack(xs)
    return torch.sigmoid(params.logits(x)).cpu().numpy()
