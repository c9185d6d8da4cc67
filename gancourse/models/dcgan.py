"""DCGAN for 28x28 digits (Radford et al., 2015), kept lean enough to train on a CPU.

The guidelines, all followed here: strided convolutions instead of pooling in D,
fractional-strided (or upsample + conv) layers in G; batch norm in G and in D but
not on G's output or D's input; no fully connected hidden layers (z is projected
to a 7x7 map, D ends in one 7x7 convolution); ReLU in G, LeakyReLU(0.2) in D;
tanh on G's output.

``upsample="nearest"`` doubles the map by nearest-neighbour upsampling and a 3x3
convolution (Odena et al., 2016): no checkerboard. ``upsample="transposed"`` uses
4x4 transposed convolutions with stride 2, whose uneven kernel overlap leaves a
checkerboard pattern at initialisation (chapter 3 shows both).
"""
from __future__ import annotations

import torch
from torch import nn

from ..checks import check_choice


def up_block(c_in: int, c_out: int, upsample: str) -> nn.Sequential:
    """(N, c_in, H, W) -> (N, c_out, 2H, 2W): upsample+conv or a transposed conv, then BN and ReLU."""
    check_choice(upsample, ("nearest", "transposed"), "upsample")
    if upsample == "nearest":
        layers = [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)]
    else:
        layers = [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False)]
    return nn.Sequential(*layers, nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


def down_block(c_in: int, c_out: int, norm: bool = True) -> nn.Sequential:
    """(N, c_in, H, W) -> (N, c_out, H/2, W/2): a strided 4x4 conv, BN (not on D's input), LeakyReLU."""
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(c_out))
    return nn.Sequential(*layers, nn.LeakyReLU(0.2, inplace=True))


def init_dcgan_weights(module: nn.Module) -> None:
    """The DCGAN paper's initialisation: conv weights N(0, 0.02); BN weights N(1, 0.02), biases 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGANGenerator(nn.Module):
    """z (N, latent_dim) -> images (N, 1, 28, 28) in [-1, 1]."""

    def __init__(self, latent_dim: int = 64, width: int = 32, upsample: str = "nearest", channels: int = 1):
        super().__init__()
        self.latent_dim = latent_dim
        self.project = nn.Sequential(  # z as a 1x1 map -> (N, 4w, 7, 7)
            nn.ConvTranspose2d(latent_dim, 4 * width, 7, bias=False),
            nn.BatchNorm2d(4 * width),
            nn.ReLU(inplace=True),
        )
        last = (
            [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(2 * width, channels, 3, padding=1)]
            if upsample == "nearest"
            else [nn.ConvTranspose2d(2 * width, channels, 4, stride=2, padding=1)]
        )
        self.body = nn.Sequential(
            up_block(4 * width, 2 * width, upsample),  # state size. (2w) x 14 x 14
            *last,  # state size. channels x 28 x 28
            nn.Tanh(),
        )
        self.apply(init_dcgan_weights)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(self.project(z[:, :, None, None]))


class DCGANDiscriminator(nn.Module):
    """images (N, 1, 28, 28) -> logits (N,).

    ``norm="batch"``: the paper's batch norm after the second convolution. ``norm="spectral"``
    (chapter 8): no batch norm, every convolution spectrally normalised (Miyato et al., 2018), so
    D's Lipschitz constant is bounded. ``norm="none"``: neither. Without batch norm each sample's
    logit depends on that sample only, which a penalty on ∇ₓD (R1) assumes.
    """

    def __init__(self, width: int = 32, channels: int = 1, norm: str = "batch"):
        super().__init__()
        check_choice(norm, ("batch", "spectral", "none"), "norm")
        self.net = nn.Sequential(
            down_block(channels, width, norm=False),  # state size. (w) x 14 x 14
            down_block(width, 2 * width, norm=norm == "batch"),  # state size. (2w) x 7 x 7
            nn.Conv2d(2 * width, 1, 7),  # state size. 1 x 1 x 1
        )
        self.apply(init_dcgan_weights)
        if norm == "spectral":
            from ..spectral import spectral_normalize

            spectral_normalize(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()  # (N,)
