"""GAN losses, computed stably from logits (the discriminator's pre-sigmoid output), and WGAN's.

With D(x) = σ(l):  −log D = softplus(−l)  and  −log(1 − D) = softplus(l), which
stay finite for any logit; ``log(sigmoid(l))`` underflows to −inf at l ≈ −100.

Conventions (each a mean over the batch, no factor ½):

* discriminator: −E log D(x) − E log(1 − D(G(z)))
* generator, ``saturating``:      E log(1 − D(G(z)))       (the minimax cost)
* generator, ``non_saturating``:  −E log D(G(z))           (the one everyone uses)
* generator, ``max_likelihood``:  −E exp(σ⁻¹(D(G(z))))     (Goodfellow 2014b; σ⁻¹(D) is the logit)

The hinge and least-squares losses take D's raw output l (no sigmoid) and are means too:

* hinge (Lim & Ye, 2017):          D: E relu(1 − l(x)) + E relu(1 + l(G(z)));  G: −E l(G(z))
* least squares (Mao et al., 2017): D: ½ E (l(x) − b)² + ½ E (l(G(z)) − a)²;  G: ½ E (l(G(z)) − c)²
* R1 (Mescheder et al., 2018):     E ‖∇ₓ l(x)‖² on real x only, unscaled (the caller adds γ/2 · R1)
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


# --------------------------------------------------------------------------- hinge and least squares
# Both act on D's raw output; a logit is the natural one to pass, but no sigmoid is applied.


def hinge_discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """E relu(1 − D(x)) + E relu(1 + D(G(z))) (Lim & Ye, 2017): zero once reals score ≥ 1 and fakes ≤ −1.

    Outputs of any shape; returns a scalar. Beyond the margin a sample gives D no gradient.
    """
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def hinge_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """−E D(G(z)): the hinge GAN's generator loss (no margin); outputs of any shape, returns a scalar."""
    return -fake_logits.mean()


def least_squares_discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor,
                                     a: float = 0.0, b: float = 1.0) -> torch.Tensor:
    """½ E (D(x) − b)² + ½ E (D(G(z)) − a)² (Mao et al., 2017): D regresses reals to b, fakes to a.

    Outputs of any shape, returns a scalar. a = 0, b = 1 (with c = 1 for G) is the 0-1 coding
    the paper trains with; a = −1, b = 1, c = 0 (b − c = 1, b − a = 2) makes G minimise the
    Pearson χ² divergence between p_data + p_g and 2 p_g.
    """
    return 0.5 * ((real_logits - b) ** 2).mean() + 0.5 * ((fake_logits - a) ** 2).mean()


def least_squares_generator_loss(fake_logits: torch.Tensor, c: float = 1.0) -> torch.Tensor:
    """½ E (D(G(z)) − c)²: G pulls its samples' scores to c (1 with the 0-1 coding, 0 with −1/1/0); returns a scalar."""
    return 0.5 * ((fake_logits - c) ** 2).mean()


def _check_batch_pair(who: str, real: torch.Tensor, fake: torch.Tensor | None = None) -> None:
    if not isinstance(real, torch.Tensor) or (fake is not None and not isinstance(fake, torch.Tensor)):
        raise GanCourseError(f"{who}: {'real and fake' if fake is not None else 'real'} must be tensors")
    if (fake is not None and real.shape != fake.shape) or real.dim() < 2 or real.shape[0] == 0:
        got = f"{tuple(real.shape)} and {tuple(fake.shape)}" if fake is not None else f"{tuple(real.shape)}"
        what = "real and fake must be batches (N, ...) of the same shape" if fake is not None else "real must be a batch (N, ...)"
        raise GanCourseError(f"{who}: {what}, got {got}")


def _input_gradient(who: str, critic, x: torch.Tensor, critic_args: tuple) -> torch.Tensor:
    """∇ₓ of the critic's per-sample scores at x (which requires grad), kept differentiable."""
    n = x.shape[0]
    scores = critic(x, *critic_args)
    if scores.numel() != n:
        raise GanCourseError(f"{who}: the critic must return one score per sample (N = {n}), got shape {tuple(scores.shape)}")
    (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return grad


def r1_penalty(discriminator, real: torch.Tensor, *discriminator_args: torch.Tensor) -> torch.Tensor:
    """Unscaled R1 penalty E ‖∇ₓ D(x)‖² on the real images only (Mescheder et al., 2018), a scalar.

    ``real`` is (N, ...) (it is detached here); ``discriminator_args`` (e.g. labels (N,)) go to D
    unchanged; D returns one logit per sample. Differentiable with respect to D's weights
    (``create_graph=True``). The caller adds γ/2 · R1 to D's loss; lazily (StyleGAN2) it adds
    k · γ/2 · R1 every k-th step only (k = 16). Zero-centred, so at the equilibrium D = const it vanishes.
    """
    _check_batch_pair("r1_penalty", real)
    x = real.detach().requires_grad_(True)
    grad = _input_gradient("r1_penalty", discriminator, x, discriminator_args)
    return grad.flatten(1).pow(2).sum(dim=1).mean()


def r1_regulariser(gamma: float = 1.0):
    """The trainer's ``penalty`` for R1: ``f(D, real, fake, *labels) = γ/2 · r1_penalty(D, real, *labels)``.

    γ ≥ 0 (0 turns it off; Mescheder et al. use 10 on CelebA-HQ, StyleGAN2 tunes it per data set).
    For the lazy form pass ``penalty_every=k`` to the trainer: it adds k · (this) on every k-th step.
    """
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not gamma >= 0:
        raise GanCourseError(f"r1_regulariser: the penalty weight gamma must be a number >= 0, got {gamma!r}")

    def r1(discriminator, real: torch.Tensor, fake: torch.Tensor, *labels: torch.Tensor) -> torch.Tensor:
        return (gamma / 2) * r1_penalty(discriminator, real, *labels)

    r1.gamma = gamma  # type: ignore[attr-defined]
    return r1


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, *critic_args: torch.Tensor,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """Unscaled WGAN-GP penalty E (‖∇x̂ f(x̂)‖₂ − 1)² on x̂ = ε x + (1 − ε) x̃, ε ~ U[0, 1] per sample.

    ``real`` and ``fake`` are (N, ...) of one shape (fake detached or not); ``critic_args``
    (e.g. labels (N,)) go to the critic unchanged. The result is differentiable with
    respect to the critic's weights (``create_graph=True``); the caller multiplies by λ
    (10 in Gulrajani et al., 2017). ``generator`` makes ε repeatable.
    """
    _check_batch_pair("gradient_penalty", real, fake)
    n = real.shape[0]
    eps = torch.rand((n,) + (1,) * (real.dim() - 1), generator=generator, device=real.device, dtype=real.dtype)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    grad = _input_gradient("gradient_penalty", critic, x_hat, critic_args)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
