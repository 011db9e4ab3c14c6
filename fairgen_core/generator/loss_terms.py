"""The loss terms of a training step as a typed record: one field per term, the weights applied in one method.

A step's values are tensors, an epoch's are lists of floats (every step) or floats (their mean): the record is
generic in its values. The training log (``progress.jsonl``, a checkpoint's history) names the terms by the
fields' names (``own_domain`` is logged as ``self``) in the order the fields are declared, the order a step
computes them; :meth:`LossTerms.as_dict` is the one place that spells them out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

if TYPE_CHECKING:
    from fairgen_core.config import GeneratorConfig

T = TypeVar("T")
U = TypeVar("U")
#: The field metadata key holding a term's name in the training log when it differs from the field's.
_LOGGED_AS = "logged_as"


@dataclass(frozen=True)
class GeneratorTerms(Generic[T]):
    """The terms E and F minimise in one step, before weighting.

    Attributes
    ----------
    like : T
        L_like (Eq. 6): the likelihood of x decoded in its target domain.
    rec : T
        L_rec (Eq. 7): the cycle reconstruction |x − x̂|.
    prior : T
        L_prior (Eq. 5): the KL of both codes against N(0, I).
    adv_g : T
        The adversarial loss (Eq. 8), generator side.
    cls_g : T
        The domain loss (Eq. 9) on translated rows.
    cls_prior : T or None
        The domain loss on rows decoded from the prior; None without ``prior_samples``.
    own_domain : T or None
        The conditional-VAE term: the likelihood of x decoded in its own domain plus λ_prior times its KL;
        None when ``lambda_self`` is 0. Logged as ``self``.
    """

    like: T
    rec: T
    prior: T
    adv_g: T
    cls_g: T
    cls_prior: T | None = None
    own_domain: T | None = field(default=None, metadata={_LOGGED_AS: "self"})

    def weighted_total(self, config: GeneratorConfig) -> T:
        """L_G: every present term times its weight in ``config``, summed in the order of the fields.

        Parameters
        ----------
        config : GeneratorConfig
            The weights (``lambda_like``, ``lambda_rec``, ``lambda_prior``, ``lambda_adv``, ``lambda_cls``,
            ``lambda_cls_prior``, ``lambda_self``).

        Returns
        -------
        T
            The weighted sum (a tensor that back-propagates when the terms are tensors).

        Examples
        --------
        >>> from fairgen_core.config import GeneratorConfig
        >>> terms = GeneratorTerms(like=1.0, rec=1.0, prior=1.0, adv_g=1.0, cls_g=1.0, cls_prior=1.0)
        >>> terms.weighted_total(GeneratorConfig(lambda_like=0.5, lambda_rec=10.0, lambda_prior=0.25,
        ...                                      lambda_adv=1.0, lambda_cls=1.0, lambda_cls_prior=0.25))
        13.0
        """
        weighted = ((config.lambda_like, self.like), (config.lambda_rec, self.rec), (config.lambda_prior, self.prior),
                    (config.lambda_adv, self.adv_g), (config.lambda_cls, self.cls_g),
                    (config.lambda_cls_prior, self.cls_prior), (config.lambda_self, self.own_domain))
        return sum(weight * term for weight, term in weighted if term is not None)  # type: ignore[return-value]

    def values(self) -> tuple[T, ...]:
        """The present terms' values (absent ones left out), in the order of the fields."""
        return tuple(value for _, value in self._present())

    def map(self, function: Callable[[T], T]) -> Self:
        """``function`` applied to every present term (e.g. ``torch.Tensor.detach``)."""
        return replace(self, **{name: function(value) for name, value in self._present()})

    def as_dict(self) -> dict[str, T]:
        """The present terms by their names in the training log, in the order of the fields.

        The format of the training log and of a checkpoint's history (and the names messages give the terms):
        code reads the fields.
        """
        logged = {f.name: f.metadata.get(_LOGGED_AS, f.name) for f in fields(self)}
        return {logged[name]: value for name, value in self._present()}

    def _present(self) -> list[tuple[str, Any]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None]


@dataclass(frozen=True, kw_only=True)
class LossTerms(GeneratorTerms[T]):
    """Every loss term of a step (or of an epoch): the generator's terms and their weighted total, then the
    discriminator's terms and total.

    Attributes
    ----------
    generator : T
        L_G, the generator's weighted total (:meth:`GeneratorTerms.weighted_total`).
    adv_d : T
        The adversarial loss (Eq. 8), discriminator side.
    cls_d : T
        The domain loss of D_cls on real rows (their own domains).
    discriminator : T
        L_D: ``adv_d + cls_d`` (plus the gradient penalty with WGAN-GP).

    Examples
    --------
    >>> step = LossTerms.of_step(GeneratorTerms(like=2.0, rec=0.5, prior=0.1, adv_g=0.7, cls_g=1.4),
    ...                          generator=8.2, adv_d=1.3, cls_d=1.4, discriminator=2.7)
    >>> list(step.as_dict())
    ['like', 'rec', 'prior', 'adv_g', 'cls_g', 'generator', 'adv_d', 'cls_d', 'discriminator']
    >>> step.map(lambda value: value * 2).generator
    16.4
    """

    generator: T
    adv_d: T
    cls_d: T
    discriminator: T

    @classmethod
    def of_step(cls, terms: GeneratorTerms[T], *, generator: T, adv_d: T, cls_d: T,
                discriminator: T) -> LossTerms[T]:
        """A step's record from the generator's terms, its total and the discriminator's terms and total."""
        shared = {f.name: getattr(terms, f.name) for f in fields(GeneratorTerms)}
        return cls(**shared, generator=generator, adv_d=adv_d, cls_d=cls_d, discriminator=discriminator)

    def with_values(self, values: Iterable[U]) -> LossTerms[U]:
        """The same present terms with new values, given in the order of :meth:`values` (e.g. an epoch's means)."""
        new = iter(values)
        return type(self)(**{name: next(new) for name, _ in self._present()})  # type: ignore[arg-type]
