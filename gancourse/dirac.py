"""The Dirac-GAN (Mescheder et al., 2018): the smallest GAN that fails to converge.

Data δ₀ (every real sample is 0), generator δ_θ (every fake is θ), a linear discriminator
D_ψ(x) = ψx. With f(t) = −log(1 + e^{−t}) the GAN's value is L(θ, ψ) = f(ψθ) + f(0):
D ascends L in ψ, G descends it in θ. The only equilibrium is (θ, ψ) = (0, 0).

Gradient play follows the vector field v(θ, ψ) = (−∂L/∂θ, +∂L/∂ψ); its Jacobian at the
equilibrium decides what happens near it. Methods (``DIRAC_METHODS``), with the reference
code's default settings:

==================  =============================================================  ============
``gan``             v = (−ψ f'(ψθ), θ f'(ψθ))                                      eigenvalues ±i/2
``wgan``            f(t) = t, ψ clipped to [−c, c] after each step (c = 0.3)        ±i (no clip near 0)
``wgan-gp``         f(t) = t, D's loss + γ/2 (|ψ| − g₀)² (γ = 1, g₀ = 0.3)            no equilibrium at 0
``instance-noise``  real and fake samples + N(0, σ²) (σ = 1), expectation exact          −σ²/4 ± ...
``r1``              D's loss + γ/2 ψ² (‖∇ₓD‖² on the reals; γ = 0.3)                (−γ ± √(γ² − 1))/2
==================  =============================================================  ============

Everything is float64 torch, so :func:`dirac_jacobian` differentiates the field with autograd.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .checks import GanCourseError, check_choice

DIRAC_METHODS = ("gan", "wgan", "wgan-gp", "instance-noise", "r1")
DEFAULTS = {"clip": 0.3, "gamma_gp": 1.0, "target": 0.3, "noise_std": 1.0, "gamma": 0.3}

# Gauss-Hermite nodes for E[g(ε)], ε ~ N(0, 1): E g(ε) ≈ Σ w_i g(√2 x_i) / √π, exact for polynomials of degree < 80
_NODES, _WEIGHTS = (torch.from_numpy(a) for a in np.polynomial.hermite.hermgauss(40))


def f_prime(t: torch.Tensor) -> torch.Tensor:
    """f'(t) for f(t) = −log(1 + e^{−t}): σ(−t), ½ at 0."""
    return torch.sigmoid(-t)


def _settings(method: str, kw: dict) -> dict:
    check_choice(method, DIRAC_METHODS, "Dirac-GAN method")
    unknown = set(kw) - set(DEFAULTS)
    if unknown:
        raise GanCourseError(f"unknown Dirac-GAN setting(s) {', '.join(sorted(unknown))}; known: {', '.join(DEFAULTS)}")
    s = {**DEFAULTS, **kw}
    for name, value in s.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise GanCourseError(f"Dirac-GAN setting {name} must be a number >= 0, got {value!r}")
    return s


def dirac_field(theta, psi, method: str = "gan", **settings) -> tuple[torch.Tensor, torch.Tensor]:
    """The gradient-play vector field (dθ, dψ) at (θ, ψ) (tensors or floats of one shape; float64 out).

    ``settings`` override ``DEFAULTS`` (``gamma`` for r1, ``gamma_gp``/``target`` for wgan-gp, ``noise_std``
    for instance-noise; ``clip`` only acts in :func:`dirac_trajectory`).
    """
    s = _settings(method, settings)
    theta = torch.as_tensor(theta, dtype=torch.float64)
    psi = torch.as_tensor(psi, dtype=torch.float64)
    if method in ("wgan", "wgan-gp"):
        d_theta, d_psi = -psi, theta.clone()
        if method == "wgan-gp":  # ∇ₓD = ψ everywhere, so the penalty is γ/2 (|ψ| − g₀)²
            d_psi = d_psi - s["gamma_gp"] * (psi.abs() - s["target"]) * torch.sign(psi)
        return d_theta, d_psi
    if method == "instance-noise":  # fakes θ + σε, reals σε'; L = E f(ψ(θ + σε)) + E f(−ψσε')
        eps = (math.sqrt(2.0) * s["noise_std"] * _NODES).reshape((-1,) + (1,) * theta.dim())
        w = (_WEIGHTS / math.sqrt(math.pi)).reshape(eps.shape)
        fake = theta + eps
        d_theta = (w * -psi * f_prime(psi * fake)).sum(0)
        d_psi = (w * (fake * f_prime(psi * fake) - eps * f_prime(-psi * eps))).sum(0)
        return d_theta, d_psi
    d_theta, d_psi = -psi * f_prime(psi * theta), theta * f_prime(psi * theta)
    if method == "r1":  # ∇ₓD(x) = ψ at the real x = 0: the penalty γ/2 ψ²
        d_psi = d_psi - s["gamma"] * psi
    return d_theta, d_psi


def dirac_trajectory(method: str = "gan", start: tuple[float, float] = (1.0, 1.0), lr: float = 0.1,
                     steps: int = 500, **settings) -> torch.Tensor:
    """(steps + 1, 2) float64: (θ, ψ) after each simultaneous gradient step θ += lr·dθ, ψ += lr·dψ.

    ``wgan`` projects ψ back to [−clip, clip] after each step, as weight clipping does.
    """
    s = _settings(method, settings)
    if not (isinstance(steps, int) and steps >= 1) or not lr > 0:
        raise GanCourseError(f"dirac_trajectory: steps must be a positive int and lr > 0, got {steps!r} and {lr!r}")
    path = torch.empty(steps + 1, 2, dtype=torch.float64)
    path[0] = torch.tensor(start, dtype=torch.float64)
    for i in range(steps):
        theta, psi = path[i]
        d_theta, d_psi = dirac_field(theta, psi, method, **settings)
        theta, psi = theta + lr * d_theta, psi + lr * d_psi
        if method == "wgan":
            psi = psi.clamp(-s["clip"], s["clip"])
        path[i + 1, 0], path[i + 1, 1] = theta, psi
    return path


def dirac_jacobian(method: str = "gan", at: tuple[float, float] = (0.0, 0.0), **settings) -> torch.Tensor:
    """The 2×2 Jacobian ∂(dθ, dψ)/∂(θ, ψ) of the field at ``at`` (default the equilibrium), by autograd."""
    def field(point: torch.Tensor) -> torch.Tensor:
        return torch.stack(dirac_field(point[0], point[1], method, **settings))

    return torch.autograd.functional.jacobian(field, torch.tensor(at, dtype=torch.float64))


def r1_eigenvalues(gamma: float) -> torch.Tensor:
    """The eigenvalues (−γ ± √(γ² − 1))/2 of the R1-regularised field's Jacobian at (0, 0), complex128 (2,)."""
    _settings("r1", {"gamma": gamma})
    root = torch.sqrt(torch.tensor(gamma * gamma - 1.0, dtype=torch.complex128))
    return torch.stack([(-gamma + root) / 2, (-gamma - root) / 2])
