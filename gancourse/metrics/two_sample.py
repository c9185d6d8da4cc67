"""The classifier two-sample test (Lopez-Paz & Oquab, 2017).

Train a classifier to tell set A from set B on one half of each, and measure its
accuracy on the other half. If A and B come from one distribution, no classifier
beats chance: accuracy ≈ 0.5, and ``p_value`` (one-sided exact binomial test of
"accuracy > 0.5") is uniform. A clearly higher accuracy means the sets differ, and
how far above 0.5 it is says by how much. The classifier here is linear (Fisher's
discriminant with a shrunk covariance, closed form) on the shipped network's features
(or on any (N, D) points).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from ..checks import GanCourseError
from .classifier import extract_features


class TwoSampleResult(NamedTuple):
    """Held-out ``accuracy`` of telling A from B, on ``n_test`` points, and its binomial ``p_value``."""

    accuracy: float
    p_value: float
    n_test: int


def binomial_tail(successes: int, n: int) -> float:
    """P(X >= successes) for X ~ Binomial(n, 1/2), exact (log-space)."""
    if successes <= 0:
        return 1.0
    ks = np.arange(successes, n + 1)
    logs = np.array([math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) for k in ks]) - n * math.log(2)
    top = logs.max()
    return float(min(1.0, math.exp(top) * np.exp(logs - top).sum()))


def two_sample_test_points(a: torch.Tensor, b: torch.Tensor, seed: int = 0, shrinkage: float = 0.1) -> TwoSampleResult:
    """Classifier two-sample test on points a (N, D) and b (M, D): a linear classifier, half to train, half to test."""
    if a.dim() == 1:
        a, b = a[:, None], b[:, None]
    if a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[1]:
        raise GanCourseError(f"two_sample_test: expected points (N, D) of one D, got {tuple(a.shape)} and {tuple(b.shape)}")
    n = min(len(a), len(b))
    if n < 4:
        raise GanCourseError("two_sample_test: needs at least 4 samples in each set")
    g = torch.Generator().manual_seed(seed)
    a = a.double()[torch.randperm(len(a), generator=g)[:n]]
    b = b.double()[torch.randperm(len(b), generator=g)[:n]]
    half = n // 2
    x_test = torch.cat([a[half:], b[half:]])
    y_test = torch.cat([torch.zeros(n - half), torch.ones(n - half)]).double()
    # Fisher's linear discriminant with a shrunk covariance: closed form, fast, deterministic
    mu_a, mu_b = a[:half].mean(0), b[:half].mean(0)
    centred = torch.cat([a[:half] - mu_a, b[:half] - mu_b])
    cov = centred.T @ centred / max(1, len(centred) - 2)
    cov = (1 - shrinkage) * cov + shrinkage * cov.diagonal().mean() * torch.eye(cov.shape[0], dtype=cov.dtype)
    cov = cov + 1e-9 * torch.eye(cov.shape[0], dtype=cov.dtype)  # identical points: still solvable
    w = torch.linalg.solve(cov, mu_b - mu_a)
    threshold = w @ (mu_a + mu_b) / 2
    correct = int(((x_test @ w > threshold).double() == y_test).sum())
    return TwoSampleResult(correct / len(y_test), binomial_tail(correct, len(y_test)), len(y_test))


def two_sample_test(images_a: torch.Tensor, images_b: torch.Tensor, seed: int = 0, network: nn.Module | None = None) -> TwoSampleResult:
    """Can a classifier tell ``images_a`` from ``images_b`` (each (N, 1, 28, 28) in [-1, 1])?

    Returns:
        TwoSampleResult(accuracy in [0, 1] (≈ 0.5: indistinguishable), p_value, n_test).
    """
    return two_sample_test_points(extract_features(images_a, network), extract_features(images_b, network), seed)
