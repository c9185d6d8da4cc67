"""Small MLPs for low-dimensional toy data (1-D and 2-D mixtures)."""
from __future__ import annotations

import torch
from torch import nn


def _mlp(n_in: int, hidden: int, n_out: int, depth: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(n_in if i == 0 else hidden, hidden), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers, nn.Linear(hidden if depth else n_in, n_out))  # depth 0: one affine map


class ToyGenerator(nn.Module):
    """z (N, latent_dim) -> points (N, dim); ``scale`` and ``shift`` put the output where the data lives."""

    def __init__(self, latent_dim: int = 1, dim: int = 1, hidden: int = 32, depth: int = 2, shift: float = 0.0, scale: float = 1.0):
        super().__init__()
        self.latent_dim = latent_dim
        self.net = _mlp(latent_dim, hidden, dim, depth)
        self.shift, self.scale = shift, scale

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.shift + self.scale * self.net(z)


class ToyDiscriminator(nn.Module):
    """points (N, dim) -> logits (N,); inputs are standardised by ``shift``/``scale`` first."""

    def __init__(self, dim: int = 1, hidden: int = 32, depth: int = 2, shift: float = 0.0, scale: float = 1.0):
        super().__init__()
        self.net = _mlp(dim, hidden, 1, depth)
        self.shift, self.scale = shift, scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.shift) / self.scale).squeeze(1)
