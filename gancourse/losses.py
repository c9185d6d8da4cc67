"""GAN losses, computed stably from logits (the discriminator's pre-sigmoid output).

With D(x) = σ(l):  −log D = softplus(−l)  and  −log(1 − D) = softplus(l), which
stay finite for any logit; ``log(sigmoid(l))`` underflows to −inf at l ≈ −100.

Conventions (each a mean over the batch, no factor ½):

* discriminator: −E log D(x) − E log(1 − D(G(z)))
* generator, ``saturating``:      E log(1 − D(G(z)))       (the minimax cost)
* generator, ``non_saturating``:  −E log D(G(z))           (the one everyone uses)
* generator, ``max_likelihood``:  −E exp(σ⁻¹(D(G(z))))     (Goodfellow 2014b; σ⁻¹(D) is the logit)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .checks import check_choice

GENERATOR_LOSS_KINDS = ("saturating", "non_saturating", "max_likelihood")

# exp(80) ≈ 5.5e34 is finite in float32 (exp(89) is not); beyond it the generator
# has fooled D completely, and the max-likelihood cost's gradient is clamped.
_MAX_LOGIT_FOR_EXP = 80.0


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """−E log D(x) − E log(1 − D(G(z))); logits of any shape, returns a scalar."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """The generator's cost for ``kind`` in ``GENERATOR_LOSS_KINDS``; returns a scalar."""
    check_choice(kind, GENERATOR_LOSS_KINDS, "generator loss kind")
    if kind == "saturating":
        return -F.softplus(fake_logits).mean()
    if kind == "non_saturating":
        return F.softplus(-fake_logits).mean()
    return -torch.exp(fake_logits.clamp(max=_MAX_LOGIT_FOR_EXP)).mean()
