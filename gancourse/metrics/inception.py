"""The Inception Score, with the shipped classifier (or Inception-V3 where its weights are present).

IS = exp( E_x KL(p(y|x) ‖ p(y)) ): high when each image is classified confidently
(sharp p(y|x)) and the classes are used evenly (flat p(y)). With 10 classes it lies
in [1, 10]. It never looks at real data, so it cannot see memorisation or
a wrong style within a class.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from ..checks import GanCourseError, check_images
from .classifier import classify

INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"


class ISResult(NamedTuple):
    """Mean and standard deviation of the score over ``splits`` parts of the sample."""

    mean: float
    std: float


def inception_score_from_probs(probs: torch.Tensor, splits: int = 10) -> ISResult:
    """IS from class probabilities (N, K) (rows summing to 1), over ``splits`` consecutive equal parts.

    The parts are taken in the given order: shuffle rows that are sorted by class first
    (:func:`inception_score` does), or each part holds one class and the score drops to ~1.
    """
    p = probs.double()
    if p.dim() != 2 or len(p) < splits or splits < 1:
        raise GanCourseError(f"inception_score: expected probabilities (N, K) with N >= splits={splits}, got {tuple(p.shape)}")
    scores = []
    for part in torch.tensor_split(p, splits):
        py = part.mean(0, keepdim=True)
        kl = (part * (torch.log(part.clamp_min(1e-12)) - torch.log(py.clamp_min(1e-12)))).sum(1).mean()
        scores.append(float(torch.exp(kl)))
    return ISResult(float(np.mean(scores)), float(np.std(scores)))


def inception_score(
    images: torch.Tensor, splits: int = 10, network: str = "classifier", weights: str | Path | None = None, seed: int = 0,
) -> ISResult:
    """Inception Score of images (N, C, H, W) in [-1, 1], split into ``splits`` random parts (``seed``).

    Args:
        network: ``"classifier"`` (default: the shipped MNIST classifier, 28x28 digits) or
            ``"inception"`` (Inception-V3 via torch-fidelity, only where its weights are already on disk:
            ``weights`` or ``$TORCH_HOME/hub/checkpoints/``; nothing is downloaded).
    Returns:
        ISResult(mean, std) over ``splits`` parts; in [1, 10] for the classifier.
    """
    if network == "classifier":
        probs = classify(images)
    elif network == "inception":
        probs = _inception_probs(images, weights)
    else:
        raise GanCourseError(f"unknown network {network!r}; choose 'classifier' or 'inception'")
    return inception_score_from_probs(probs[torch.randperm(len(probs), generator=torch.Generator().manual_seed(seed))], splits)


def inception_weights(weights: str | Path | None = None) -> Path:
    """The path of Inception-V3 (FID) weights already on disk; a clear error where there are none."""
    home = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch"))
    path = Path(weights) if weights is not None else home / "hub" / "checkpoints" / INCEPTION_FILE
    if not path.is_file():
        raise GanCourseError(
            f"Inception-V3 weights not found at {path}; gancourse never downloads them. Use the shipped "
            "MNIST classifier (the default), or place the FID Inception weights there and install torch-fidelity"
        )
    return path


@torch.no_grad()
def _inception_probs(images: torch.Tensor, weights: str | Path | None) -> torch.Tensor:
    path = inception_weights(weights)
    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    except ImportError:
        raise GanCourseError("Inception-V3 needs torch-fidelity: `pip install torch-fidelity`") from None
    x = check_images(images)
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    net = FeatureExtractorInceptionV3("inception-v3-compat", ["logits_unbiased"], feature_extractor_weights_path=str(path)).eval()
    pixels = ((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
    logits = torch.cat([net(pixels[i : i + 100])[0] for i in range(0, len(pixels), 100)])
    return logits.double().softmax(1)
