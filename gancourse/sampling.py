"""Drawing samples from a trained generator: eval mode, no autograd, in batches."""
from __future__ import annotations

import torch
from torch import nn


def latent(n: int, latent_dim: int, seed: int | None = None, device: torch.device | str = "cpu") -> torch.Tensor:
    """Standard normal noise z, shape (n, latent_dim); repeatable for a given ``seed``."""
    g = torch.Generator(device="cpu")
    if seed is None:
        g.seed()
    else:
        g.manual_seed(seed)
    return torch.randn(n, latent_dim, generator=g).to(device)


def balanced_labels(n: int, num_classes: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Labels 0, 1, …, K−1, 0, 1, … : every class equally often (±1)."""
    return torch.arange(n, device=device) % num_classes


@torch.no_grad()
def generate(
    generator: nn.Module,
    n: int | None = None,
    *,
    z: torch.Tensor | None = None,
    labels: torch.Tensor | None = None,
    seed: int | None = None,
    batch_size: int = 1000,
) -> torch.Tensor:
    """Samples G(z) (or G(z, labels)), computed in eval mode without autograd.

    Args:
        generator: a module with ``latent_dim`` (and ``num_classes`` if conditional).
        n: how many, when ``z`` is not given.
        z: (n, latent_dim) noise to use instead of fresh noise.
        labels: (n,) class labels for a conditional generator (balanced if omitted).
    Returns:
        (n, C, H, W) images (or (n, D) points) on the generator's device.
    """
    device = next(generator.parameters()).device
    if z is None:
        if n is None:
            raise ValueError("generate: give n or z")
        z = latent(n, generator.latent_dim, seed, device)
    z = z.to(device)
    num_classes = getattr(generator, "num_classes", None)
    if num_classes and labels is None:
        labels = balanced_labels(len(z), num_classes, device)
    was_training = generator.training
    generator.eval()
    try:
        chunks = []
        for i in range(0, len(z), batch_size):
            args = (z[i : i + batch_size],) if labels is None else (z[i : i + batch_size], labels[i : i + batch_size].to(device))
            chunks.append(generator(*args))
        return torch.cat(chunks)
    finally:
        generator.train(was_training)
