"""Input checks that turn bad input into one clear sentence.

Every public function that takes images calls :func:`check_images` first, so a
learner sees "expected images in [-1, 1], got values in [0, 255]" instead of a
shape error from deep inside torch.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch


class GanCourseError(ValueError):
    """A mistake in what was asked of gancourse; the message says what to do."""


class CheckpointError(GanCourseError):
    """A checkpoint that is missing, truncated or not written by gancourse."""


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the message names the step."""


def check_images(
    images: torch.Tensor | np.ndarray,
    *,
    name: str = "images",
    channels: int | None = None,
    size: int | Sequence[int] | None = None,
    tol: float = 1e-4,
) -> torch.Tensor:
    """Check a batch of images and return it as a float tensor.

    Args:
        images: shape (N, C, H, W), values in [-1, 1] (the course's convention).
        channels: required C, if any.
        size: required H (= W) or (H, W), if any.
        tol: slack allowed on the range for rounding.
    Raises:
        GanCourseError: on the wrong type, rank, shape, dtype or range.
    """
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(images)
    if not isinstance(images, torch.Tensor):
        raise GanCourseError(f"{name}: expected a torch.Tensor or numpy array, got {type(images).__name__}")
    if images.dim() != 4:
        raise GanCourseError(
            f"{name}: expected shape (N, C, H, W), got {tuple(images.shape)}; "
            "add a channel axis with x.unsqueeze(1) or reshape flat vectors to (N, 1, 28, 28)"
        )
    if images.shape[0] == 0:
        raise GanCourseError(f"{name}: the batch is empty")
    if not images.is_floating_point():
        raise GanCourseError(
            f"{name}: expected float images in [-1, 1], got dtype {images.dtype}; "
            "convert with x.float() / 127.5 - 1"
        )
    if channels is not None and images.shape[1] != channels:
        raise GanCourseError(f"{name}: expected {channels} channel(s), got shape {tuple(images.shape)}")
    if size is not None:
        hw = (size, size) if isinstance(size, int) else tuple(size)
        if tuple(images.shape[2:]) != hw:
            raise GanCourseError(f"{name}: expected images of {hw[0]}x{hw[1]} pixels, got shape {tuple(images.shape)}")
    lo, hi = torch.aminmax(images.detach())
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise GanCourseError(f"{name}: contains NaN or infinite values")
    if lo < -1 - tol or hi > 1 + tol:
        raise GanCourseError(
            f"{name}: expected values in [-1, 1], got values in [{lo:.3g}, {hi:.3g}]; "
            "rescale with x / 127.5 - 1 (from 0..255) or 2 * x - 1 (from 0..1)"
        )
    return images


def check_probability_vector(p: torch.Tensor | np.ndarray, name: str = "p", tol: float = 1e-6) -> np.ndarray:
    """Return ``p`` as a float64 array after checking it is a probability vector."""
    arr = np.asarray(p.detach().cpu() if isinstance(p, torch.Tensor) else p, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise GanCourseError(f"{name}: expected a 1-D probability vector, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise GanCourseError(f"{name}: probabilities must be finite and non-negative")
    if abs(arr.sum() - 1.0) > tol * max(1, arr.size):
        raise GanCourseError(f"{name}: probabilities must sum to 1, got {arr.sum():.6g}; normalise with p / p.sum()")
    return arr


def check_choice(value: str, choices: Sequence[str], what: str) -> str:
    """Return ``value`` if it is one of ``choices``, else raise naming them."""
    if value not in choices:
        raise GanCourseError(f"unknown {what} {value!r}; choose one of: {', '.join(choices)}")
    return value
