"""Mode coverage on toy mixtures: how many modes a generator reaches, and how cleanly.

A sample is *high quality* when it lies within ``n_std`` standard deviations
(Euclidean distance, 3σ by default) of its nearest mode; a mode is *covered* when
it is the nearest mode of at least ``min_count`` high-quality samples. A collapsed
generator covers few modes however sharp its samples are.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from ..checks import GanCourseError
from ..toys import GaussianMixture


class ModeCoverage(NamedTuple):
    """``modes_covered`` of ``n_modes``; ``high_quality_share`` in [0, 1]; ``counts`` (K,) high-quality samples per mode."""

    modes_covered: int
    n_modes: int
    high_quality_share: float
    counts: np.ndarray


def nearest_mode(samples: torch.Tensor | np.ndarray, mixture: GaussianMixture) -> tuple[np.ndarray, np.ndarray]:
    """Index (N,) of each sample's nearest mode and the distance (N,) to it."""
    x = np.asarray(samples.detach().cpu() if isinstance(samples, torch.Tensor) else samples, dtype=np.float64)
    if x.ndim == 1 and mixture.dim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != mixture.dim or len(x) == 0:
        raise GanCourseError(f"mode_coverage: expected samples (N, {mixture.dim}), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise GanCourseError("mode_coverage: samples contain NaN or infinite values")
    d = np.linalg.norm(x[:, None, :] - mixture.means.double().numpy()[None], axis=2)  # (N, K)
    idx = d.argmin(1)
    return idx, d[np.arange(len(x)), idx]


def mode_coverage(samples: torch.Tensor | np.ndarray, mixture: GaussianMixture, n_std: float = 3.0, min_count: int = 1) -> ModeCoverage:
    """Modes covered and the share of high-quality samples, for samples (N, D) (or (N,) in 1-D) of a mixture."""
    if min_count < 1 or n_std <= 0:
        raise GanCourseError("mode_coverage: min_count must be >= 1 and n_std > 0")
    idx, dist = nearest_mode(samples, mixture)
    good = dist <= n_std * mixture.std
    counts = np.bincount(idx[good], minlength=mixture.n_modes)
    return ModeCoverage(int((counts >= min_count).sum()), mixture.n_modes, float(good.mean()), counts)
