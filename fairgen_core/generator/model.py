"""A trained translator: balanced sampling, translation of real rows, checkpoints."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from fairgen_core.config import GeneratorConfig, PairProtocol, check_pairs
from fairgen_core.data.encoding import TabularEncoder
from fairgen_core.data.spec import DatasetSpec, assign_domains, spec_from_dict, spec_to_dict
from fairgen_core.devices import resolve_device
from fairgen_core.errors import FairGenError
from fairgen_core.generator.assembly import RowAssembler, value_scores
from fairgen_core.generator.calibration import Calibration, MarginalTargets, fit_calibration
from fairgen_core.generator.latent import LatentPrior
from fairgen_core.generator.modules import OutputActivation, Translator

CHECKPOINT_FORMAT = 1
#: Rows decoded, assembled and repaired at a time by :meth:`FairGenerator.iter_samples` and its siblings.
CHUNK_ROWS = 20_000


def draw_targets(domains: torch.Tensor, n_groups: int, generator: torch.Generator | None = None, *,
                 keep_label: bool = False) -> torch.Tensor:
    """Target domains of translation: another group (flip a), with or without flipping the label.

    The paper's rule flips the label at random (``keep_label=False``); the counterfactual rule keeps it
    (flip a, keep y: the pair equal opportunity asks about). With more than two groups the other group is
    drawn uniformly among the rest.

    Examples
    --------
    >>> t = draw_targets(torch.tensor([0, 1, 2, 3]), n_groups=2, generator=torch.Generator().manual_seed(0))
    >>> bool(((t // 2) != torch.tensor([0, 0, 1, 1])).all())
    True
    >>> draw_targets(torch.tensor([0, 1, 2, 3]), n_groups=2, keep_label=True).tolist()
    [2, 3, 0, 1]
    """
    group, label = domains // 2, domains % 2
    shift = torch.randint(1, max(n_groups, 2), domains.shape, generator=generator, device=domains.device)
    if keep_label:
        return 2 * ((group + shift) % n_groups) + label
    flip = torch.randint(0, 2, domains.shape, generator=generator, device=domains.device)
    return 2 * ((group + shift) % n_groups) + (label ^ flip)


@dataclass
class FairGenerator:
    """The fitted VAE-GAN translator with what it needs to produce rows in the original schema.

    Use :func:`fairgen_core.generator.fit_generator` to create one and :meth:`load` to restore one.
    """

    config: GeneratorConfig
    spec: DatasetSpec
    encoder: TabularEncoder
    assembler: RowAssembler
    translator: Translator
    domain_names: tuple[str, ...]
    history: list[dict[str, Any]] = field(default_factory=list)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    marginals: MarginalTargets | None = None
    latent_prior: LatentPrior | None = None

    def __post_init__(self) -> None:
        self.activation = OutputActivation(self.encoder.layout).to(self.device)
        self.translator.to(self.device)
        self._calibration: Calibration | None = None

    @property
    def calibrated(self) -> bool:
        """Whether sampled rows are calibrated (:attr:`GeneratorConfig.calibrated_sampling`): the configuration
        asks for it and the model has the training rows' marginals (a model saved before calibration existed has
        none and samples as it always did). Their codes come from :attr:`latent_prior` when the model has one."""
        return self.config.calibrated_sampling and self.marginals is not None

    def draw_latent(self, domains: torch.Tensor, generator: torch.Generator, *, calibrated: bool) -> torch.Tensor:
        """Latent codes for sampled rows of ``domains``: from :attr:`latent_prior` when ``calibrated`` (and the
        model is :attr:`calibrated` and has one), else z ~ N(0, I)."""
        if calibrated and self.calibrated and self.latent_prior is not None:
            return self.latent_prior.to(self.device).draw(domains, generator)
        return torch.randn(len(domains), self.config.latent_dim, generator=generator, device=self.device)

    def calibration(self) -> Calibration | None:
        """The calibration of the current weights (measured on first use), or None when :attr:`calibrated` is
        false."""
        if not self.calibrated:
            return None
        if self._calibration is None:
            assert self.marginals is not None
            self.translator.eval()
            self._calibration = fit_calibration(
                self.translator.decoder, self.activation, self.marginals,
                lambda domains, generator: self.draw_latent(domains, generator, calibrated=True),
                device=self.device, seed=self.config.seed)
        return self._calibration

    def reset_calibration(self) -> None:
        """Forget the measured calibration (the weights changed); the next sample measures it again."""
        self._calibration = None

    @property
    def n_domains(self) -> int:
        """Number of (group, label) domains."""
        return len(self.domain_names)

    # -- counts ------------------------------------------------------------------------------------
    def domain_counts(self, n: int | None = None, *, per_domain: int | None = None,
                      counts: Mapping[int | str, int] | None = None) -> np.ndarray:
        """Rows to draw per domain: ``n`` split equally, ``per_domain`` each, or explicit ``counts``.

        Raises
        ------
        FairGenError
            If ``n`` is not a multiple of the number of domains (exact balance would be impossible), or a
            domain name in ``counts`` is unknown.
        """
        if counts is not None:
            out = np.zeros(self.n_domains, dtype=np.int64)
            for key, count in counts.items():
                out[self._domain_index(key)] = int(count)
            return out
        if per_domain is not None:
            return np.full(self.n_domains, int(per_domain), dtype=np.int64)
        if n is None or n % self.n_domains:
            raise FairGenError(
                f"balanced sampling needs a row count divisible by the {self.n_domains} domains, got {n}: "
                f"use a multiple of {self.n_domains} (e.g. {self.n_domains * max(1, (n or 0) // self.n_domains)})."
            )
        return np.full(self.n_domains, n // self.n_domains, dtype=np.int64)

    def _domain_index(self, key: int | str) -> int:
        if isinstance(key, str):
            if key not in self.domain_names:
                raise FairGenError(f"unknown domain '{key}': choose one of {', '.join(self.domain_names)}.")
            return self.domain_names.index(key)
        if not 0 <= int(key) < self.n_domains:
            raise FairGenError(f"domain index {key} is out of range 0..{self.n_domains - 1}.")
        return int(key)

    # -- sampling ----------------------------------------------------------------------------------
    @torch.no_grad()
    def decode_prior(self, domains: np.ndarray, generator: torch.Generator) -> torch.Tensor:
        """Encoded rows drawn from F(z, domain) for z ~ N(0, I), one per entry of ``domains``: the decoder's own
        output, uncalibrated (what the validation Fréchet distance judges during training).

        Categorical values are drawn from each span's softmax (see :meth:`OutputActivation.sample`).
        """
        return self._decode_prior(domains, generator, calibrated=False)[0]

    @torch.no_grad()
    def _decode_prior(self, domains: np.ndarray, generator: torch.Generator, *,
                      calibrated: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Rows drawn from the prior and the probabilities (softmax per span) they were drawn from; with
        ``calibrated``, moved to the training rows' marginals by :meth:`calibration` (when the model has one)."""
        self.translator.eval()
        calibration = self.calibration() if calibrated else None
        domain = torch.as_tensor(domains, device=self.device)
        z = self.draw_latent(domain, generator, calibrated=calibrated)
        onehot = torch.nn.functional.one_hot(domain, self.n_domains).float()
        logits = self.translator.decoder(z, onehot).float()
        if calibration is not None:
            logits = calibration.logits(logits, domain)
        rows, probabilities = self.activation.sample(logits, generator), self.activation.soft(logits)
        if calibration is None:
            return rows, probabilities
        return calibration.values(rows, domain), calibration.values(probabilities, domain)

    def iter_samples(self, domain_counts: Sequence[int], *, seed: int = 0,
                     chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        """Yield synthetic rows in the original schema, chunk by chunk, in random domain order.

        Every domain gets exactly ``domain_counts[d]`` rows in total. Memory stays bounded by the chunk. Rows keep
        the training rows' structure (repaired by :meth:`RowAssembler.assemble`, one-hot groups and the sources of
        implications by the decoder's probabilities) and carry fresh identifiers that never equal a real one.
        """
        rng = np.random.default_rng(seed)
        yield from self._rows_for(self._domain_order(domain_counts, rng), seed, rng, chunk_rows)

    def sample_domains(self, domains: np.ndarray, *, seed: int = 0) -> pd.DataFrame:
        """One synthetic row per entry of ``domains``, in that order, made as :meth:`iter_samples` makes its rows
        (kept to the structure; fresh identifiers)."""
        return _joined(list(self._rows_for(np.asarray(domains), seed, np.random.default_rng(seed), CHUNK_ROWS)))

    def _rows_for(self, domains: np.ndarray, seed: int, rng: np.random.Generator,
                  chunk_rows: int) -> Iterator[pd.DataFrame]:
        """Rows decoded from the prior for ``domains``, calibrated, chunk by chunk: every synthetic row is made
        here."""
        torch_generator = torch.Generator(device=self.device).manual_seed(seed)
        for start in range(0, len(domains), chunk_rows):
            chunk = domains[start:start + chunk_rows]
            encoded, probabilities = (t.cpu().numpy()
                                      for t in self._decode_prior(chunk, torch_generator, calibrated=True))
            yield self._assemble(encoded, probabilities, chunk, rng, first_id=start + 1)

    def _assemble(self, encoded: np.ndarray, probabilities: np.ndarray, domains: np.ndarray,
                  rng: np.random.Generator, first_id: int = 1) -> pd.DataFrame:
        """Rows in the original schema from encoded rows and the probabilities they were decoded from, repaired to
        keep the structure: the one path of every synthetic and translated row."""
        scores = value_scores(self.encoder, probabilities, self.assembler.scored_columns)
        return self.assembler.assemble(self.encoder.inverse_transform(encoded), domains, rng, first_id=first_id,
                                       scores=scores)

    def _domain_order(self, domain_counts: Sequence[int], rng: np.random.Generator) -> np.ndarray:
        """Domain indices with exactly ``domain_counts[d]`` entries for each domain, in random order."""
        counts = np.asarray(domain_counts, dtype=np.int64)
        if len(counts) != self.n_domains or (counts < 0).any():
            raise FairGenError(f"give one non-negative count per domain ({self.n_domains} domains).")
        return rng.permutation(np.repeat(np.arange(self.n_domains), counts))

    def sample_encoded(self, domain_counts: Sequence[int], *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Synthetic rows with exact counts per domain (random order), encoded, and their domains: the rows
        :meth:`iter_samples` yields for ``seed`` (kept to the structure), as the classifiers' inputs."""
        rng = np.random.default_rng(seed)
        domains = self._domain_order(domain_counts, rng)
        rows = _joined(list(self._rows_for(domains, seed, rng, CHUNK_ROWS)))
        return self.encoder.transform(rows), domains

    def sample(self, n: int | None = None, *, per_domain: int | None = None,
               counts: Mapping[int | str, int] | None = None, seed: int = 0) -> pd.DataFrame:
        """Synthetic rows with exact counts per (group, label) domain; equal counts by default.

        Parameters
        ----------
        n : int, optional
            Total rows, split equally over the domains (must be divisible by their number).
        per_domain : int, optional
            Rows in every domain.
        counts : mapping, optional
            Rows per domain, keyed by domain index or name (conditional sampling).
        seed : int
            Same seed, same rows.
        """
        return _joined(list(self.iter_samples(self.domain_counts(n, per_domain=per_domain, counts=counts), seed=seed)))

    # -- translation -------------------------------------------------------------------------------
    @torch.no_grad()
    def translate_encoded(self, x: np.ndarray, source: np.ndarray, target: np.ndarray, *, seed: int = 0,
                          batch_rows: int = 65_536) -> np.ndarray:
        """x_g = F(E(x, target), target) for encoded rows (hard one-hot categorical spans): the translator's own
        output, not kept to the structure (what translation fidelity judges); :meth:`pairs_encoded` gives the
        translations the product uses."""
        return self._translate(x, target, seed=seed, batch_rows=batch_rows, probabilities=False)[0]

    def pairs_encoded(self, x: np.ndarray, target: np.ndarray, *, seed: int = 0) -> np.ndarray:
        """Translations of encoded rows ``x`` to ``target`` made as :meth:`translate` makes them (kept to the
        structure), encoded: the synthetic pairs the classifiers train on."""
        return self.encoder.transform(self._translated_rows(x, target, seed))

    def _translated_rows(self, x: np.ndarray, target: np.ndarray, seed: int) -> pd.DataFrame:
        """Translations of encoded rows in the original schema, kept to the structure: every translated row is
        made here."""
        encoded, probabilities = self._translate(x, target, seed=seed, batch_rows=65_536,
                                                 probabilities=bool(self.assembler.scored_columns))
        return self._assemble(encoded, probabilities, target, np.random.default_rng(seed))

    @torch.no_grad()
    def _translate(self, x: np.ndarray, target: np.ndarray, *, seed: int, batch_rows: int,
                   probabilities: bool) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`translate_encoded`'s rows and, when asked, the decoder's probabilities (softmax per span; else an
        empty matrix)."""
        self.translator.eval()
        generator = torch.Generator(device=self.device).manual_seed(seed)
        hard, soft = [], []
        for start in range(0, len(x), batch_rows):
            xb = torch.as_tensor(x[start:start + batch_rows], device=self.device, dtype=torch.float32)
            tb = torch.nn.functional.one_hot(torch.as_tensor(target[start:start + batch_rows], device=self.device),
                                             self.n_domains).float()
            mu, log_var = self.translator.encoder(xb, tb)
            eps = torch.randn(mu.shape, generator=generator, device=self.device)
            logits = self.translator.decoder(mu + eps * (0.5 * log_var).exp(), tb).float()
            hard.append(self.activation.hard(logits).cpu().numpy())
            if probabilities:
                soft.append(self.activation.soft(logits).cpu().numpy())
        empty = np.zeros((0, self.encoder.n_features), dtype=np.float32)
        return (np.concatenate(hard) if hard else empty), (np.concatenate(soft) if soft else empty)

    def paired_targets(self, domains: np.ndarray, *, seed: int = 0, pairs: PairProtocol = "paper") -> np.ndarray:
        """The target domain of each source domain, seeded: ``paper`` flips the group and, at random, the label;
        ``counterfactual`` flips the group and keeps the label (see :func:`draw_targets`)."""
        generator = torch.Generator().manual_seed(seed)
        return draw_targets(torch.as_tensor(domains), self.spec.n_groups, generator,
                            keep_label=check_pairs(pairs) == "counterfactual").numpy()

    @torch.no_grad()
    def classify_domains(self, x: np.ndarray, *, batch_rows: int = 65_536) -> np.ndarray:
        """The domain D_cls (the discriminator's domain head) assigns to each encoded row."""
        self.translator.eval()
        out = []
        for start in range(0, len(x), batch_rows):
            xb = torch.as_tensor(x[start:start + batch_rows], device=self.device, dtype=torch.float32)
            out.append(self.translator.discriminator(xb)[1].argmax(dim=1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def translate(self, frame: pd.DataFrame, *, target: int | str | None = None, seed: int = 0) -> pd.DataFrame:
        """Each real row's synthetic counterpart x_g in the original schema.

        Parameters
        ----------
        frame : pandas.DataFrame
            Real rows with the training columns (label and sensitive columns included).
        target : int or str, optional
            One target domain for all rows; by default the paper's rule (another group, label kept or
            flipped at random) per row.
        seed : int
            Seed of the target draw and the latent noise.

        Returns
        -------
        pandas.DataFrame
            One row per real row (same index), keeping the training rows' structure; identifier columns hold
            fresh identifiers, never the source row's.
        """
        assignment = assign_domains(frame, self.spec)
        if not assignment.valid.all():
            raise FairGenError("some rows have a missing label or sensitive value: drop them before translating.")
        source = assignment.domain
        if target is None:
            targets = self.paired_targets(source, seed=seed)
        else:
            targets = np.full(len(frame), self._domain_index(target), dtype=np.int64)
        rows = self._translated_rows(self.encoder.transform(frame), targets, seed)
        rows.index = frame.index
        return rows

    # -- persistence -------------------------------------------------------------------------------
    def checkpoint(self, **training_state: Any) -> dict[str, Any]:
        """Everything needed to restore the model, as tensors and plain containers (``weights_only`` safe)."""
        return {
            "format": CHECKPOINT_FORMAT,
            "config": self.config.to_dict(),
            "spec": spec_to_dict(self.spec),
            "encoder": self.encoder.state_dict(),
            "assembler": self.assembler.state_dict(),
            "domain_names": list(self.domain_names),
            "dimensions": [self.translator.n_features, self.translator.n_domains, self.translator.hidden,
                           self.translator.latent],
            "model": {k: v.detach().cpu() for k, v in self.translator.state_dict().items()},
            "history": list(self.history),
            **({"marginals": self.marginals.state_dict()} if self.marginals is not None else {}),
            **({"latent_prior": self.latent_prior.state_dict()} if self.latent_prior is not None else {}),
            **training_state,
        }

    def save(self, path: str | Path) -> Path:
        """Write a checkpoint loadable with ``torch.load(weights_only=True)``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(self.checkpoint(), path)
        return path

    @classmethod
    def from_checkpoint(cls, state: dict[str, Any], device: str = "auto") -> FairGenerator:
        """Rebuild from :meth:`checkpoint` output (already loaded)."""
        try:
            if state.get("format") != CHECKPOINT_FORMAT:
                raise KeyError("format")
            n_features, n_domains, hidden, latent = (int(d) for d in state["dimensions"])
            with torch.device("meta"):  # no memory until the stored weights, whose shapes must match, arrive
                translator = Translator(n_features, n_domains, hidden, latent)
            translator.load_state_dict(state["model"], strict=True, assign=True)
            encoder = TabularEncoder.from_state_dict(state["encoder"])
            if encoder.n_features != n_features:
                raise ValueError(f"the encoder's width {encoder.n_features} differs from the model's {n_features}")
            return cls(
                config=GeneratorConfig.from_dict(state["config"]),
                spec=spec_from_dict(state["spec"]),
                encoder=encoder,
                assembler=RowAssembler.from_state_dict(state["assembler"]),
                translator=translator,
                domain_names=tuple(state["domain_names"]),
                history=list(state.get("history", [])),
                device=resolve_device(device),
                marginals=MarginalTargets.from_state_dict(state["marginals"]) if "marginals" in state else None,
                latent_prior=LatentPrior.from_state_dict(state["latent_prior"]) if "latent_prior" in state else None,
            )
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise FairGenError(f"the checkpoint is not a FairGen generator of this version ({exc}): "
                               "re-train the model or use the file it was saved to.") from exc

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> FairGenerator:
        """Load a checkpoint written by :meth:`save` (never unpickles arbitrary objects)."""
        try:
            state = torch.load(Path(path), map_location="cpu", weights_only=True)
        except FileNotFoundError as exc:
            raise FairGenError(f"checkpoint '{path}' does not exist: check the path.") from exc
        except Exception as exc:  # torch raises UnpicklingError/RuntimeError for foreign or damaged files
            raise FairGenError(f"'{Path(path).name}' is not a readable FairGen checkpoint ({type(exc).__name__}): "
                               "give the checkpoint file a FairGen training wrote.") from exc
        return cls.from_checkpoint(state, device)


def _joined(chunks: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
