"""A conditional DCGAN (Mirza & Osindero, 2014, on the DCGAN of chapter 3).

The label enters both networks through a learned embedding, combined in one of
two ways (``combine``):

* ``"multiply"`` — as one common implementation does: G scales the noise
  element-wise, z ⊙ e(y); D multiplies its features by e(y) and adds the sum to
  its logit (a projection discriminator, Miyato & Koyama, 2018);
* ``"concat"`` — as the original paper does: G sees [z, e(y)]; D sees the image
  with e(y) laid out as an extra 28x28 input channel.
"""
from __future__ import annotations

import torch
from torch import nn

from ..checks import check_choice
from .dcgan import DCGANDiscriminator, DCGANGenerator, init_dcgan_weights

COMBINE = ("multiply", "concat")


class ConditionalGenerator(nn.Module):
    """z (N, latent_dim), labels (N,) in 0..K−1 -> images (N, 1, 28, 28) in [-1, 1]."""

    def __init__(self, latent_dim: int = 64, num_classes: int = 10, combine: str = "multiply", width: int = 32, upsample: str = "transposed"):
        super().__init__()
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.combine = check_choice(combine, COMBINE, "combine")
        label_dim = latent_dim if combine == "multiply" else num_classes
        self.embed = nn.Embedding(num_classes, label_dim)
        if combine == "multiply":
            nn.init.normal_(self.embed.weight, 1.0, 0.5)  # start near z ⊙ 1: every class sees the whole prior
        self.body = DCGANGenerator(latent_dim if combine == "multiply" else latent_dim + label_dim, width, upsample)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        e = self.embed(labels)  # (N, label_dim)
        h = z * e if self.combine == "multiply" else torch.cat([z, e], 1)  # (N, latent_dim[+label_dim])
        return self.body(h)  # (N, 1, 28, 28)


class ConditionalDiscriminator(nn.Module):
    """images (N, 1, 28, 28), labels (N,) -> logits (N,).

    ``norm`` is the DCGAN discriminator's ("batch", "spectral" or "none"; the cpu recipe trains "none" with R1).
    """

    def __init__(self, num_classes: int = 10, combine: str = "multiply", width: int = 32, norm: str = "batch"):
        super().__init__()
        self.num_classes = num_classes
        self.combine = check_choice(combine, COMBINE, "combine")
        if combine == "concat":
            self.embed = nn.Embedding(num_classes, 28 * 28)
            self.body = DCGANDiscriminator(width, channels=2, norm=norm)
        else:
            base = DCGANDiscriminator(width, norm=norm)
            self.features = base.net[:-1]  # state size. (2w) x 7 x 7
            self.head = nn.Linear(2 * width * 7 * 7, 1)
            self.embed = nn.Embedding(num_classes, 2 * width * 7 * 7)
            init_dcgan_weights(self.head)
            # nn.Embedding starts at N(0, 1): over 2w·7·7 features that term would swamp the logit at init
            nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.combine == "concat":
            label_map = self.embed(labels).view(-1, 1, 28, 28)  # (N, 1, 28, 28)
            return self.body(torch.cat([x, label_map], 1))  # (N,)
        h = self.features(x).flatten(1)  # (N, 2w·7·7)
        return self.head(h).squeeze(1) + (self.embed(labels) * h).sum(1)  # (N,)
