"""The feature network: a small MNIST classifier that ships with the package.

FID, KID, precision/recall and the Inception Score need a network that turns a
digit into features. Inception-V3 would need a download; this CNN does not: its
weights (``gancourse/assets/mnist_classifier.pt``, ~0.4 MB) were trained by
``python -m gancourse.metrics.train_classifier`` on the digits ``load_mnist("train")``
gives, and the file records its accuracy on the held-out ``load_mnist("test")``.

    images (N, 1, 28, 28) in [-1, 1]
      -> conv 32 -> pool -> conv 64 -> pool -> conv 128 -> global average pool
      -> features (N, 128)          (the penultimate layer, used for FID/KID/PR)
      -> dropout -> linear -> logits (N, 10)   (used for the Inception Score)
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ..checks import GanCourseError, check_images

ASSET = Path(__file__).resolve().parent.parent / "assets" / "mnist_classifier.pt"
NUM_FEATURES = 128


class DigitClassifier(nn.Module):
    """A CNN for 28x28 digits: ``features`` (N, 128) and ``forward`` logits (N, 10).

    After :meth:`freeze` it stays in eval mode (``.train()`` is ignored) and its
    weights take no gradients: a feature network must not change while it measures.
    """

    num_features = NUM_FEATURES

    def __init__(self) -> None:
        super().__init__()

        def block(c_in: int, c_out: int, pool: bool) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
            return layers + ([nn.MaxPool2d(2)] if pool else [])

        self.body = nn.Sequential(
            *block(1, 32, pool=True),  # (N, 32, 14, 14)
            *block(32, 64, pool=True),  # (N, 64, 7, 7)
            *block(64, NUM_FEATURES, pool=False),  # (N, 128, 7, 7)
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),  # (N, 128)
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(NUM_FEATURES, 10))
        self.frozen = False
        self.info: dict[str, Any] = {}

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) in [-1, 1] -> penultimate features (N, 128), non-negative."""
        if self.frozen:
            x = x.contiguous(memory_format=torch.channels_last)  # about 2x faster on CPUs
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) in [-1, 1] -> class logits (N, 10)."""
        return self.head(self.features(x))

    def freeze(self) -> "DigitClassifier":
        """Eval mode for good, no gradients, batch norm folded into the convolutions; returns self."""
        super().train(False)
        layers = list(self.body)
        for i, layer in enumerate(layers):
            if isinstance(layer, nn.BatchNorm2d):  # the same function, one layer less
                self.body[i - 1] = fuse_conv_bn_eval(layers[i - 1], layer)
                self.body[i] = nn.Identity()
        self.requires_grad_(False)
        self.frozen = True
        return self.to(memory_format=torch.channels_last)

    def train(self, mode: bool = True) -> "DigitClassifier":
        return super().train(mode and not self.frozen)


def load_classifier(path: str | Path | None = None, device: torch.device | str = "cpu") -> DigitClassifier:
    """The shipped classifier (or one saved at ``path``), frozen and in eval mode.

    ``model.info`` holds what the training script recorded (held-out accuracy, data source, seed).
    """
    if path is None:
        return _shipped(str(torch.device(device)))
    return _load(Path(path), device)


@functools.lru_cache(maxsize=4)
def _shipped(device: str) -> DigitClassifier:
    return _load(ASSET, device)


def _load(path: Path, device: torch.device | str) -> DigitClassifier:
    if not path.exists():
        raise GanCourseError(f"no classifier weights at {path}; train them with `python -m gancourse.metrics.train_classifier`")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        model = DigitClassifier()
        model.load_state_dict(saved["state_dict"])
    except Exception as err:
        raise GanCourseError(f"{path} is not a gancourse classifier ({type(err).__name__}); retrain it") from None
    model.info = {k: v for k, v in saved.items() if k != "state_dict"}
    return model.freeze().to(device)


def _as_batches(images: torch.Tensor, batch_size: int):
    for i in range(0, len(images), batch_size):
        yield images[i : i + batch_size]


def to_classifier_size(images: torch.Tensor) -> torch.Tensor:
    """Digits as the shipped classifier takes them: (N, 1, 28, 28); 32x32 digits lose their 2-pixel border.

    ProGAN's 32x32 digits are MNIST padded with 2 background pixels per side (``data.pad_to``);
    the centre crop undoes that exactly, so real digits score as before (held-out FID 0.155).
    Resizing 32 -> 28 instead shrinks every digit by 1/8, a shift the classifier's features
    notice: real held-out digits, resized, score FID 3.9 (area) or 3.0 (bilinear).
    """
    size = images.shape[-1]
    if images.dim() != 4 or images.shape[-2] != size or size not in (28, 32):
        raise GanCourseError(f"expected digits of shape (N, 1, 28, 28) or (N, 1, 32, 32), got {tuple(images.shape)}")
    return images if size == 28 else images[..., 2:30, 2:30]


@torch.no_grad()
def extract_features(
    images: torch.Tensor, network: nn.Module | None = None, batch_size: int = 256, logits: bool = False,
) -> torch.Tensor:
    """Features (N, F) (or logits (N, 10)) of images, as float32 on the CPU.

    Args:
        images: (N, 1, 28, 28) in [-1, 1] for the shipped classifier (the default);
            for another ``network``, whatever shape it takes, still in [-1, 1].
        network: a module mapping images to (N, F); default the shipped classifier's ``features``.
        logits: return the classifier's logits instead of its features.
    Raises:
        GanCourseError: on images of the wrong shape, dtype or range.
    """
    if network is None:
        images = check_images(images, channels=1, size=28)
        net = load_classifier(device=images.device)
        fn = net if logits else net.features
    else:
        images = check_images(images)
        fn = network
    out = [fn(batch).float().cpu() for batch in _as_batches(images, batch_size)]
    return torch.cat(out)


def classify(images: torch.Tensor) -> torch.Tensor:
    """Class probabilities p(y|x), shape (N, 10), from the shipped classifier."""
    return extract_features(images, logits=True).softmax(1)
