"""The WGAN / WGAN-GP critic for 28x28 digits: a DCGAN discriminator without batch norm.

The critic scores a sample with an unbounded real number (a linear output, no sigmoid).
The gradient penalty constrains ‖∇x f(x)‖ per *sample*; batch norm makes each score
depend on the whole batch, which breaks that, so Gulrajani et al. (2017) drop it
(``norm="layer"`` uses GroupNorm(1, C), a layer norm over each sample's feature map;
``norm="none"`` uses nothing). With weight clipping (the original WGAN) batch norm
would be allowed, but the critic is the same here for both, so they compare cleanly.
"""
from __future__ import annotations

import torch
from torch import nn

from ..checks import check_choice
from .dcgan import init_dcgan_weights

CRITIC_NORMS = ("layer", "none")


def _critic_block(c_in: int, c_out: int, norm: str) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=norm == "none")]
    if norm == "layer":
        layers.append(nn.GroupNorm(1, c_out))
    return nn.Sequential(*layers, nn.LeakyReLU(0.2, inplace=True))


class WGANCritic(nn.Module):
    """images (N, 1, 28, 28) -> scores (N,); no batch norm (``norm`` in ``CRITIC_NORMS``)."""

    def __init__(self, width: int = 32, channels: int = 1, norm: str = "layer"):
        super().__init__()
        check_choice(norm, CRITIC_NORMS, "critic norm")
        self.net = nn.Sequential(
            _critic_block(channels, width, "none"),  # state size. (w) x 14 x 14; no norm on the input layer
            _critic_block(width, 2 * width, norm),  # state size. (2w) x 7 x 7
            nn.Conv2d(2 * width, 1, 7),  # state size. 1 x 1 x 1: a linear score
        )
        self.apply(init_dcgan_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()  # (N,)
