"""The minimax game on discrete distributions (chapter 1).

Distributions are probability vectors over the same finite set of points (a
histogram, or a density evaluated on a grid and normalised); logs are natural.
With D*(x) = p_data / (p_data + p_g),

    V(D*, G) = −log 4 + 2 · JSD(p_data ‖ p_g),

so the generator's best reply is p_g = p_data, where D* = 1/2 everywhere.
Terms with zero probability contribute 0 (the convention 0 · log 0 = 0).
"""
from __future__ import annotations

import numpy as np
import torch

from .checks import GanCourseError, check_probability_vector


def optimal_discriminator(p_data, p_g) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)); 1/2 where both are 0 (any value is optimal there)."""
    p, q = check_probability_vector(p_data, "p_data"), check_probability_vector(p_g, "p_g")
    _same_support(p, q)
    total = p + q
    return np.divide(p, total, out=np.full_like(p, 0.5), where=total > 0)


def value_function(d, p_data, p_g) -> float:
    """V(D, G) = Σ p_data log D + Σ p_g log(1 − D), for D given as a vector of values in [0, 1]."""
    p, q = check_probability_vector(p_data, "p_data"), check_probability_vector(p_g, "p_g")
    d = np.asarray(d.detach().cpu() if isinstance(d, torch.Tensor) else d, dtype=np.float64)
    _same_support(p, q)
    if d.shape != p.shape:
        raise GanCourseError(f"d: expected one value per point, shape {p.shape}, got {d.shape}")
    if np.any(d < 0) or np.any(d > 1) or not np.all(np.isfinite(d)):
        raise GanCourseError("d: discriminator outputs must be probabilities in [0, 1]")
    return float(_xlogy(p, d).sum() + _xlogy(q, 1.0 - d).sum())


def kl_divergence(p, q) -> float:
    """KL(p ‖ q) = Σ p log(p / q); infinite where p > 0 = q."""
    p, q = check_probability_vector(p, "p"), check_probability_vector(q, "q")
    _same_support(p, q)
    if np.any((p > 0) & (q == 0)):
        return float("inf")
    return float((_xlogy(p, p) - _xlogy(p, q)).sum())


def js_divergence(p, q) -> float:
    """JSD(p ‖ q) = ½ KL(p ‖ m) + ½ KL(q ‖ m), m = (p + q) / 2; always in [0, log 2]."""
    p, q = check_probability_vector(p, "p"), check_probability_vector(q, "q")
    _same_support(p, q)
    m = 0.5 * (p + q)
    return 0.5 * kl_divergence(p, m) + 0.5 * kl_divergence(q, m)


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x · log y with 0 · log 0 = 0 (and x · log 0 = −inf for x > 0)."""
    out = np.zeros_like(x)
    pos = x > 0
    with np.errstate(divide="ignore"):
        out[pos] = x[pos] * np.log(y[pos])
    return out


def _same_support(p: np.ndarray, q: np.ndarray) -> None:
    if p.shape != q.shape:
        raise GanCourseError(f"the two distributions must be over the same points, got shapes {p.shape} and {q.shape}")
