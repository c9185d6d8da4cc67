"""Precision and recall of a generative model with k-NN manifolds (Kynkäänniemi et al., 2019).

The real manifold is the union of balls around each real feature vector, each with
the radius to its k-th nearest real neighbour; likewise for the generated set.
Precision: the share of generated samples inside the real manifold (quality).
Recall: the share of real samples inside the generated manifold (coverage).
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..checks import GanCourseError
from .classifier import extract_features
from .neighbours import knn


class PrecisionRecall(NamedTuple):
    precision: float
    recall: float


def _radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance of each row of x to its k-th nearest other row."""
    return knn(x, x, k + 1).distances[:, k]  # column 0 is the point itself


def _inside(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
    """Whether each point lies within some ball (centre, radius); shape (N,) bool."""
    hit = []
    for i in range(0, len(points), chunk):
        d = torch.cdist(points[i : i + chunk], centres)
        hit.append((d <= radii[None, :]).any(1))
    return torch.cat(hit)


def precision_recall_from_features(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> PrecisionRecall:
    """Precision and recall from features real (N, F) and fake (M, F); both in [0, 1]."""
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise GanCourseError(f"precision_recall: expected features (N, F) of one F, got {tuple(real.shape)} and {tuple(fake.shape)}")
    if not 1 <= k < min(len(real), len(fake)):
        raise GanCourseError(f"precision_recall: k must be in 1..{min(len(real), len(fake)) - 1}, got {k}")
    real, fake = real.float(), fake.float()
    precision = _inside(fake, real, _radii(real, k)).float().mean()
    recall = _inside(real, fake, _radii(fake, k)).float().mean()
    return PrecisionRecall(float(precision), float(recall))


def precision_recall(images_a: torch.Tensor, images_b: torch.Tensor, k: int = 3, network: nn.Module | None = None) -> PrecisionRecall:
    """Precision and recall of generated ``images_b`` against real ``images_a``.

    Args:
        images_a: real images (N, 1, 28, 28) in [-1, 1] (the reference manifold).
        images_b: generated images (M, 1, 28, 28) in [-1, 1].
        k: neighbours that set each ball's radius (3 in the paper).
    Returns:
        PrecisionRecall(precision, recall), each in [0, 1]: 1 and 1 for identical sets.
    """
    return precision_recall_from_features(extract_features(images_a, network), extract_features(images_b, network), k)
