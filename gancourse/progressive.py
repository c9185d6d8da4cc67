"""Growing a GAN while it trains: the ProGAN schedule and its trainer.

:class:`GrowthSchedule` turns a step number into the networks' ``(level, alpha)``: level 0 (4x4)
is trained alone, then each higher level has a *fade-in* phase — α rising linearly from 0 to 1 —
and a *stabilisation* phase at α = 1. Phase lengths are counted in images, as in the paper.

:class:`ProGANTrainer` is the course's :class:`~gancourse.trainer.GANTrainer` with five changes:

1. before every step it sets G's, D's (and the EMA's) level and α from the schedule;
2. real batches are downscaled to the current resolution and, during a fade-in, blended the
   same way as the generator's output: (1 − α)·upscale(downscale(x)) + α·x;
3. with the paper's Wasserstein loss (``loss="wasserstein"``), the critic's loss carries the drift term
   ε·E[D(x)²] (ε = 0.001), which keeps the critic's scores near 0 (a WGAN loss alone only fixes their
   differences); ``loss="non_saturating"`` trains chapter 2's loss instead (the course's CPU recipe, with R1);
4. Adam's moment estimates are reset when a new resolution starts (new layers, a new problem);
5. the EMA's warm-up restarts with every resolution (see :meth:`ProGANTrainer.ema_decay_at`).

Everything else — checkpoints, exact resume, NaN checks, history, progress — is the base class's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .checks import GanCourseError, check_choice
from .losses import critic_loss, discriminator_loss, generator_loss, wasserstein_generator_loss
from .models.progan import RESOLUTIONS, fade_in
from .trainer import GANTrainer

LOSSES = ("wasserstein", "non_saturating")  # ProGANTrainer's loss: the paper's, or chapter 2's (with R1)


@dataclass(frozen=True)
class GrowthSchedule:
    """How many images each phase sees, per level (4, 8, 16, 32 pixels), and the batch size.

    Args:
        stable_images: images in the stabilisation phase of each level (4 numbers).
        fade_images: images in the fade-in phase of levels 1, 2, 3 (3 numbers; level 0 has none).
        batch_size: images per step (real and fake alike).
    """

    stable_images: tuple[int, ...]
    fade_images: tuple[int, ...]
    batch_size: int

    def __post_init__(self) -> None:
        levels = len(RESOLUTIONS)
        if len(self.stable_images) != levels or len(self.fade_images) != levels - 1:
            raise GanCourseError(f"a growth schedule needs {levels} stabilisation and {levels - 1} fade-in phase lengths")
        if self.batch_size < 1 or min(self.stable_images) < 1 or min(self.fade_images) < 1:
            raise GanCourseError("batch_size and every phase length must be positive")

    def _steps(self, images: int) -> int:
        return max(1, math.ceil(images / self.batch_size))

    @property
    def phases(self) -> list[tuple[int, str, int, int]]:
        """(level, "fade" | "stable", first step, number of steps) for every phase, in order."""
        out, start = [], 0
        for level in range(len(RESOLUTIONS)):
            if level > 0:
                n = self._steps(self.fade_images[level - 1])
                out.append((level, "fade", start, n))
                start += n
            n = self._steps(self.stable_images[level])
            out.append((level, "stable", start, n))
            start += n
        return out

    @property
    def total_steps(self) -> int:
        """Steps until the last stabilisation phase ends."""
        level, kind, start, n = self.phases[-1]
        return start + n

    def level_start(self, level: int) -> int:
        """The first step at ``level`` (its fade-in's first step; 0 for level 0)."""
        return next(start for lv, _, start, _ in self.phases if lv == level)

    def at(self, step: int) -> tuple[int, float]:
        """(level, α) for the step with 0-based index ``step``; past the end: the last level, α = 1."""
        if step < 0:
            raise GanCourseError("step must be non-negative")
        for level, kind, start, n in self.phases:
            if step < start + n:
                if kind == "stable":
                    return level, 1.0
                return level, min(max((step - start) / n, 0.0), 1.0)  # α rises linearly, 0 at the phase's start
        return len(RESOLUTIONS) - 1, 1.0


def drift_critic_loss(epsilon: float = 0.001) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The ProGAN critic loss: E D(G(z)) − E D(x) + ε·E[D(x)²] (the drift term keeps scores near 0)."""

    def loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return critic_loss(real_scores, fake_scores) + epsilon * real_scores.pow(2).mean()

    loss.epsilon = epsilon  # type: ignore[attr-defined]
    return loss


def downscale(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """Average-pool (N, C, S, S) images to (N, C, resolution, resolution); S must be a multiple."""
    side = images.shape[-1]
    if side % resolution:
        raise GanCourseError(f"cannot downscale {side}x{side} images to {resolution}x{resolution}")
    return images if side == resolution else F.avg_pool2d(images, side // resolution)


def grow_real(images: torch.Tensor, level: int, alpha: float) -> torch.Tensor:
    """Real images as the critic sees them at ``level`` and ``alpha``: downscaled and, while fading, blended.

    (N, C, 32, 32) -> (N, C, r, r), r = 4·2^level. During a fade-in (α < 1) the previous
    resolution, upscaled, is blended in: (1 − α)·upscale(downscale(x, r/2)) + α·downscale(x, r).
    """
    x = downscale(images, RESOLUTIONS[level])
    if level > 0 and alpha < 1.0:
        low = F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest")
        x = fade_in(alpha, low, x)
    return x


class ProGANTrainer(GANTrainer):
    """A :class:`GANTrainer` that grows G and D along a :class:`GrowthSchedule`.

    Args:
        generator, discriminator: a :class:`~gancourse.models.progan.ProGANGenerator` and
            :class:`~gancourse.models.progan.ProGANDiscriminator` (anything with ``set_growth``).
        data: real images (N, C, 32, 32) in [-1, 1], kept at full size and downscaled per batch.
        schedule: the growth schedule; its batch size is the trainer's.
        loss: "wasserstein" (the paper's: the WGAN losses, the drift term added to the critic's; pair it with
            a gradient penalty) or "non_saturating" (chapter 2's losses on D's logits; pair it with R1).
        drift: ε of the drift term (0.001 in the paper); used by the Wasserstein loss only.
        **kwargs: as :class:`GANTrainer` (``penalty``, ``penalty_every``, optimisers, ``ema_decay``, ``out_dir`` …).
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, data: torch.Tensor, schedule: GrowthSchedule,
                 *, loss: str = "wasserstein", drift: float = 0.001, **kwargs):
        check_choice(loss, LOSSES, "ProGAN loss")
        if kwargs.get("augment") is not None:
            raise GanCourseError("ProGANTrainer does not augment (its step fades the real images itself); leave augment unset")
        for name in ("batch_size", "d_loss", "g_loss"):
            if name in kwargs:
                raise GanCourseError(f"ProGANTrainer sets {name} itself (batch size from the schedule, losses from loss=...)")
        if not isinstance(data, torch.Tensor) or data.dim() != 4 or data.shape[-1] != RESOLUTIONS[-1] or data.shape[-2] != RESOLUTIONS[-1]:
            shape = tuple(data.shape) if isinstance(data, torch.Tensor) else type(data).__name__
            raise GanCourseError(f"ProGAN trains on images (N, C, {RESOLUTIONS[-1]}, {RESOLUTIONS[-1]}); got {shape}")
        d_loss, g_loss = ((drift_critic_loss(drift), wasserstein_generator_loss) if loss == "wasserstein"
                          else (discriminator_loss, generator_loss))
        super().__init__(generator, discriminator, data, batch_size=schedule.batch_size, d_loss=d_loss, g_loss=g_loss, **kwargs)
        self.schedule = schedule
        self.loss, self.drift = loss, drift
        self._grow(*schedule.at(0))

    # --------------------------------------------------------------- growth
    @property
    def level(self) -> int:
        """The networks' current level (0..3), as G holds it (restored with G's buffers on resume)."""
        return self.G._state()[0]

    def _grow(self, level: int, alpha: float) -> None:
        if level != self.level:
            for opt in (self.g_opt, self.d_opt):  # a new resolution: forget Adam's moment estimates
                opt.state.clear()
        for net in (self.G, self.D) + ((self.ema,) if self.ema is not None else ()):
            net.set_growth(level, alpha)

    def _real(self) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        real, cond = super()._real()
        level, alpha = self.G._state()
        return grow_real(real, level, alpha), cond

    def train_step(self) -> torch.Tensor:
        self._grow(*self.schedule.at(self.step))
        return super().train_step()

    def ema_decay_at(self, step: int) -> float:
        """min(decay, (1 + s) / (10 + s)) with s = steps since the current resolution started.

        New layers start from random weights at every resolution; restarting the warm-up lets
        the average follow them instead of mixing in a long tail of the previous resolution's G.
        """
        level, _ = self.schedule.at(step)
        s = step - self.schedule.level_start(level)
        return min(self.ema_decay, (1.0 + s) / (10.0 + s))

    def growth_at(self, steps: Sequence[int]) -> list[tuple[int, float]]:
        """The schedule's (level, α) at each of ``steps`` (for plots)."""
        return [self.schedule.at(s) for s in steps]
