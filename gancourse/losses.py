"""GAN losses, computed stably from logits (the discriminator's pre-sigmoid output), and WGAN's.

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

from .checks import GanCourseError, check_choice

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


# --------------------------------------------------------------------------- Wasserstein GAN
# The critic f outputs an unbounded score (a linear output, no sigmoid). With f 1-Lipschitz,
#   W1(p_data, p_g) = sup_f E f(x) − E f(G(z))     (Kantorovich–Rubinstein duality),
# so the critic maximises E f(x) − E f(G(z)) (it minimises the negative) and the generator
# minimises −E f(G(z)). The reference code writes the same thing with ±1 labels:
# mean(y · f) with y = −1 on real and +1 on fake samples (one backward pass each).


def critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E f(G(z)) − E f(x): the critic's loss (its negative estimates W1); scores of any shape, returns a scalar."""
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """−E f(G(z)): the WGAN generator's loss; scores of any shape, returns a scalar."""
    return -fake_scores.mean()


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, *critic_args: torch.Tensor,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """Unscaled WGAN-GP penalty E (‖∇x̂ f(x̂)‖₂ − 1)² on x̂ = ε x + (1 − ε) x̃, ε ~ U[0, 1] per sample.

    ``real`` and ``fake`` are (N, ...) of one shape (fake detached or not); ``critic_args``
    (e.g. labels (N,)) go to the critic unchanged. The result is differentiable with
    respect to the critic's weights (``create_graph=True``); the caller multiplies by λ
    (10 in Gulrajani et al., 2017). ``generator`` makes ε repeatable.
    """
    if not isinstance(real, torch.Tensor) or not isinstance(fake, torch.Tensor):
        raise GanCourseError("gradient_penalty: real and fake must be tensors")
    if real.shape != fake.shape or real.dim() < 2 or real.shape[0] == 0:
        raise GanCourseError(
            f"gradient_penalty: real and fake must be batches (N, ...) of the same shape, got "
            f"{tuple(real.shape)} and {tuple(fake.shape)}"
        )
    n = real.shape[0]
    eps = torch.rand((n,) + (1,) * (real.dim() - 1), generator=generator, device=real.device, dtype=real.dtype)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat, *critic_args)
    if scores.numel() != n:
        raise GanCourseError(f"gradient_penalty: the critic must return one score per sample (N = {n}), got shape {tuple(scores.shape)}")
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
