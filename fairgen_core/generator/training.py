"""Algorithm 1: alternating Adam updates of (E, F) and D, with progress callbacks, cancellation,
validation-based early stopping, checkpoints and resumption."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as fn

from fairgen_core.config import EncoderConfig, GeneratorConfig
from fairgen_core.data.encoding import OneHotGroup, TabularEncoder
from fairgen_core.data.rules import RuleKind
from fairgen_core.data.schema import Schema, infer_schema
from fairgen_core.data.spec import DatasetSpec, assign_domains, validate_spec
from fairgen_core.data.splits import Split, default_split
from fairgen_core.data.structure import detect_structure, exclude_leaks
from fairgen_core.devices import resolve_device
from fairgen_core.errors import FairGenError
from fairgen_core.generator import losses
from fairgen_core.generator.assembly import RowAssembler
from fairgen_core.generator.calibration import marginal_targets
from fairgen_core.generator.evaluation import DEFAULT_SIGMA, translation_of
from fairgen_core.generator.latent import LatentPrior, fit_latent_prior
from fairgen_core.generator.loss_terms import GeneratorTerms, LossTerms
from fairgen_core.generator.model import FairGenerator, draw_targets
from fairgen_core.generator.modules import OutputActivation, Translator
from fairgen_core.generator.tracking import (
    BestCheckpoint,
    check_finite,
    epochs_left,
    resumable,
    write_checkpoint,
)
from fairgen_core.metrics.quality import frechet_distance, noise_baseline
from fairgen_core.metrics.translation import DomainProbe

#: Out of memory at a batch this small (or smaller) on the GPU moves training to the CPU instead of halving again.
MIN_OOM_BATCH = 32


@dataclass(frozen=True)
class EpochReport:
    """What a progress callback receives after every epoch.

    Attributes
    ----------
    epoch : int
        1-based epoch number.
    epochs : int
        Configured upper bound on epochs.
    losses : LossTerms of float
        Mean of every loss term over the epoch's steps.
    step_losses : LossTerms of list of float
        Every loss term at every step of the epoch (lists of equal length).
    val_fid : float or None
        Fréchet distance between validation rows and synthetic rows drawn with the same domain counts, in the
        model's encoded space (with a quantile encoding not comparable to the paper-space FID of
        :func:`~fairgen_core.generator.evaluation.assess_quality`).
    best_fid : float or None
        Validation distance of the best model so far (the model returned at the end is the best one).
    val_translation : float or None
        Translation fidelity on the validation rows: the share of counterfactual translations (other group,
        same label) that a probe trained on real training rows assigns to their target domain, divided by
        the share of real validation rows it assigns to their own domain (1 = as recognisable as real rows).
    best_score : float or None
        The checkpoint score of the best model so far (``config.checkpoint_metric``; higher is better).
    elapsed_s : float
        Seconds since training started (this run, excluding evaluation before it).
    eta_s : float
        Estimated seconds left: until early stopping would end the run if the validation distance does not
        improve again, or until ``epochs`` is reached, whichever comes first.
    rows_per_s : float
        Training rows processed per second in this epoch.
    stopped : str or None
        Why training ends after this epoch: ``"early-stopping"``, ``"cancelled"``, ``"completed"``.
    notice : str or None
        Something the user should know that happened during this epoch (an out-of-memory fallback).
    """

    epoch: int
    epochs: int
    losses: LossTerms[float]
    step_losses: LossTerms[list[float]]
    val_fid: float | None
    best_fid: float | None
    elapsed_s: float
    eta_s: float
    rows_per_s: float
    stopped: str | None = None
    notice: str | None = None
    val_translation: float | None = None
    best_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary without the per-step lists: a record of the history and of the training log."""
        record = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "step_losses"}
        return {**record, "losses": self.losses.as_dict()}


ProgressCallback = Callable[[EpochReport], None]


@dataclass
class TrainingData:
    """Encoded training and validation rows, resident on the training device."""

    x_train: torch.Tensor
    d_train: torch.Tensor
    x_val: np.ndarray
    d_val: np.ndarray
    encoder: TabularEncoder
    assembler: RowAssembler
    domain_names: tuple[str, ...]
    probe: DomainProbe | None = None
    fid_scale: float = 1.0
    notices: tuple[str, ...] = ()


def prepare_data(frame: pd.DataFrame, spec: DatasetSpec, schema: Schema, split: Split | None, seed: int,
                 device: torch.device, *, leaks: bool = True, keep_leaks: Collection[str] = (),
                 encoding: EncoderConfig = EncoderConfig()) -> TrainingData:
    """Validate the spec, split if needed, find the training rows' structure, fit the encoder on the training
    rows and encode both splits.

    The label and sensitive columns are not features: they are the domain the generator conditions on. With
    ``leaks`` true, columns that leak the label or a sensitive attribute in the training rows are not features
    either, except those in ``keep_leaks`` (:func:`~fairgen_core.data.structure.exclude_leaks`;
    :attr:`TrainingData.notices` names them); with ``leaks`` false the schema's kinds decide (kind ``leak`` leaves
    a column out). The structure goes to the
    :class:`RowAssembler`, which repairs generated and translated rows to keep it. ``encoding`` says how the
    encoder encodes numeric columns.
    """
    validate_spec(frame, schema, spec)  # raises on an unusable spec; warnings are the caller's to show
    assignment = assign_domains(frame, spec)
    split = split or default_split(frame, spec, seed=seed)
    train_rows, val_rows = split.train, split.val
    if len(train_rows) == 0:
        raise FairGenError("the training split has no rows: the data needs more rows with a label and groups.")
    train = frame.iloc[train_rows]
    structure = detect_structure(train, label=spec.label, sensitive=spec.sensitive_columns, schema=schema)
    notices: tuple[str, ...] = ()
    if leaks:
        schema, messages = exclude_leaks(schema, structure, keep=keep_leaks)
        notices = tuple(messages.values())
    columns = schema.feature_names(exclude=(spec.label, *spec.sensitive_columns))
    if not columns:
        raise FairGenError("no feature columns are left besides the label and the sensitive attributes: "
                           "the generator needs at least one other numeric or categorical column.")
    groups = [OneHotGroup(rule.columns, at_most_one=rule.variant == "at_most_one")
              for rule in structure.of_kind(RuleKind.ONE_HOT)]
    encoder = TabularEncoder(schema, columns, encoding, one_hot_groups=groups).fit(train)
    assembler = RowAssembler.fit(train, schema, spec, assignment.group[train_rows], assignment.label[train_rows],
                                 structure=structure, id_rows=frame)
    domain_names = tuple(assignment.domain_name(d) for d in range(spec.n_domains))
    x_train, d_train = encoder.transform(train), assignment.domain[train_rows]
    x_val, probe, fid_scale = encoder.transform(frame.iloc[val_rows]), None, 1.0
    if len(val_rows) > 1 and len(np.unique(d_train)) > 1:
        probe = DomainProbe.fit(x_train, d_train, n_domains=spec.n_domains, seed=seed)
        fid_scale = max(noise_baseline(x_val, DEFAULT_SIGMA, seed=seed), 1e-9)
    return TrainingData(
        x_train=torch.as_tensor(x_train, device=device),
        d_train=torch.as_tensor(d_train, device=device),
        x_val=x_val, d_val=assignment.domain[val_rows],
        encoder=encoder, assembler=assembler, domain_names=domain_names, probe=probe, fid_scale=fid_scale,
        notices=notices,
    )


@dataclass
class _Trainer:
    """The mutable parts of one training run; step functions live here to keep ``fit_generator`` short."""

    config: GeneratorConfig
    translator: Translator
    activation: OutputActivation
    n_groups: int
    device: torch.device
    opt_g: torch.optim.Optimizer = field(init=False)
    opt_d: torch.optim.Optimizer = field(init=False)

    def __post_init__(self) -> None:
        betas = (0.5, 0.9) if self.config.adversarial == "wgan-gp" else (0.5, 0.999)
        generator_params = [*self.translator.encoder.parameters(), *self.translator.decoder.parameters()]
        self.opt_g = torch.optim.Adam(generator_params, lr=self.config.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.translator.discriminator.parameters(), lr=self.config.lr, betas=betas)
        self.autocast = self.device.type == "cuda" and self.config.mixed_precision

    def _onehot(self, domain: torch.Tensor) -> torch.Tensor:
        return fn.one_hot(domain, self.translator.n_domains).float()

    def forward(self, x: torch.Tensor, domain: torch.Tensor) -> dict[str, torch.Tensor]:
        """Translate a batch to random target domains and back; decode prior samples; gather the fakes.

        Independent passes share one network call (x towards its target and, for the conditional-VAE
        term, x in its own domain; then their decodings together with the prior samples), which keeps
        the matrix products large on the CPU.
        """
        cfg, net, n = self.config, self.translator, len(x)
        target = draw_targets(domain, self.n_groups)
        encode_domains = torch.cat([target, domain]) if cfg.lambda_self else target
        decode_domains = encode_domains
        if cfg.prior_samples:
            decode_domains = torch.cat([encode_domains, torch.randint(0, net.n_domains, (n,), device=self.device)])
        source_1h = self._onehot(domain)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            mu, log_var = net.encoder(x.repeat(len(encode_domains) // n, 1), self._onehot(encode_domains))
            z = mu + torch.randn_like(mu) * (0.5 * log_var).exp()
            if cfg.prior_samples:
                z = torch.cat([z, torch.randn(n, z.shape[1], device=self.device, dtype=z.dtype)])
            logits = net.decoder(z, self._onehot(decode_domains)).float()
            logits_g = logits[:n]
            mu_back, log_var_back = net.encoder(self.activation.soft(logits_g), source_1h)
            z_back = mu_back + torch.randn_like(mu_back) * (0.5 * log_var_back).exp()
            x_hat = self.activation.soft(net.decoder(z_back, source_1h).float())
        fake_logits = torch.cat([logits_g, logits[-n:]]) if cfg.prior_samples else logits_g
        out = {"mu": mu[:n].float(), "log_var": log_var[:n].float(), "logits_g": logits_g,
               "mu_back": mu_back.float(), "log_var_back": log_var_back.float(), "x_hat": x_hat,
               "fake": self.activation.gumbel(fake_logits, cfg.gumbel_tau),
               "fake_domain": torch.cat([target, decode_domains[-n:]]) if cfg.prior_samples else target}
        if cfg.lambda_self:
            out.update(logits_self=logits[n:2 * n], mu_self=mu[n:2 * n].float(), log_var_self=log_var[n:2 * n].float())
        return out

    @torch.no_grad()
    def fakes(self, x: torch.Tensor, domain: torch.Tensor) -> torch.Tensor:
        """Generated rows for a discriminator-only step (WGAN-GP's extra critic steps)."""
        return self.forward(x, domain)["fake"]

    def generator_step(self, x: torch.Tensor, domain: torch.Tensor
                       ) -> tuple[GeneratorTerms[torch.Tensor], torch.Tensor, torch.Tensor]:
        """One Adam step of E and F on L_like + λ_rec L_rec + λ_prior L_prior + adversarial + domain terms.

        Returns the loss terms, their weighted total (both detached) and the generated rows (detached) that the
        discriminator step reuses.
        """
        cfg, net = self.config, self.translator
        net.discriminator.requires_grad_(False)
        out = self.forward(x, domain)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            score, domain_logits = net.discriminator(out["fake"])
        n = len(x)
        terms = GeneratorTerms(
            like=losses.likelihood_nll(out["logits_g"], x, self.activation),
            rec=losses.reconstruction_l1(x, out["x_hat"]),
            prior=losses.prior_kl(out["mu"], out["log_var"]) + losses.prior_kl(out["mu_back"], out["log_var_back"]),
            adv_g=losses.generator_adversarial(score.float(), cfg.adversarial),
            cls_g=losses.domain_classification(domain_logits.float()[:n], out["fake_domain"][:n]),
            cls_prior=(losses.domain_classification(domain_logits.float()[n:], out["fake_domain"][n:])
                       if cfg.prior_samples else None),
            own_domain=(losses.likelihood_nll(out["logits_self"], x, self.activation)
                        + cfg.lambda_prior * losses.prior_kl(out["mu_self"], out["log_var_self"])
                        if cfg.lambda_self else None),
        )
        total = terms.weighted_total(cfg)
        self.opt_g.zero_grad(set_to_none=True)
        total.backward()
        self.opt_g.step()
        net.discriminator.requires_grad_(True)
        return terms.map(torch.Tensor.detach), total.detach(), out["fake"].detach()

    def discriminator_step(self, x: torch.Tensor, domain: torch.Tensor, fake: torch.Tensor
                           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One Adam step of D on L_dis + L_trns (D_cls learns the real rows' true domains).

        Returns the adversarial term, the domain term and their total (with the gradient penalty), detached.
        """
        cfg, net = self.config, self.translator
        n = len(x)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            score, domain_logits = net.discriminator(torch.cat([x, fake]))  # one call: larger matrix products
        score = score.float()
        adversarial = losses.discriminator_adversarial(score[:n], score[n:], cfg.adversarial)
        domain_term = losses.domain_classification(domain_logits[:n].float(), domain)
        total = adversarial + domain_term
        if cfg.adversarial == "wgan-gp":
            total = total + cfg.lambda_gp * losses.gradient_penalty(net.discriminator, x.repeat(
                fake.shape[0] // x.shape[0], 1), fake)
        self.opt_d.zero_grad(set_to_none=True)
        total.backward()
        self.opt_d.step()
        return adversarial.detach(), domain_term.detach(), total.detach()


def fit_generator(
    frame: pd.DataFrame,
    spec: DatasetSpec,
    *,
    schema: Schema | None = None,
    config: GeneratorConfig = GeneratorConfig(),
    split: Split | None = None,
    callback: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    checkpoint_path: str | Path | None = None,
    resume_from: str | Path | None = None,
    exclude_leaks: bool = True,
    keep_leaks: Collection[str] = (),
) -> FairGenerator:
    """Train the VAE-GAN translator on the training split of ``frame``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The whole table (label and sensitive columns included).
    spec : DatasetSpec
        Label, favourable values and sensitive attributes; their domains condition the generator.
    schema : Schema, optional
        Column kinds (inferred when omitted).
    config : GeneratorConfig
        Hyper-parameters.
    split : Split, optional
        Train/validation/test rows; a domain-stratified 70/15/15 split with ``config.seed`` by default.
        Only the training rows are used to fit; the validation rows drive early stopping.
    callback : callable, optional
        Receives an :class:`EpochReport` after every epoch (every loss term per step and per epoch).
    should_stop : callable, optional
        Polled before every batch but an epoch's first, and when an epoch's evaluation ends; returning True stops
        training within one batch and returns the best model. The last report always says ``"cancelled"``.
    checkpoint_path : str or pathlib.Path, optional
        Written after every evaluation: the best model plus the state needed to resume.
    resume_from : str or pathlib.Path, optional
        A checkpoint written by a previous run with the same data and configuration; training continues.
    exclude_leaks : bool
        Leave out every column that leaks the label or a sensitive attribute in the training rows (the first
        :class:`EpochReport`'s ``notice`` names them and says how to keep them); False: the schema's kinds
        decide (a column of kind ``leak`` is left out, as the Data page sets unless the user keeps it).
    keep_leaks : collection of str
        Leaking columns kept as features all the same (with ``exclude_leaks``; ``fit --keep-leak``).

    Returns
    -------
    FairGenerator
        The model with the best validation Fréchet distance (the last one if there is no validation split).

    Raises
    ------
    TrainingDivergedError
        If a loss term becomes NaN or infinite; the checkpoint of the last good epoch is left in place.
    FairGenError
        If the data or specification cannot be used, or memory runs out even at the smallest batch on the CPU.

    Notes
    -----
    When the GPU runs out of memory, the epoch restarts with half the batch size; at ``MIN_OOM_BATCH``
    rows training moves to the CPU. Each fallback is reported in the next :class:`EpochReport`'s ``notice``.
    """
    schema = schema or infer_schema(frame)
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    data = prepare_data(frame, spec, schema, split, config.seed, device, leaks=exclude_leaks, keep_leaks=keep_leaks,
                        encoding=config.encoding)
    translator = Translator(data.encoder.n_features, spec.n_domains, config.hidden_dim, config.latent_dim).to(device)
    trainer = _Trainer(config, translator, OutputActivation(data.encoder.layout).to(device), spec.n_groups, device)
    marginals = marginal_targets(data.encoder, data.x_train.cpu().numpy(), data.d_train.cpu().numpy(), spec.n_domains)
    model = FairGenerator(config, spec, data.encoder, data.assembler, translator, data.domain_names, device=device,
                          marginals=marginals)
    progress = _Progress(config, notice=" ".join(data.notices) or None, should_stop=should_stop)
    if resume_from is not None:
        progress.restore(torch.load(Path(resume_from), map_location=device, weights_only=True), trainer, model)
    n_rows = len(data.x_train)
    batch = config.effective_batch_size(n_rows)
    batch_generator = torch.Generator(device=device).manual_seed(config.seed + progress.epoch)
    started = time.perf_counter()
    while progress.epoch < config.epochs and progress.stopped is None:
        epoch_start = time.perf_counter()
        try:
            step_terms = _run_epoch(trainer, data, batch, batch_generator, progress)
        except torch.OutOfMemoryError:
            batch, notice = _recover_from_oom(trainer, model, data, batch)
            progress.notice = f"{progress.notice} {notice}" if progress.notice else notice
            if batch_generator.device != trainer.device:
                batch_generator = torch.Generator(device=trainer.device).manual_seed(config.seed + progress.epoch)
            continue
        run = _EpochRun(step_terms, batch, time.perf_counter() - epoch_start, time.perf_counter() - started)
        progress.end_epoch(run, model, data, trainer, callback, checkpoint_path)
    return progress.best_model(model)


@torch.no_grad()
def training_codes(model: FairGenerator, data: TrainingData, batch_rows: int = 65_536) -> torch.Tensor:
    """The encoder's mean code E(x, (a, y)) of every training row in its own domain."""
    model.translator.eval()
    codes = []
    for start in range(0, len(data.x_train), batch_rows):
        x, d = data.x_train[start:start + batch_rows], data.d_train[start:start + batch_rows]
        codes.append(model.translator.encoder(x, fn.one_hot(d, model.n_domains).float())[0])
    return torch.cat(codes) if codes else torch.zeros(0, model.config.latent_dim, device=data.x_train.device)


def _run_epoch(trainer: _Trainer, data: TrainingData, batch: int, batch_generator: torch.Generator,
               progress: _Progress) -> list[LossTerms[torch.Tensor]]:
    """One pass over the shuffled training rows; the loss terms of every step (fewer if a stop was asked).

    A stop is looked for before every batch but the first: the first always runs, so a stop that arrives between
    epochs still ends in an epoch whose report says ``"cancelled"`` (:meth:`_Progress.end_epoch` looks too).
    """
    trainer.translator.train()
    n_rows = len(data.x_train)
    order = torch.randperm(n_rows, device=trainer.device, generator=batch_generator)
    step_terms: list[LossTerms[torch.Tensor]] = []
    for step, start in enumerate(range(0, n_rows - batch + 1, batch)):
        if step > 0 and progress.stop_asked():
            progress.stopped = "cancelled"
            break
        index = order[start:start + batch]
        x, domain = data.x_train[index], data.d_train[index]
        if step % trainer.config.critic_steps == 0:
            generator_terms, generator_total, fake = trainer.generator_step(x, domain)
        else:
            fake = trainer.fakes(x, domain)
        adversarial, domain_term, discriminator_total = trainer.discriminator_step(x, domain, fake)
        step_terms.append(LossTerms.of_step(generator_terms, generator=generator_total, adv_d=adversarial,
                                            cls_d=domain_term, discriminator=discriminator_total))
    return step_terms


def _epoch_losses(step_terms: list[LossTerms[torch.Tensor]]) -> LossTerms[list[float]]:
    """Every loss term at every step of an epoch, copied to the host in one transfer."""
    columns = torch.stack([torch.stack(term).float() for term in zip(*(step.values() for step in step_terms))])
    return step_terms[0].with_values(columns.cpu().tolist())


def _recover_from_oom(trainer: _Trainer, model: FairGenerator, data: TrainingData, batch: int) -> tuple[int, str]:
    """After an out-of-memory error: halve the batch, or at ``MIN_OOM_BATCH`` on the GPU move to the CPU.

    Returns the batch size to retry the epoch with and the notice for the user.

    Raises
    ------
    FairGenError
        If memory runs out at the smallest batch on the CPU.
    """
    where = trainer.device.type.upper()
    if trainer.device.type == "cuda":
        torch.cuda.empty_cache()
    if batch // 2 >= MIN_OOM_BATCH:
        return batch // 2, (f"{where} out of memory at batch size {batch}: the epoch restarted with batch size "
                            f"{batch // 2}.")
    if trainer.device.type == "cuda":
        _move_training(torch.device("cpu"), trainer, model, data)
        return batch, f"GPU out of memory even at batch size {batch}: training continues on the CPU (slower)."
    raise FairGenError(f"out of memory at batch size {batch} on the CPU: lower hidden_dim (now "
                       f"{trainer.config.hidden_dim}), drop columns with many categories, or train on a sample.")


def _move_training(device: torch.device, trainer: _Trainer, model: FairGenerator, data: TrainingData) -> None:
    """Move the networks, the optimiser state and the training rows to ``device``."""
    trainer.translator.to(device)
    trainer.activation.to(device)
    model.activation.to(device)
    for optimizer in (trainer.opt_g, trainer.opt_d):
        for slot in optimizer.state.values():
            for key, value in slot.items():
                if torch.is_tensor(value) and key != "step":
                    slot[key] = value.to(device)
    data.x_train, data.d_train = data.x_train.to(device), data.d_train.to(device)
    trainer.device = model.device = device
    trainer.autocast = False


@dataclass(frozen=True)
class _EpochRun:
    """What one pass over the training rows did: every step's loss terms, the batch size and the times."""

    step_terms: list[LossTerms[torch.Tensor]]
    batch: int
    epoch_s: float
    elapsed_s: float


@dataclass
class _Progress:
    """The epoch counter, how training stopped, the next report's notice and the reports so far; the kept
    checkpoint in :attr:`best` (:mod:`~fairgen_core.generator.tracking` holds the rules)."""

    config: GeneratorConfig
    epoch: int = 0
    best: BestCheckpoint = field(default_factory=BestCheckpoint)
    stopped: str | None = None
    notice: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    should_stop: Callable[[], bool] | None = None

    def stop_asked(self) -> bool:
        """True once the caller's ``should_stop`` says so."""
        return self.should_stop is not None and self.should_stop()

    def end_epoch(self, run: _EpochRun, model: FairGenerator, data: TrainingData, trainer: _Trainer,
                  callback: ProgressCallback | None, checkpoint_path: str | Path | None) -> None:
        """Evaluate, keep the best checkpoint, decide whether to stop, report and write the checkpoint."""
        if not run.step_terms:
            self.stopped = self.stopped or "cancelled"
            return
        step_losses = _epoch_losses(run.step_terms)
        check_finite(step_losses, epoch=self.epoch, lr=self.config.lr, checkpoint_path=checkpoint_path)
        self.epoch += 1
        val_fid = val_translation = None
        if len(data.x_val) > 1 and self.epoch % self.config.eval_every == 0:
            val_fid = validation_fid(model, data.x_val, data.d_val, seed=self.config.seed)
            if data.probe is not None:
                val_translation = translation_of(model, data.probe, data.x_val, data.d_val,
                                                 seed=self.config.seed, details=False).ratio
            kept = self.best.consider(checkpoint_score(self.config.checkpoint_metric, val_fid, val_translation,
                                                       data.fid_scale), val_fid, model.translator.state_dict())
        else:
            kept = self.best.state is None  # nothing kept: the current weights are the model
        if kept:  # the latent prior follows the kept weights, so every checkpoint written carries its own
            model.latent_prior = fit_latent_prior(training_codes(model, data), data.d_train, model.n_domains)
        if self.stopped is None:
            if self.stop_asked():  # asked while this epoch was evaluated
                self.stopped = "cancelled"
            elif self.best.exhausted(self.config.patience):
                self.stopped = "early-stopping"
            elif self.epoch >= self.config.epochs:
                self.stopped = "completed"
        per_epoch = run.elapsed_s / max(self.epoch, 1)
        report = EpochReport(
            epoch=self.epoch, epochs=self.config.epochs,
            losses=step_losses.with_values(float(np.mean(steps)) for steps in step_losses.values()),
            step_losses=step_losses,
            val_fid=val_fid, best_fid=self.best.fid, val_translation=val_translation, best_score=self.best.score,
            elapsed_s=run.elapsed_s,
            eta_s=0.0 if self.stopped else per_epoch * epochs_left(self.config, self.epoch, self.best.stale),
            rows_per_s=len(run.step_terms) * run.batch / max(run.epoch_s, 1e-9),
            stopped=self.stopped, notice=self.notice,
        )
        self.notice = None
        self.history.append(report.to_dict())
        model.history = list(self.history)
        if checkpoint_path is not None:
            self.save(Path(checkpoint_path), model, trainer)
        if callback is not None:
            callback(report)

    def best_model(self, model: FairGenerator) -> FairGenerator:
        """``model`` with the kept checkpoint's weights (its own if none was kept), in eval mode."""
        if self.best.state is not None:
            model.translator.load_state_dict(self.best.state)
        model.translator.eval()
        model.reset_calibration()
        return model

    def save(self, path: Path, model: FairGenerator, trainer: _Trainer) -> None:
        """The kept checkpoint plus everything needed to resume from this epoch."""
        current = {k: v.detach().cpu().clone() for k, v in model.translator.state_dict().items()}
        state = model.checkpoint(
            training={
                "epoch": self.epoch, "best_fid": self.best.fid, "best_score": self.best.score,
                "stale": self.best.stale, "current_model": current, "opt_g": trainer.opt_g.state_dict(),
                "opt_d": trainer.opt_d.state_dict(),
            },
        )
        state["model"] = {k: v.detach().cpu() for k, v in (self.best.state or current).items()}
        write_checkpoint(path, state)

    def restore(self, state: dict[str, Any], trainer: _Trainer, model: FairGenerator) -> None:
        """Continue from a checkpoint written by :meth:`save` (same data and settings)."""
        net = model.translator
        training = resumable(state, [net.n_features, net.n_domains, net.hidden, net.latent])
        net.load_state_dict(training["current_model"])
        trainer.opt_g.load_state_dict(training["opt_g"])
        trainer.opt_d.load_state_dict(training["opt_d"])
        self.epoch = training["epoch"]
        self.best = BestCheckpoint(training.get("best_score"), training["best_fid"],
                                   {k: v.to(model.device) for k, v in state["model"].items()}, training["stale"])
        if "latent_prior" in state:
            model.latent_prior = LatentPrior.from_state_dict(state["latent_prior"])
        self.history = list(state.get("history", []))


#: Weight of the relative FID (validation FID / its real+noise baseline) in the ``translation`` checkpoint score.
FID_WEIGHT = 0.1


def checkpoint_score(metric: str, val_fid: float, val_translation: float | None, fid_scale: float = 1.0) -> float:
    """The score (higher is better) by which the kept checkpoint is chosen.

    ``fid``: the negative validation Fréchet distance of prior samples. ``translation``: the validation
    translation fidelity (:attr:`EpochReport.val_translation`) capped at 1 — translations more recognisable
    than real rows are caricatures, not better pairs — minus :data:`FID_WEIGHT` times the FID relative to
    ``fid_scale`` (the validation rows' real+noise baseline), so that among equally faithful translators the
    one with the closer samples wins. ``fid`` is used when no fidelity could be measured.

    Examples
    --------
    >>> checkpoint_score("fid", 0.5, 0.9)
    -0.5
    >>> round(checkpoint_score("translation", 0.5, 0.9, fid_scale=2.0), 3), checkpoint_score("translation", 0.0, 1.3)
    (0.875, 1.0)
    """
    if metric == "translation" and val_translation is not None and np.isfinite(val_translation):
        return min(float(val_translation), 1.0) - FID_WEIGHT * float(val_fid) / fid_scale
    return -float(val_fid)


def validation_fid(model: FairGenerator, x_val: np.ndarray, d_val: np.ndarray, *, seed: int) -> float:
    """Fréchet distance between encoded validation rows and prior samples with the same domain counts."""
    generator = torch.Generator(device=model.device).manual_seed(seed)
    synthetic = model.decode_prior(d_val, generator).cpu().numpy()
    return frechet_distance(x_val, synthetic)
