"""Kernel Inception Distance: an unbiased MMD² between two feature sets.

KID = MMD²_u with the cubic kernel k(x, y) = (x·y / F + 1)³, averaged over random
subsets. Unlike FID it is unbiased: its expectation is 0 for two samples of one
distribution at any N, so values from different N compare (noisier at small N).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from ..checks import GanCourseError
from .classifier import extract_features


class KIDResult(NamedTuple):
    """Mean and standard deviation (over subsets) of the unbiased MMD² estimate."""

    mean: float
    std: float


def _kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: torch.Tensor, y: torch.Tensor) -> float:
    """Unbiased MMD² of feature sets x (m, F) and y (n, F), m, n >= 2, with the cubic kernel, in float64."""
    x, y = x.double(), y.double()
    m, n = len(x), len(y)
    kxx, kyy, kxy = _kernel(x, x), _kernel(y, y), _kernel(x, y)
    return float(
        (kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
        + (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
        - 2 * kxy.mean()
    )


def kid_from_features(
    feats_a: torch.Tensor, feats_b: torch.Tensor, subsets: int = 50, subset_size: int = 1000, seed: int = 0,
) -> KIDResult:
    """KID of two feature sets (N, F): ``subsets`` random subsets of ``subset_size`` from each.

    ``subset_size`` is capped at half the smaller set, so that subsets differ and their spread means something.
    """
    if feats_a.dim() != 2 or feats_b.dim() != 2 or feats_a.shape[1] != feats_b.shape[1]:
        raise GanCourseError(f"kid: expected features (N, F) of one F, got {tuple(feats_a.shape)} and {tuple(feats_b.shape)}")
    size = min(subset_size, min(len(feats_a), len(feats_b)) // 2)
    if size < 2 or subsets < 1:
        raise GanCourseError("kid: needs at least 2 samples per set and at least 1 subset")
    g = torch.Generator().manual_seed(seed)
    scores = []
    for _ in range(subsets):
        ia = torch.randperm(len(feats_a), generator=g)[:size]
        ib = torch.randperm(len(feats_b), generator=g)[:size]
        scores.append(mmd2_unbiased(feats_a[ia], feats_b[ib]))
    return KIDResult(float(np.mean(scores)), float(np.std(scores)))


def kid(
    images_a: torch.Tensor, images_b: torch.Tensor, subsets: int = 50, subset_size: int = 1000,
    seed: int = 0, network: nn.Module | None = None,
) -> KIDResult:
    """Kernel Inception Distance (on the shipped classifier's features) between two image sets.

    Args:
        images_a, images_b: (N, 1, 28, 28) in [-1, 1].
        subsets, subset_size: how many random subsets, of how many images each (capped at N/2).
    Returns:
        KIDResult(mean, std); the mean can be slightly negative for matching distributions.
    """
    return kid_from_features(extract_features(images_a, network), extract_features(images_b, network), subsets, subset_size, seed)
