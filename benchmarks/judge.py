"""A second judge for generated digits: a feature network the GANs never trained against, and pixel statistics.

The course's FID uses the shipped classifier (gancourse.metrics), trained with augmentation on the same 4,500
digits the GANs train on. A model can be good at that one number and still look wrong to another network. This
script gives two more instruments, for benchmarks only (the course does not ship them):

  judge FID   Fréchet distance in the 256 features of a different network (two 5x5 convolutions and a dense layer,
              no batch norm, trained without augmentation, seed 1), so off-manifold marks such as background
              speckle move its features rather than being averaged away
  frame ink   mean ink, (x + 1) / 2, in the 3-pixel frame where MNIST digits never reach (real: 0)
  stray ink   share of inked pixels (x > 0) with no inked pixel among their 8 neighbours (real: ~0)

    python benchmarks/judge.py                      # trains the judge (about a minute), scores held-out digits
    python benchmarks/judge.py samples.pt           # scores a tensor (N, 1, 28|32, 28|32) in [-1, 1]

The weights are cached in build/judge.pt (ignored by git).
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.data import load_mnist
from gancourse.device import seed_everything
from gancourse.metrics import to_classifier_size
from gancourse.metrics.frechet import feature_stats, frechet_distance

CACHE = Path(__file__).resolve().parent.parent / "build" / "judge.pt"


class JudgeNet(nn.Module):
    """(N, 1, 28, 28) in [-1, 1] -> logits (N, 10); ``features`` (N, 256)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2),  # (N, 20, 12, 12)
            nn.Conv2d(20, 50, 5), nn.ReLU(), nn.MaxPool2d(2),  # (N, 50, 4, 4)
            nn.Flatten(), nn.Linear(800, 256), nn.ReLU(),  # (N, 256)
        )
        self.head = nn.Linear(256, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def train_judge(epochs: int = 12, seed: int = 1) -> JudgeNet:
    g = seed_everything(seed)
    data = load_mnist("train", verbose=False)
    net = JudgeNet()
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    for _ in range(epochs):
        order = torch.randperm(len(data.images), generator=g)
        for i in range(0, len(order), 64):
            idx = order[i : i + 64]
            loss = F.cross_entropy(net(data.images[idx]), data.labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return net.eval().requires_grad_(False)


def load_judge() -> JudgeNet:
    if CACHE.exists():
        net = JudgeNet()
        net.load_state_dict(torch.load(CACHE, weights_only=True))
        return net.eval().requires_grad_(False)
    net = train_judge()
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), CACHE)
    return net


@torch.no_grad()
def _features(net: JudgeNet, images: torch.Tensor) -> torch.Tensor:
    return torch.cat([net.features(images[i : i + 500]) for i in range(0, len(images), 500)])


_REFERENCE: dict[str, object] = {}


def judge_scores(images: torch.Tensor) -> dict[str, float]:
    """judge FID against the 4,500 training digits, frame ink, stray ink, and the classes the judge reads (>= 2 %)."""
    images = to_classifier_size(images.float().cpu().clamp(-1, 1))
    net = load_judge()
    if "train" not in _REFERENCE:
        _REFERENCE["train"] = feature_stats(_features(net, load_mnist("train", verbose=False).images).numpy())
    ref = _REFERENCE["train"]
    features = _features(net, images)
    st = feature_stats(features.numpy())
    with torch.no_grad():
        pred = net.head(features).argmax(1)  # the classes from the same features, not a second pass
    ink = (images + 1) / 2
    frame = torch.ones(28, 28, dtype=torch.bool)
    frame[3:25, 3:25] = False
    inked = (images > 0).float()
    neighbours = F.conv2d(inked, torch.ones(1, 1, 3, 3), padding=1) - inked
    stray = float(((inked > 0) & (neighbours == 0)).sum() / inked.sum().clamp(min=1))
    counts = torch.bincount(pred, minlength=10).float() / len(pred)
    return {
        "judge FID": frechet_distance(st.mu, st.sigma, ref.mu, ref.sigma),
        "frame ink": float(ink[..., frame].mean()),
        "stray ink": stray,
        "judge classes": int((counts >= 0.02).sum()),
    }


def main(argv: list[str]) -> None:
    if argv:
        images = torch.load(argv[0], weights_only=True)
    else:
        images = load_mnist("test", verbose=False).images
        net = load_judge()
        test = load_mnist("test", verbose=False)
        with torch.no_grad():
            acc = float((net(test.images).argmax(1) == test.labels).float().mean())
        print(f"judge accuracy on the 500 held-out digits: {acc:.3f}")
    print({k: round(v, 4) if isinstance(v, float) else v for k, v in judge_scores(images).items()})


if __name__ == "__main__":
    main(sys.argv[1:])
