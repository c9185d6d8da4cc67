"""The Fréchet distance between Gaussians, and FID on the classifier's features.

    d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½)

Tr (Σ₁Σ₂)^½ is computed as Σ √λᵢ of the symmetric matrix Σ₁^½ Σ₂ Σ₁^½ (same
eigenvalues as Σ₁Σ₂), in float64 with eigenvalues clipped at 0: no complex
square roots, and finite for singular covariances (fewer samples than features,
dead units), where ``scipy.linalg.sqrtm`` needs a jitter term.
"""
from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from ..checks import GanCourseError
from .classifier import extract_features

ArrayLike = np.ndarray | torch.Tensor


class FeatureStats(NamedTuple):
    """Mean (F,) and covariance (F, F) of N feature vectors, float64."""

    mu: np.ndarray
    sigma: np.ndarray
    n: int


def _f64(x: ArrayLike) -> np.ndarray:
    return np.asarray(x.detach().cpu().double() if isinstance(x, torch.Tensor) else x, dtype=np.float64)


def _sqrt_psd(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike) -> float:
    """Squared Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2).

    Args:
        mu1, mu2: means, shape (F,).
        sigma1, sigma2: covariances, shape (F, F), symmetric positive semi-definite (may be singular).
    Returns:
        d² >= 0 as a Python float (float64 throughout; rounding below 0 is clipped to 0).
    """
    mu1, mu2, s1, s2 = map(_f64, (mu1, mu2, sigma1, sigma2))
    f = mu1.shape[0] if mu1.ndim == 1 else -1
    if mu1.ndim != 1 or mu2.shape != (f,) or s1.shape != (f, f) or s2.shape != (f, f):
        raise GanCourseError(
            f"frechet_distance: expected means (F,) and covariances (F, F) of one F, got "
            f"{mu1.shape}, {s1.shape}, {mu2.shape}, {s2.shape}"
        )
    if not all(np.all(np.isfinite(a)) for a in (mu1, mu2, s1, s2)):
        raise GanCourseError("frechet_distance: means and covariances must be finite")
    r1 = _sqrt_psd(s1)
    m = r1 @ s2 @ r1
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    diff = mu1 - mu2
    return max(float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt), 0.0)


def feature_stats(features: ArrayLike) -> FeatureStats:
    """Mean and (unbiased, N−1) covariance of features (N, F), N >= 2."""
    x = _f64(features)
    if x.ndim != 2 or x.shape[0] < 2:
        raise GanCourseError(f"feature_stats: expected features (N, F) with N >= 2, got shape {x.shape}")
    return FeatureStats(x.mean(0), np.cov(x, rowvar=False), x.shape[0])


def image_stats(images: torch.Tensor, network: nn.Module | None = None) -> FeatureStats:
    """Feature statistics of images (N, 1, 28, 28) in [-1, 1] (default network: the shipped classifier)."""
    return feature_stats(extract_features(images, network))


def fid(
    images_a: torch.Tensor | FeatureStats, images_b: torch.Tensor | FeatureStats, network: nn.Module | None = None,
) -> float:
    """Fréchet distance between the feature Gaussians of two image sets (lower is closer; 0 for one set).

    Args:
        images_a, images_b: (N, 1, 28, 28) in [-1, 1], or precomputed :class:`FeatureStats`
            (e.g. :func:`reference_stats`). Biased upwards for small N: compare FIDs at equal N.
        network: feature network (images -> (N, F)); default the shipped MNIST classifier.
    """
    a = images_a if isinstance(images_a, FeatureStats) else image_stats(images_a, network)
    b = images_b if isinstance(images_b, FeatureStats) else image_stats(images_b, network)
    return frechet_distance(a.mu, a.sigma, b.mu, b.sigma)


@functools.lru_cache(maxsize=2)
def reference_features(split: str = "train") -> torch.Tensor:
    """Classifier features (N, 128) of the MNIST reference ``load_mnist(split)``, computed once per process."""
    from ..data import load_mnist

    return extract_features(load_mnist(split, verbose=False).images)


@functools.lru_cache(maxsize=2)
def reference_stats(split: str = "train") -> FeatureStats:
    """Feature statistics of the MNIST reference (``load_mnist(split)``), computed once per process."""
    return feature_stats(reference_features(split))
