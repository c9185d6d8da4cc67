"""Toy distributions with known densities: where a GAN's behaviour can be seen whole.

* ``gaussian_mixture_1d`` — 1-D mixtures (chapter 1's live GAN);
* ``two_cities`` — a bimodal temperature distribution (mode collapse, chapter 7);
* ``ring_of_gaussians`` (8 modes) and ``grid_of_gaussians`` (25 modes) in 2-D
  (mode coverage, chapter 5).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .checks import GanCourseError


@dataclass(frozen=True)
class GaussianMixture:
    """An isotropic Gaussian mixture in D dimensions.

    Attributes:
        means: (K, D) component means.
        std: one standard deviation shared by all components and axes.
        weights: (K,) mixing weights summing to 1.
    """

    means: torch.Tensor
    std: float
    weights: torch.Tensor

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @property
    def n_modes(self) -> int:
        return self.means.shape[0]

    def sample(self, n: int, generator: torch.Generator | None = None, device: torch.device | str | None = None) -> torch.Tensor:
        """Draw ``n`` points, shape (n, D); with a ``generator`` on ``device`` this never syncs the host."""
        device = torch.device(device) if device is not None else (generator.device if generator is not None else torch.device("cpu"))
        weights, means = self.weights.to(device), self.means.to(device)
        k = torch.multinomial(weights, n, replacement=True, generator=generator)
        noise = torch.randn(n, self.dim, generator=generator, device=device)
        return means[k] + self.std * noise

    def pdf(self, x: np.ndarray | torch.Tensor) -> np.ndarray:
        """Density at points x: shape (n,) for 1-D mixtures given (n,), else (n, D) -> (n,)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        if x.shape[1] != self.dim:
            raise GanCourseError(f"pdf: expected points of dimension {self.dim}, got shape {x.shape}")
        mu = self.means.double().numpy()
        sq = ((x[:, None, :] - mu[None]) ** 2).sum(-1)
        norm = (2 * math.pi * self.std**2) ** (-self.dim / 2)
        return (self.weights.double().numpy()[None] * norm * np.exp(-sq / (2 * self.std**2))).sum(1)


def gaussian_mixture_1d(means=(0.0,), stds: float = 1.0, weights=None) -> GaussianMixture:
    """A 1-D mixture; ``gaussian_mixture_1d((4.0,), 0.5)`` is a single Gaussian N(4, 0.5²)."""
    m = torch.tensor(means, dtype=torch.float32).reshape(-1, 1)
    return _mixture(m, stds, weights)


def two_cities(cold: float = 5.0, warm: float = 25.0, std: float = 3.0) -> GaussianMixture:
    """Daily temperatures (°C) pooled from a cold and a warm city: two equal modes."""
    return gaussian_mixture_1d((cold, warm), std)


def ring_of_gaussians(n_modes: int = 8, radius: float = 1.0, std: float = 0.01) -> GaussianMixture:
    """``n_modes`` Gaussians evenly spaced on a circle (the VEEGAN/PacGAN ring: radius 1, σ = 0.01)."""
    angles = torch.arange(n_modes, dtype=torch.float64) * (2 * math.pi / n_modes)
    m = torch.stack([radius * torch.cos(angles), radius * torch.sin(angles)], 1).float()
    return _mixture(m, std, None)


def grid_of_gaussians(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture:
    """``side``² Gaussians on a grid centred at 0 (the 25-mode grid: means {−4,−2,0,2,4}², σ = 0.05)."""
    ticks = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    m = torch.cartesian_prod(ticks, ticks)
    return _mixture(m, std, None)


def _mixture(means: torch.Tensor, std: float, weights) -> GaussianMixture:
    if not std > 0:
        raise GanCourseError(f"std must be positive, got {std}")
    k = means.shape[0]
    w = torch.full((k,), 1.0 / k) if weights is None else torch.tensor(weights, dtype=torch.float32)
    if w.shape != (k,) or (w < 0).any() or abs(float(w.sum()) - 1) > 1e-5:
        raise GanCourseError(f"weights must be {k} non-negative numbers summing to 1, got {weights}")
    return GaussianMixture(means, float(std), w)
