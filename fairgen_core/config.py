"""Frozen configuration dataclasses shared by the CLI, the dashboard and the library; runtime settings from the
environment."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal, Self

from fairgen_core.errors import FairGenError

Adversarial = Literal["gan", "wgan-gp"]
Device = Literal["auto", "cpu", "cuda"]
CheckpointMetric = Literal["translation", "fid"]
#: How a real row's synthetic pair is made: ``counterfactual`` flips the group and keeps the label (the pair
#: keeps the source label); ``paper`` flips the group and, at random, the label (the pair takes the target's).
PairProtocol = Literal["counterfactual", "paper"]
PAIR_PROTOCOLS: tuple[str, ...] = ("counterfactual", "paper")
#: How the encoder turns a numeric column's values into model inputs (:class:`EncoderConfig`).
NumericEncoding = Literal["max-abs", "quantile", "modes"]
NUMERIC_ENCODINGS: tuple[str, ...] = ("max-abs", "quantile", "modes")
#: The environment variable naming the runs base (:func:`default_runs_base`).
RUNS_DIR_ENV = "FAIRGEN_RUNS_DIR"
#: Trainings (``fairgen_core.runs.jobs``) and analyses (``fairgen_core.runs.tasks``) that run at once per server.
MAX_JOBS_ENV = "FAIRGEN_MAX_JOBS"
MAX_ANALYSES_ENV = "FAIRGEN_MAX_ANALYSES"
#: CPU threads per training, analysis or experiment cell (:func:`thread_budget`).
THREADS_ENV = "FAIRGEN_THREADS"
#: The thread settings of the OpenMP and BLAS libraries under torch and NumPy, read when they are loaded.
THREAD_LIBRARY_ENVS: tuple[str, ...] = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
#: The retention bounds of old run folders (:class:`RetentionPolicy`) and their defaults.
MAX_AGE_ENV = "FAIRGEN_RUNS_MAX_AGE_DAYS"
MAX_GB_ENV = "FAIRGEN_RUNS_MAX_GB"
DEFAULT_MAX_AGE_DAYS = 30.0
DEFAULT_MAX_GB = 20.0
#: What disables a retention bound, in a variable or on the command line.
_NO_BOUND = ("", "0", "none")
#: The Ray cluster that experiments, analyses and trainings run on (``auto``, ``local`` or the head's ``HOST:PORT``;
#: :func:`ray_address`); unset: local processes.
RAY_ADDRESS_ENV = "FAIRGEN_RAY_ADDRESS"


def default_runs_base() -> Path:
    """The folder holding every workspace's run folders: ``$FAIRGEN_RUNS_DIR``, else ``~/.fairgen/runs``.

    Returns
    -------
    pathlib.Path
        The base folder (it need not exist yet).
    """
    return Path(os.environ.get(RUNS_DIR_ENV) or Path.home() / ".fairgen" / "runs")


def ray_address() -> str | None:
    """The Ray cluster to run on: ``$FAIRGEN_RAY_ADDRESS``, or None (unset or blank: local processes).

    Returns
    -------
    str or None
        ``auto``, ``local`` or a head's address, as :class:`~fairgen_core.runs.executor.ExecutorConfig` takes it.
    """
    return os.environ.get(RAY_ADDRESS_ENV, "").strip() or None


def _whole_number_from_env(variable: str, default: str) -> int | None:
    """``$variable`` as a whole number ≥ 1; None when unset or blank (``default`` only words the message)."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise FairGenError(f"{variable} must be a whole number ≥ 1, got '{text}': fix the environment "
                           f"variable or unset it (default {default}).")
    return int(text)


def slots_from_env(variable: str) -> int:
    """How many slots an environment variable allows (default 1), e.g. ``$FAIRGEN_MAX_JOBS`` workers per queue.

    Raises
    ------
    FairGenError
        If the variable is set to anything but a whole number ≥ 1.
    """
    return _whole_number_from_env(variable, "1") or 1


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def thread_budget(concurrent: int | None = None) -> int:
    """CPU threads one training or analysis process may use: ``$FAIRGEN_THREADS``, else a fair share of the cores.

    Parameters
    ----------
    concurrent : int, optional
        Processes that may compute at once (default: ``$FAIRGEN_MAX_JOBS`` trainings plus
        ``$FAIRGEN_MAX_ANALYSES`` analyses, 1 + 1 when unset; an experiment gives its parallel ``jobs``).

    Returns
    -------
    int
        ``$FAIRGEN_THREADS`` when set, else ``max(1, available cores // concurrent)``.

    Raises
    ------
    FairGenError
        If ``$FAIRGEN_THREADS`` (or a slot variable it is derived from) is not a whole number ≥ 1.

    Examples
    --------
    >>> thread_budget(concurrent=10**6)  # more processes than cores: one thread each (unless $FAIRGEN_THREADS)
    1
    """
    threads = _whole_number_from_env(THREADS_ENV, "the available cores divided by the concurrent slots")
    if threads is not None:
        return threads
    if concurrent is None:
        concurrent = slots_from_env(MAX_JOBS_ENV) + slots_from_env(MAX_ANALYSES_ENV)
    return max(1, available_cores() // max(1, concurrent))


def thread_env(threads: int) -> dict[str, str]:
    """The environment variables giving a child process ``threads`` threads before it imports NumPy or torch.

    Examples
    --------
    >>> thread_env(2)[THREADS_ENV], thread_env(2)["OMP_NUM_THREADS"]
    ('2', '2')
    """
    return {name: str(threads) for name in (THREADS_ENV, *THREAD_LIBRARY_ENVS)}


def parse_bound(text: str, name: str, default: float | None) -> float | None:
    """A retention bound as written in an environment variable or on the command line.

    Parameters
    ----------
    text : str
        A number ≥ 0; empty, ``0`` or ``none`` (any case) disables the bound.
    name : str
        The variable or option the text comes from, for the error message.
    default : float or None
        The default, named in the error message.

    Returns
    -------
    float or None
        The bound, or None when disabled.

    Raises
    ------
    FairGenError
        If ``text`` is not a finite number ≥ 0; the message names ``name`` and says how to fix it.

    Examples
    --------
    >>> parse_bound("12.5", MAX_GB_ENV, DEFAULT_MAX_GB)
    12.5
    >>> parse_bound("none", MAX_GB_ENV, DEFAULT_MAX_GB) is None
    True
    """
    cleaned = text.strip().lower()
    if cleaned in _NO_BOUND:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        shown = "no bound" if default is None else f"{default:g}"
        raise FairGenError(f"{name} must be a number ≥ 0 (empty, 0 or 'none' for no bound), got '{text}': fix it "
                           f"or unset it (default {shown}).")
    return value or None


def bound_from_env(variable: str, default: float | None) -> float | None:
    """The retention bound set by environment variable ``variable``, or ``default`` when it is unset.

    Parameters
    ----------
    variable : str
        :data:`MAX_AGE_ENV` or :data:`MAX_GB_ENV`.
    default : float or None
        The bound when the variable is unset (set but empty disables it).

    Returns
    -------
    float or None
        The bound, or None when disabled.

    Raises
    ------
    FairGenError
        If the value is not a number ≥ 0 (see :func:`parse_bound`).
    """
    text = os.environ.get(variable)
    return default if text is None else parse_bound(text, variable, default)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long and how much of the old runs are kept (:func:`fairgen_core.runs.retention.prune_runs`).

    Attributes
    ----------
    max_age_days : float or None
        Runs last modified longer ago are removed; None (or 0) keeps runs of any age.
    max_total_gb : float or None
        While all runs together take more gigabytes (10⁹ bytes), the least recently modified inactive ones are
        removed; None (or 0) sets no bound.

    Raises
    ------
    FairGenError
        If a bound is negative or not finite.
    """

    max_age_days: float | None = DEFAULT_MAX_AGE_DAYS
    max_total_gb: float | None = DEFAULT_MAX_GB

    def __post_init__(self) -> None:
        for name in ("max_age_days", "max_total_gb"):
            value = getattr(self, name)
            if value is None:
                continue
            if not math.isfinite(value) or value < 0:
                raise FairGenError(f"{name} must be a number ≥ 0 or None (no bound), got {value!r}.")
            if value == 0:
                object.__setattr__(self, name, None)  # 0 disables, as in the environment variables

    @classmethod
    def from_env(cls) -> RetentionPolicy:
        """The policy set by ``$FAIRGEN_RUNS_MAX_AGE_DAYS`` (default 30) and ``$FAIRGEN_RUNS_MAX_GB`` (default 20).

        A variable set to nothing, ``0`` or ``none`` disables its bound.

        Returns
        -------
        RetentionPolicy

        Raises
        ------
        FairGenError
            If a variable is not a number ≥ 0; the message names it.
        """
        return cls(bound_from_env(MAX_AGE_ENV, DEFAULT_MAX_AGE_DAYS), bound_from_env(MAX_GB_ENV, DEFAULT_MAX_GB))


def check_pairs(pairs: str) -> str:
    """``pairs`` if it is a known pair protocol, else a :class:`FairGenError` naming the choices.

    Examples
    --------
    >>> check_pairs("paper")
    'paper'
    """
    if pairs not in PAIR_PROTOCOLS:
        raise FairGenError(f"pairs must be one of {', '.join(PAIR_PROTOCOLS)}, got '{pairs}'.")
    return pairs


class _Serialisable:
    """``to_dict`` / ``from_dict`` for the frozen config dataclasses below."""

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary (JSON and checkpoint friendly)."""
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Self:
        """Rebuild from :meth:`to_dict`, ignoring unknown keys from other versions."""
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in values.items() if k in known})


def _require_positive(config: object, what: str, names: tuple[str, ...]) -> None:
    for name in names:
        if getattr(config, name) <= 0:
            raise FairGenError(f"{what} setting '{name}' must be positive, got {getattr(config, name)}.")


def _require_device(device: str) -> None:
    if device not in ("auto", "cpu", "cuda"):
        raise FairGenError(f"device must be 'auto', 'cpu' or 'cuda', got '{device}'.")


@dataclass(frozen=True)
class EncoderConfig(_Serialisable):
    """How :class:`~fairgen_core.data.encoding.TabularEncoder` encodes numeric columns (categorical ones are
    always one-hot). The defaults are the paper's encoding; the generator's default is
    :attr:`GeneratorConfig.encoding`, chosen by measurement (``benchmarks/numeric_encoding.py``).

    Parameters
    ----------
    numeric : {"max-abs", "quantile", "modes"}
        ``max-abs``: x / max|x| in [-1, 1] (the paper's normalisation; tanh output). ``quantile``: the normal
        score Φ⁻¹(F(x)) of the training values' empirical distribution function F (unbounded; the generator's
        output is linear; a uniform score 2·F(x) − 1 was left out: float32 cannot hold its tails exactly, e.g.
        Adult's fnlwgt came back 10 off). ``modes``: a Gaussian mixture per column; the most probable
        component as a softmax span and the value relative to that component's mean, in [-1, 1] (CTGAN's
        mode-specific normalisation, without its random draw).
    point_mass : float or None
        A column whose most common training value holds at least this share of its values (e.g. Adult's
        capital-gain == 0: 92%) gets an indicator span for that value, and its other values alone are encoded
        as ``numeric`` says; None: never.
    quantiles : int
        Reference points kept per column by the quantile encodings. A column with at most this many distinct
        values keeps them all and decodes to them only (a step of its distribution function per value);
        a column with more keeps this many, evenly spaced in rank, and decodes by linear interpolation.
    modes : int
        Mixture components per column, at most (``modes``).
    fold_one_hot : bool
        Fold each one-hot group of the training rows' structure (0/1 columns with exactly one 1 per row, or at most
        one) into one softmax span, written back as one-hot (:class:`~fairgen_core.data.encoding.OneHotGroup`);
        False: every member is a binary column of its own (the paper's, and how encoders saved before this choice
        encode).

    Examples
    --------
    >>> EncoderConfig.from_dict(EncoderConfig(numeric="quantile").to_dict()).numeric
    'quantile'
    """

    numeric: NumericEncoding = "max-abs"
    point_mass: float | None = None
    quantiles: int = 1000
    modes: int = 5
    fold_one_hot: bool = False

    def __post_init__(self) -> None:
        if self.numeric not in NUMERIC_ENCODINGS:
            raise FairGenError(f"numeric encoding must be one of {', '.join(NUMERIC_ENCODINGS)}, "
                               f"got '{self.numeric}'.")
        if self.point_mass is not None and not 0.0 < self.point_mass < 1.0:
            raise FairGenError(f"point_mass must be a share between 0 and 1 (or None: off), got {self.point_mass}.")
        if self.quantiles < 2 or self.modes < 1:
            raise FairGenError(f"the encoder needs at least 2 quantiles and 1 mode, got {self.quantiles} and "
                               f"{self.modes}.")


#: The generator's numeric encoding (:attr:`GeneratorConfig.encoding`), chosen by ``benchmarks/numeric_encoding.py``
#: (3 seeds each of Adult, COMPAS and German): quantile normal scores, no point-mass spans. Averaged over the three
#: datasets it has the best detection and TSTR and is within 0.004 of the best shapes and trends; point-mass spans
#: help Adult but hurt COMPAS and German (``docs/benchmarks.md``). One-hot groups are folded (issue 18).
DEFAULT_ENCODING = EncoderConfig(numeric="quantile", fold_one_hot=True)


@dataclass(frozen=True)
class GeneratorConfig(_Serialisable):
    """Hyper-parameters of the VAE-GAN cross-domain translator and its training.

    Defaults were chosen by measurement on Adult, COMPAS and German (``docs/benchmarks.md``): λ_rec = 10 and
    λ_prior = 0.1 follow the authors' command line (with their per-dimension averaging); a light likelihood
    term (0.3) lets translated rows move to their target domain, and the domain term is strong on
    translations (1) but weak on prior samples (0.2), which keeps sampled rows as varied as real ones.

    Parameters
    ----------
    latent_dim : int
        Size of the latent code z.
    hidden_dim : int
        Width of the dense layers of E, F and D.
    adversarial : {"gan", "wgan-gp"}
        Non-saturating GAN loss (Eq. 8) or WGAN-GP critic (the authors' published command line).
    lr : float
        Adam learning rate of E, F and D.
    batch_size : int
        Rows per step, at most; small datasets use ``n_train // 16`` (at least 32) so that every epoch
        has at least 16 steps.
    epochs : int
        Upper bound on passes over the training rows (early stopping usually ends sooner).
    lambda_like, lambda_rec, lambda_prior, lambda_cls, lambda_adv : float
        Weights of L_like (Eq. 6), L_rec (Eq. 7), L_prior (Eq. 5), the domain loss on translated rows
        (Eq. 9) and the adversarial loss (Eq. 8) in the generator objective.
    lambda_cls_prior : float
        Weight of the domain loss on rows decoded from the prior. Kept low: a strong domain loss makes
        sampled rows caricatures of their domain (D_cls 97% sure of them against 69% on real rows on Adult)
        and triples the Fréchet distance.
    lambda_self : float
        Weight of the conditional-VAE term: the likelihood of x decoded from E(x, (a, y)) in its own domain
        (and its KL), which teaches F the per-domain distribution that balanced sampling draws from.
    lambda_gp : float
        Gradient-penalty weight (WGAN-GP only).
    critic_steps : int
        Discriminator updates per generator update.
    prior_samples : bool
        Also show D rows decoded from z ~ N(0, I) with random domains (what ``sample`` draws).
    gumbel_tau : float
        Temperature of the Gumbel-softmax that D sees for generated categorical spans.
    eval_every : int
        Epochs between validation evaluations (Fréchet distance and translation fidelity).
    patience : int
        Evaluations without improvement of the checkpoint score before early stopping; 0 disables it.
    checkpoint_metric : {"translation", "fid"}
        What the kept checkpoint is chosen by on the validation rows: ``translation`` (how often
        counterfactual translations reach their target domain, relative to real rows; ties go to the lower
        FID) or ``fid`` (prior samples' Fréchet distance alone).
    seed : int
        Seed of initialisation, batching and noise.
    device : {"auto", "cpu", "cuda"}
        ``auto`` uses CUDA when available.
    mixed_precision : bool
        bfloat16 autocast on CUDA (ignored on the CPU).
    encoding : EncoderConfig
        How numeric columns are encoded (the generator models, and the classifiers read, the encoded rows);
        the default was chosen by measurement on Adult, COMPAS and German (``docs/benchmarks.md``). A saved
        configuration without it predates the choice and had the paper's max-abs encoding.
    calibrated_sampling : bool
        Draw sampled rows' latent codes from a Gaussian fitted to the training rows' codes
        (:mod:`fairgen_core.generator.latent`) and calibrate each domain's column marginals to its training rows
        (per-domain logit biases for categories, a monotone map for numeric values;
        :mod:`fairgen_core.generator.calibration`). False samples the decoder's own output from z ~ N(0, I), as
        the paper does. Translations are never calibrated.
    """

    latent_dim: int = 32
    hidden_dim: int = 128
    adversarial: Adversarial = "gan"
    lr: float = 2e-3
    batch_size: int = 2048
    epochs: int = 300
    lambda_like: float = 0.3
    lambda_self: float = 1.0
    lambda_rec: float = 10.0
    lambda_prior: float = 0.1
    lambda_cls: float = 1.0
    lambda_cls_prior: float = 0.2
    lambda_adv: float = 1.0
    lambda_gp: float = 10.0
    critic_steps: int = 1
    prior_samples: bool = True
    gumbel_tau: float = 0.2
    eval_every: int = 1
    patience: int = 10
    checkpoint_metric: CheckpointMetric = "translation"
    seed: int = 0
    device: Device = "auto"
    mixed_precision: bool = True
    encoding: EncoderConfig = DEFAULT_ENCODING
    calibrated_sampling: bool = True

    def __post_init__(self) -> None:
        _require_positive(self, "generator", ("latent_dim", "hidden_dim", "lr", "batch_size", "epochs",
                                              "critic_steps", "gumbel_tau", "eval_every"))
        if self.checkpoint_metric not in ("translation", "fid"):
            raise FairGenError(f"checkpoint_metric must be 'translation' or 'fid', got '{self.checkpoint_metric}'.")
        if self.adversarial not in ("gan", "wgan-gp"):
            raise FairGenError(f"adversarial loss must be 'gan' or 'wgan-gp', got '{self.adversarial}'.")
        _require_device(self.device)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Self:
        """Rebuild from :meth:`to_dict`, ignoring unknown keys; a configuration saved before a choice existed gets
        the paper's: without ``encoding`` the max-abs encoding, without ``calibrated_sampling`` the decoder's own
        output, which such a model was trained and sampled with.

        Examples
        --------
        >>> old = GeneratorConfig.from_dict({"epochs": 3})
        >>> old.encoding == EncoderConfig(), old.calibrated_sampling
        (True, False)
        """
        encoding = values.get("encoding")
        config = super().from_dict({k: v for k, v in values.items() if k != "encoding"})
        return replace(config, encoding=EncoderConfig() if encoding is None else EncoderConfig.from_dict(encoding),
                       calibrated_sampling=bool(values.get("calibrated_sampling", False)))

    def effective_batch_size(self, n_train: int) -> int:
        """Rows per step for ``n_train`` training rows: ``batch_size``, or smaller for small datasets.

        Examples
        --------
        >>> [GeneratorConfig().effective_batch_size(n) for n in (34_000, 4_300, 700, 100)]
        [2048, 268, 43, 32]
        """
        return max(1, min(self.batch_size, max(32, n_train // 16), n_train))


@dataclass(frozen=True)
class ClassifierConfig(_Serialisable):
    """Hyper-parameters of the classifier C and of its pre-training and fine-tuning.

    Parameters
    ----------
    hidden_dim : int
        Width of the two hidden layers.
    dropout : float
        Dropout after each hidden layer (the paper uses 0.7).
    lr : float
        Adam learning rate.
    batch_size : int
        Rows per step.
    max_epochs : int
        Upper bound on passes over the training rows.
    patience : int
        Epochs without improvement of the validation balanced accuracy before stopping; 0 disables
        early stopping.
    seed : int
        Seed of initialisation, batching, dropout and the synthetic rows.
    device : {"auto", "cpu", "cuda"}
        ``auto`` uses CUDA when available.
    pretrain_rows_per_domain : int
        Synthetic rows drawn per (group, label) domain for pre-training (exactly balanced).
    balance_domains : bool
        Fine-tune (and train "no TL") on domain-balanced real data, as the paper does: real rows and
        synthetic pairs are weighted so that every (group, label) domain has the same total weight.
    balance_classes : bool
        Weight the positive class by (negatives / positives) of the training mix, which trains as on
        label-balanced data (the paper's "balanced real data") and makes the 0.5 threshold meaningful
        for balanced accuracy.
    pairs : {"counterfactual", "paper"}
        How a real row's synthetic pair is made (:data:`PairProtocol`).
    finetune_lr_scale : float
        Fine-tuning runs at ``lr * finetune_lr_scale`` (below 1 keeps more of what pre-training gave).
    consistency : float
        Weight of the pair-consistency term: the squared difference of C's probabilities for a real row
        and its own synthetic pair in the same batch (0: off).

    Examples
    --------
    >>> ClassifierConfig(max_epochs=10).to_dict()["max_epochs"]
    10
    """

    hidden_dim: int = 64
    dropout: float = 0.7
    lr: float = 1e-3
    batch_size: int = 256
    max_epochs: int = 100
    patience: int = 5
    seed: int = 0
    device: Device = "auto"
    pretrain_rows_per_domain: int = 5000
    balance_domains: bool = True
    balance_classes: bool = True
    pairs: PairProtocol = "counterfactual"
    finetune_lr_scale: float = 1.0
    consistency: float = 0.0

    def __post_init__(self) -> None:
        _require_positive(self, "classifier", ("hidden_dim", "lr", "batch_size", "max_epochs",
                                               "pretrain_rows_per_domain", "finetune_lr_scale"))
        check_pairs(self.pairs)
        if self.consistency < 0:
            raise FairGenError(f"the consistency weight must be 0 (off) or more, got {self.consistency}.")
        if not 0.0 <= self.dropout < 1.0:
            raise FairGenError(f"dropout must be in [0, 1), got {self.dropout}.")
        if self.patience < 0:
            raise FairGenError(f"patience must be 0 (no early stopping) or more, got {self.patience}.")
        _require_device(self.device)
