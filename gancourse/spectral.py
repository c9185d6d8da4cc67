"""Spectral normalisation (Miyato et al., 2018): σ(W) by power iteration, written out as torch does it.

A layer's weight W is used as W / σ(W), σ the largest singular value of W reshaped to
(out, −1), which makes the linear map 1-Lipschitz. σ is estimated by power iteration on a
vector u carried from step to step, so one iteration per training step is enough once u has
converged. This is the paper's Algorithm 1 (v from u, then u from v), step for step what
``torch.nn.utils.spectral_norm`` computes. The newer
``torch.nn.utils.parametrizations.spectral_norm`` runs the same iteration half a step
shifted (u from the stored v, then v from u) and carries both; it runs 15 iterations when
attached, one per forward in training mode and none in eval mode, and for a ``ConvTranspose``
reshapes along dim 1 instead, which this function does not.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .checks import GanCourseError

_EPS = 1e-12  # torch's default: normalising a zero vector gives zero, not NaN


def spectral_norm_power_iteration(weight: torch.Tensor, u: torch.Tensor,
                                  n_iter: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return (σ, u, v) after ``n_iter`` power iterations on W = weight.reshape(out, −1) from ``u``.

    weight: (out, ...) of any rank ≥ 2 (a Linear's (out, in), a Conv2d's (out, in, kh, kw));
    u: (out,), the left singular vector estimate carried over from the last call.
    Each iteration is v ← normalise(Wᵀu), u ← normalise(Wv); then σ = uᵀWv, a scalar that is
    differentiable with respect to ``weight`` (u and v are not: they are returned detached,
    u (out,) and v (W's columns,), for the next call). σ ≤ ‖W‖₂, with equality once u has converged.
    """
    if not isinstance(weight, torch.Tensor) or weight.dim() < 2 or not weight.is_floating_point():
        raise GanCourseError(f"spectral_norm_power_iteration: weight must be a float tensor (out, ...) of rank >= 2, got "
                             f"{tuple(weight.shape) if isinstance(weight, torch.Tensor) else type(weight).__name__}")
    w = weight.reshape(weight.shape[0], -1)
    if not isinstance(u, torch.Tensor) or u.shape != (w.shape[0],):
        raise GanCourseError(f"spectral_norm_power_iteration: u must be a tensor of shape ({w.shape[0]},), one entry "
                             f"per output, got {tuple(u.shape) if isinstance(u, torch.Tensor) else type(u).__name__}")
    if not isinstance(n_iter, int) or n_iter < 1:
        raise GanCourseError(f"spectral_norm_power_iteration: n_iter must be an int >= 1, got {n_iter!r}")
    with torch.no_grad():
        w_ = w.detach()
        u = u.detach().to(w_.dtype)
        for _ in range(n_iter):
            v = F.normalize(w_.mT @ u, dim=0, eps=_EPS)
            u = F.normalize(w_ @ v, dim=0, eps=_EPS)
    sigma = u @ (w @ v)
    return sigma, u.clone(), v.clone()


def spectral_normalize(module: nn.Module) -> nn.Module:
    """Put torch's spectral norm (``parametrizations.spectral_norm``) on every Conv2d, ConvTranspose2d and Linear weight.

    In place; returns ``module`` (a ConvTranspose2d's weight is reshaped along its output dim 1, as torch does). Each weight is then used as W / σ(W), σ by one power iteration per
    forward in training mode (none in eval mode, where the stored u and v give σ). The parametrised
    weight lives at ``layer.parametrizations.weight.original`` (a parameter; an EMA averages it) and
    its u, v are buffers (an EMA copies them; a checkpoint saves them).
    """
    if not isinstance(module, nn.Module):
        raise GanCourseError(f"spectral_normalize: expected a torch.nn.Module, got {type(module).__name__}")
    layers = [m for m in module.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    if not layers:
        raise GanCourseError(f"spectral_normalize: {type(module).__name__} has no convolution or Linear layer to normalise")
    for layer in layers:
        if not torch.nn.utils.parametrize.is_parametrized(layer, "weight"):
            torch.nn.utils.parametrizations.spectral_norm(layer)
    return module
