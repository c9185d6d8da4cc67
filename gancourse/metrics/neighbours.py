"""Nearest neighbours: memorisation checks, and the k-NN balls of precision and recall."""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..checks import GanCourseError, check_images
from .classifier import extract_features


class Neighbours(NamedTuple):
    """For each query: ``indices`` (N, k) into the reference set and Euclidean ``distances`` (N, k), nearest first."""

    indices: torch.Tensor
    distances: torch.Tensor


def knn(queries: torch.Tensor, reference: torch.Tensor, k: int = 1, chunk: int = 1024) -> Neighbours:
    """The ``k`` nearest rows of ``reference`` (M, D) for each row of ``queries`` (N, D), in chunks."""
    if queries.dim() != 2 or reference.dim() != 2 or queries.shape[1] != reference.shape[1]:
        raise GanCourseError(f"knn: expected (N, D) and (M, D), got {tuple(queries.shape)} and {tuple(reference.shape)}")
    if not 1 <= k <= len(reference):
        raise GanCourseError(f"knn: k must be in 1..{len(reference)}, got {k}")
    ref = reference.float()
    idx, dist = [], []
    for i in range(0, len(queries), chunk):
        q = queries[i : i + chunk].float()
        ik = torch.cdist(q, ref).topk(k, dim=1, largest=False).indices
        dk = (q[:, None, :] - ref[ik]).norm(dim=2)  # exact (cdist's fast path loses ~1e-2 to cancellation)
        dk, order = dk.sort(dim=1)
        idx.append(ik.gather(1, order))
        dist.append(dk)
    return Neighbours(torch.cat(idx), torch.cat(dist))


def nearest_neighbours(
    queries: torch.Tensor, training: torch.Tensor, k: int = 1, space: str = "pixels", network: nn.Module | None = None,
) -> Neighbours:
    """Nearest training images of each query image: a generator that memorised shows near-copies.

    Args:
        queries: generated images (N, C, H, W) in [-1, 1].
        training: the training images (M, C, H, W) in [-1, 1].
        space: ``"pixels"`` (Euclidean distance between images) or ``"features"`` (classifier features).
    Returns:
        Neighbours(indices (N, k) into ``training``, distances (N, k)).
    """
    q = check_images(queries, name="queries")
    t = check_images(training, name="training")
    if space == "pixels":
        if q.shape[1:] != t.shape[1:]:
            raise GanCourseError(f"queries {tuple(q.shape[1:])} and training {tuple(t.shape[1:])} images differ in shape")
        return knn(q.flatten(1).cpu(), t.flatten(1).cpu(), k)
    if space == "features":
        return knn(extract_features(q, network), extract_features(t, network), k)
    raise GanCourseError(f"unknown space {space!r}; choose 'pixels' or 'features'")
