"""Figures the chapters share: image grids, 1-D densities, loss curves."""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .checks import check_images


def image_grid(images: torch.Tensor, nrow: int | None = None, pad: int = 2) -> np.ndarray:
    """Tile (N, C, H, W) images in [-1, 1] into one (rows·H, cols·W[, C]) array in [0, 1]."""
    x = check_images(images).detach().float().cpu()
    n, c, h, w = x.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    ncol = math.ceil(n / nrow)
    grid = torch.ones(c, ncol * (h + pad) + pad, nrow * (w + pad) + pad)
    for i in range(n):
        r, col = divmod(i, nrow)
        grid[:, pad + r * (h + pad) : pad + r * (h + pad) + h, pad + col * (w + pad) : pad + col * (w + pad) + w] = (x[i] + 1) / 2
    grid = grid.clamp(0, 1).permute(1, 2, 0).numpy()
    return grid[..., 0] if c == 1 else grid


def show_images(images: torch.Tensor, nrow: int | None = None, title: str | None = None, ax=None, size: float = 4.0):
    """Show a grid of images in [-1, 1] (white digits on black, as MNIST is drawn); return the axes."""
    grid = image_grid(images, nrow)
    if ax is None:
        _, ax = plt.subplots(figsize=(size, size * grid.shape[0] / grid.shape[1]))
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_density(
    x: np.ndarray,
    densities: Mapping[str, np.ndarray],
    discriminator: np.ndarray | None = None,
    ax=None,
    title: str | None = None,
):
    """Plot 1-D densities over ``x`` and, dashed on a second axis in [0, 1], D(x); return the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    styles = [dict(color="black", lw=2), dict(color="tab:green", lw=2), dict(color="tab:purple")]
    for (label, y), style in zip(densities.items(), styles):
        ax.plot(x, y, label=label, **style)
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    if discriminator is not None:
        ax2 = ax.twinx()
        ax2.plot(x, discriminator, "--", color="tab:blue", label="D(x)")
        ax2.axhline(0.5, color="tab:blue", lw=0.5, alpha=0.5)
        ax2.set_ylim(0, 1)
        ax2.set_ylabel("D(x)", color="tab:blue")
        lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
        ax.legend(lines, [l.get_label() for l in lines], loc="upper left", fontsize="small")
    else:
        ax.legend(loc="upper left", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def plot_losses(history: Mapping[str, Sequence[float]], keys: Sequence[str] = ("d_loss", "g_loss"), smooth: int = 25, ax=None):
    """Loss curves from a trainer history, smoothed by a running mean of ``smooth`` steps; return the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    steps = np.asarray(history["step"])
    for k in keys:
        if k not in history or not len(history[k]):
            continue
        y = np.asarray(history[k], dtype=float)
        w = max(1, min(smooth, len(y)))
        ys = np.convolve(y, np.ones(w) / w, mode="valid")
        ax.plot(steps[w - 1 :], ys, label=k)
    ax.set_xlabel("generator step")
    ax.set_ylabel("loss")
    ax.legend()
    return ax
