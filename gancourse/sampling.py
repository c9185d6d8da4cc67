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


@torch.no_grad()
def standing_stats(generator: nn.Module, n_batches: int = 16, batch_size: int = 256, seed: int = 0) -> nn.Module:
    """Recompute ``generator``'s batch-norm statistics from its own samples, in place; returns it.

    An EMA generator's weights are an average, but the running means and variances it borrows
    from the trained G describe G's activations, not its own: sampled in eval mode, it
    normalises with the wrong statistics (chapter 2 measures the cost: a worse FID). Here they are
    the plain average over ``n_batches`` batches of fresh z (and balanced labels), drawn with
    their own ``torch.Generator`` so no other random stream moves (BigGAN's "standing statistics").
    A generator without batch norm is returned untouched.
    """
    norms = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    if not norms:
        return generator
    device = next(generator.parameters()).device
    rng = torch.Generator(device=device).manual_seed(seed)
    num_classes = getattr(generator, "num_classes", None)
    momenta = [m.momentum for m in norms]
    was_training = generator.training
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches below
    generator.train()
    try:
        for _ in range(n_batches):
            z = torch.randn(batch_size, generator.latent_dim, generator=rng, device=device)
            generator(z) if not num_classes else generator(z, balanced_labels(batch_size, num_classes, device))
    finally:
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        generator.train(was_training)
    return generator


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """Linear interpolation (1 − t)·z0 + t·z1; ``t`` of shape (T,) gives (T, latent_dim) from (latent_dim,) ends."""
    t = torch.as_tensor(t, dtype=z0.dtype, device=z0.device)
    t = t.reshape(-1, *([1] * z0.dim())) if t.dim() else t
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor | float, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation along the great circle from z0 to z1 (White, 2016).

    Under a Gaussian prior, typical z lie near a sphere of radius √d; lerp's midpoint
    falls inside it (norm ≈ √(d/2)), slerp's stays on it. Falls back to lerp when
    z0 and z1 are (anti)parallel within ``eps``.
    """
    t = torch.as_tensor(t, dtype=z0.dtype, device=z0.device)
    t = t.reshape(-1, *([1] * z0.dim())) if t.dim() else t
    cos = torch.dot(z0.flatten(), z1.flatten()) / (z0.norm() * z1.norm())
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if torch.sin(omega).abs() < eps:
        return lerp(z0, z1, t)
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)
