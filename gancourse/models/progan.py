"""Progressive GAN (Karras et al., 2018) for 32x32 images, grown 4 -> 8 -> 16 -> 32.

The paper's four ideas, each a small module here:

* **equalized learning rate** — :class:`EqualizedLinear`, :class:`EqualizedConv2d`: weights drawn
  from N(0, 1) and multiplied at run time by He's constant c = gain / √fan_in (gain √2), biases 0.
  Adam divides each update by a running gradient scale, so a layer's *effective* step is
  proportional to c: every layer then learns at the same speed, whatever its fan-in;
* **pixelwise feature normalization** — :class:`PixelNorm`: each pixel's feature vector is
  scaled to unit mean square over the channels (in the generator, after every convolution);
* **minibatch standard deviation** — :class:`MinibatchStdDev`: the critic's last block sees one
  extra feature map, the standard deviation of the features across a group of samples: a
  collapsed generator (identical samples) is easy to spot;
* **smooth fade-in** — :func:`fade_in`: a new, higher-resolution block enters gradually, its
  output blended with the upscaled output of the block before it, α rising from 0 to 1.

Memory layout: both networks keep their 4-D weights channels-last (N, H, W, C in memory), so their
convolutions run in that layout; the results agree to float rounding. On 2 CPU cores (oneDNN, the
`cpu` recipe) a training step is ~15 % faster with OMP_WAIT_POLICY=PASSIVE, and no clearly
faster with OpenMP's default waiting (``benchmarks/progan_speed.py``).

Growth state: both networks keep their current ``level`` (0, 1, 2, 3 for 4, 8, 16, 32 pixels) and
``alpha`` in registered buffers, so they travel in the ``state_dict`` (checkpoints, the EMA copy).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..checks import GanCourseError

RESOLUTIONS = (4, 8, 16, 32)  # level k draws 4·2^k pixels
LRELU = 0.2


class EqualizedLinear(nn.Module):
    """y = x (c·W)ᵀ + b with W ~ N(0, 1) and c = gain / √in_features, b = 0. (N, in) -> (N, out)."""

    def __init__(self, in_features: int, out_features: int, gain: float = math.sqrt(2.0), bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        self.scale = gain / math.sqrt(in_features)  # fan_in = in_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)


class EqualizedConv2d(nn.Module):
    """A stride-1 convolution with weights N(0, 1) scaled at run time by gain / √(in·k·k); biases 0.

    (N, c_in, H, W) -> (N, c_out, H + 2·padding − k + 1, …).
    """

    def __init__(self, c_in: int, c_out: int, kernel_size: int, padding: int = 0, gain: float = math.sqrt(2.0), bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(c_out)) if bias else None
        self.scale = gain / math.sqrt(c_in * kernel_size * kernel_size)  # fan_in = c_in·k·k
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class PixelNorm(nn.Module):
    """a / √(mean over channels of a² + eps), at every pixel. (N, C, ...) -> same shape."""

    def __init__(self, eps: float = 1e-8):
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + self.eps)


class MinibatchStdDev(nn.Module):
    """Append one feature map: the features' standard deviation across a group, averaged to one number.

    The batch is split into groups of ``group_size`` (sample n belongs to group n mod (N / G), as the
    reference code reshapes it); per group, the standard deviation over its members of each feature
    and pixel (biased variance, √(var + 1e-8)), averaged over channels and pixels, is broadcast to a
    map. A batch whose size ``group_size`` does not divide uses the largest group size that does.
    (N, C, H, W) -> (N, C + 1, H, W).
    """

    def __init__(self, group_size: int = 4, eps: float = 1e-8):
        super().__init__()
        if group_size < 1:
            raise GanCourseError("MinibatchStdDev: group_size must be a positive integer")
        self.group_size, self.eps = group_size, eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = min(self.group_size, n)
        while n % g:
            g -= 1
        y = x.reshape(g, n // g, c, h, w)  # (G, M, C, H, W): member i of group m is sample i·M + m
        y = y - y.mean(dim=0)  # deviations from each group's mean
        y = torch.sqrt(y.pow(2).mean(dim=0) + self.eps)  # (M, C, H, W): biased variance, then its root
        y = y.mean(dim=(1, 2, 3))  # (M,): one number per group
        y = y.reshape(1, -1, 1, 1, 1).expand(g, -1, 1, h, w).reshape(n, 1, h, w)  # (N, 1, H, W)
        return torch.cat([x, y], dim=1)


def fade_in(alpha: float | torch.Tensor, upscaled: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
    """(1 − α)·upscaled + α·new: α = 0 is the old network's (upscaled) output, α = 1 the new block's."""
    return (1 - alpha) * upscaled + alpha * new


def _check_widths(widths: tuple[int, ...]) -> tuple[int, ...]:
    widths = tuple(int(w) for w in widths)
    if len(widths) != len(RESOLUTIONS) or min(widths) < 1:
        raise GanCourseError(f"widths: give {len(RESOLUTIONS)} positive channel counts, one per resolution {RESOLUTIONS}")
    return widths


class _Growing(nn.Module):
    """The growth state shared by G and D: ``level`` and ``alpha`` as buffers (saved, copied to the EMA).

    The forward pass reads a Python copy of them, kept by :meth:`set_growth` and refreshed after
    ``load_state_dict``: reading the buffers themselves would wait for the GPU at every step.
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("level", torch.tensor(0, dtype=torch.long))
        self.register_buffer("alpha", torch.tensor(1.0))
        self._growth = (0, 1.0)
        self.register_load_state_dict_post_hook(lambda module, _keys: module._reload_growth())

    def _reload_growth(self) -> None:
        self._growth = (int(self.level), float(self.alpha))  # one host sync per load, not per step

    @property
    def resolution(self) -> int:
        """The side of the images at the current level: 4, 8, 16 or 32."""
        return RESOLUTIONS[self._growth[0]]

    @torch.no_grad()
    def set_growth(self, level: int, alpha: float = 1.0) -> None:
        """Grow (or shrink) to ``level`` with the new block blended in at ``alpha`` (1 at level 0)."""
        if not 0 <= level < len(RESOLUTIONS):
            raise GanCourseError(f"level must be in 0..{len(RESOLUTIONS) - 1} (resolutions {RESOLUTIONS}), got {level}")
        if not 0.0 <= alpha <= 1.0:
            raise GanCourseError(f"alpha must be in [0, 1], got {alpha}")
        alpha = 1.0 if level == 0 else float(alpha)
        self.level.fill_(level)
        self.alpha.fill_(alpha)
        self._growth = (int(level), alpha)

    def _state(self) -> tuple[int, float]:
        return self._growth


class ProGANGenerator(_Growing):
    """z (N, latent_dim) -> images (N, C, r, r) at the current resolution r; grows to 32x32.

    Training mode returns the current resolution with a linear output, as the paper does. Eval mode
    (sampling, ``gancourse sample``) returns ``full_size`` 32x32 images — a lower level's output
    nearest-upsampled — clamped to [-1, 1]; ``full_size`` overrides either way.
    """

    def __init__(self, latent_dim: int = 128, widths: tuple[int, ...] = (128, 128, 64, 32), channels: int = 1):
        super().__init__()
        self.latent_dim, self.channels = latent_dim, channels
        self.widths = w = _check_widths(widths)
        self.start = nn.Sequential(  # z as a 4x4 map: a linear layer is the 4x4 transposed conv on a 1x1 input
            PixelNorm(),
            EqualizedLinear(latent_dim, w[0] * 16, gain=math.sqrt(2.0) / 4),
            nn.Unflatten(1, (w[0], 4, 4)),  # state size. (w0) x 4 x 4
            nn.LeakyReLU(LRELU),
            PixelNorm(),
            EqualizedConv2d(w[0], w[0], 3, padding=1),
            nn.LeakyReLU(LRELU),
            PixelNorm(),
        )
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.Upsample(scale_factor=2, mode="nearest"),  # state size. (w[k-1]) x 2r x 2r
                EqualizedConv2d(w[k - 1], w[k], 3, padding=1),
                nn.LeakyReLU(LRELU),
                PixelNorm(),
                EqualizedConv2d(w[k], w[k], 3, padding=1),
                nn.LeakyReLU(LRELU),
                PixelNorm(),  # state size. (w[k]) x 2r x 2r
            )
            for k in range(1, len(w))
        )
        self.to_rgb = nn.ModuleList(EqualizedConv2d(wk, channels, 1, gain=1.0) for wk in w)  # linear output
        self.to(memory_format=torch.channels_last)  # see the module docstring

    def forward(self, z: torch.Tensor, full_size: bool | None = None) -> torch.Tensor:
        level, alpha = self._state()
        x = self.start(z)  # state size. (w0) x 4 x 4
        for block in self.blocks[: max(level - 1, 0)]:
            x = block(x)
        if level == 0:
            out = self.to_rgb[0](x)
        else:
            new = self.blocks[level - 1](x)  # the newest block: state size. (w_level) x r x r
            out = self.to_rgb[level](new)
            if alpha < 1.0:  # fade the new block in over the old output, upscaled
                up = F.interpolate(self.to_rgb[level - 1](x), scale_factor=2, mode="nearest")
                out = fade_in(alpha, up, out)
        if full_size is None:
            full_size = not self.training
        if full_size:
            if out.shape[-1] != RESOLUTIONS[-1]:
                out = F.interpolate(out, size=RESOLUTIONS[-1], mode="nearest")
            out = out.clamp(-1.0, 1.0)
        return out


class ProGANDiscriminator(_Growing):
    """images (N, C, r, r) at the current resolution r -> scores (N,) (a WGAN critic: linear output)."""

    def __init__(self, widths: tuple[int, ...] = (128, 128, 64, 32), channels: int = 1, group_size: int = 4):
        super().__init__()
        self.channels = channels
        self.widths = w = _check_widths(widths)
        self.from_rgb = nn.ModuleList(nn.Sequential(EqualizedConv2d(channels, wk, 1), nn.LeakyReLU(LRELU)) for wk in w)
        self.blocks = nn.ModuleList(
            nn.Sequential(
                EqualizedConv2d(w[k], w[k], 3, padding=1),
                nn.LeakyReLU(LRELU),
                EqualizedConv2d(w[k], w[k - 1], 3, padding=1),
                nn.LeakyReLU(LRELU),
                nn.AvgPool2d(2),  # state size. (w[k-1]) x r/2 x r/2
            )
            for k in range(1, len(w))
        )
        self.final = nn.Sequential(
            MinibatchStdDev(group_size),  # state size. (w0 + 1) x 4 x 4
            EqualizedConv2d(w[0] + 1, w[0], 3, padding=1),
            nn.LeakyReLU(LRELU),
            EqualizedConv2d(w[0], w[0], 4),  # state size. (w0) x 1 x 1: a dense layer over the 4x4 map
            nn.LeakyReLU(LRELU),
            nn.Flatten(),
            EqualizedLinear(w[0], 1, gain=1.0),  # state size. 1
        )
        self.to(memory_format=torch.channels_last)  # see the module docstring

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        level, alpha = self._state()
        if x.shape[-1] != RESOLUTIONS[level] or x.shape[-2] != RESOLUTIONS[level] or x.shape[1] != self.channels:
            raise GanCourseError(
                f"the critic is at {RESOLUTIONS[level]}x{RESOLUTIONS[level]} with {self.channels} channel(s); "
                f"got images of shape {tuple(x.shape)}"
            )
        h = self.from_rgb[level](x)
        if level > 0:
            h = self.blocks[level - 1](h)  # state size. (w[level-1]) x r/2 x r/2
            if alpha < 1.0:  # the old path sees the image downscaled
                old = self.from_rgb[level - 1](F.avg_pool2d(x, 2))
                h = fade_in(alpha, old, h)
            for block in reversed(self.blocks[: level - 1]):
                h = block(h)
        return self.final(h).squeeze(1)  # (N,)
