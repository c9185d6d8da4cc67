"""Training recipes: what `gancourse train MODEL` builds for each profile.

A recipe makes the models for a profile and a configured :class:`GANTrainer`;
chapters grow this table: ``mlp`` (chapter 2), ``dcgan`` (3), ``cgan`` (4),
``wgan`` and ``wgan-gp`` (5), ``progan`` (6).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import torch
from torch import nn

from .checks import GanCourseError, check_choice
from .data import load_mnist
from .models import (
    ConditionalDiscriminator, ConditionalGenerator, DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator,
)
from .models.progan import ProGANDiscriminator, ProGANGenerator
from .models.wgan import WGANCritic
from .progressive import GrowthSchedule, ProGANTrainer
from .losses import critic_loss, gradient_penalty, wasserstein_generator_loss
from .trainer import GANTrainer, adam, clip_weights


@dataclass(frozen=True)
class Recipe:
    """How to train one model: its models, its trainer and its steps per profile."""

    description: str
    steps: Mapping[str, int]
    models: Callable[..., tuple[nn.Module, nn.Module]]
    trainer: Callable[[nn.Module, nn.Module, str, dict], GANTrainer]
    own_data: bool = False  # trains on a folder of one's own images (`gancourse train MODEL --data DIR`)


def _mlp_models(profile: str) -> tuple[nn.Module, nn.Module]:
    return MLPGenerator(latent_dim=100), MLPDiscriminator()


def _adam_trainer(g: nn.Module, d: nn.Module, profile: str, kw: dict, lr: float = 2e-4) -> GANTrainer:
    """Unconditional MNIST, batch 64, Adam ``lr`` (0.5, 0.999) for both nets, EMA 0.999 (mlp, dcgan)."""
    data = load_mnist("train").images
    return GANTrainer(
        g, d, data, batch_size=64,
        g_optimizer=adam(g, lr), d_optimizer=adam(d, lr),
        ema_decay=0.999, log_every=50, **kw,
    )


def _dcgan_trainer(g: nn.Module, d: nn.Module, profile: str, kw: dict) -> GANTrainer:
    # The paper's 2e-4 suits its long runs (kept in `full`). With these small nets and a budget of minutes, 1e-3
    # lowers the FID by about 40 % at equal wall time and covers all ten digits (measured: FID 1.01 against 1.71 after 226 s,
    # 0.84 against 1.49 after 360 s, 2 CPU threads; 2e-3 was no better than 1e-3).
    return _adam_trainer(g, d, profile, kw, lr=2e-4 if profile == "full" else 1e-3)


def _dcgan_models(profile: str) -> tuple[nn.Module, nn.Module]:
    width = 64 if profile == "full" else 32
    return DCGANGenerator(latent_dim=64, width=width, upsample="transposed"), DCGANDiscriminator(width=width)


def _cgan_models(profile: str) -> tuple[nn.Module, nn.Module]:
    width = 64 if profile == "full" else 32
    # G concatenates the label: z ⊙ e(y) keeps z's symmetric law for every class, so one sample says
    # little about its label (measured: 25 % conditioning accuracy after 1,000 steps). D projects (multiplies).
    return (ConditionalGenerator(64, 10, "concat", width), ConditionalDiscriminator(10, "multiply", width))


def _cgan_trainer(g: nn.Module, d: nn.Module, profile: str, kw: dict) -> GANTrainer:
    digits = load_mnist("train")
    return GANTrainer(
        g, d, digits.images, labels=digits.labels, batch_size=64,
        g_optimizer=adam(g, 2e-4), d_optimizer=adam(d, 2e-4),
        ema_decay=0.999, log_every=50, **kw,
    )


def _wgan_models(profile: str) -> tuple[nn.Module, nn.Module]:
    width = 64 if profile == "full" else 16  # five critic steps per G step: half DCGAN's width on a CPU
    return DCGANGenerator(latent_dim=64, width=width, upsample="transposed"), WGANCritic(width=width, norm="none")


def _wgan_trainer(g: nn.Module, d: nn.Module, profile: str, kw: dict) -> GANTrainer:
    # Arjovsky et al. (2017), Algorithm 1: clip to ±0.01, RMSProp 5e-5, five critic steps per G step
    data = load_mnist("train").images
    return GANTrainer(
        g, d, data, batch_size=64, d_steps=5, d_loss=critic_loss, g_loss=wasserstein_generator_loss,
        after_d_step=[clip_weights(0.01)],
        g_optimizer=torch.optim.RMSprop(g.parameters(), lr=5e-5), d_optimizer=torch.optim.RMSprop(d.parameters(), lr=5e-5),
        ema_decay=0.999, log_every=50, **kw,
    )


def wgan_gp_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, *labels: torch.Tensor) -> torch.Tensor:
    """λ · gradient_penalty with λ = 10 (Gulrajani et al., 2017): the trainer's ``penalty``."""
    return 10.0 * gradient_penalty(critic, real, fake, *labels)


def _wgan_gp_trainer(g: nn.Module, d: nn.Module, profile: str, kw: dict) -> GANTrainer:
    # Gulrajani et al. (2017): λ = 10, five critic steps, Adam 1e-4 with betas (0.5, 0.9) as in
    # their reference code (the paper's Algorithm 1 uses β1 = 0)
    data = load_mnist("train").images
    return GANTrainer(
        g, d, data, batch_size=64, d_steps=5, d_loss=critic_loss, g_loss=wasserstein_generator_loss,
        penalty=wgan_gp_penalty,
        g_optimizer=adam(g, 1e-4, (0.5, 0.9)), d_optimizer=adam(d, 1e-4, (0.5, 0.9)),
        ema_decay=0.999, log_every=50, **kw,
    )


def _wgan_gp_models(profile: str) -> tuple[nn.Module, nn.Module]:
    width = 64 if profile == "full" else 16
    return DCGANGenerator(latent_dim=64, width=width, upsample="transposed"), WGANCritic(width=width, norm="layer")


# ProGAN (chapter 6): images per phase and batch size per profile. The paper shows 800k images per
# phase at batch 16-ish; a CPU affords ~92k images in all in 8 minutes, and the 32x32 phases get the largest share
# (their samples are the ones scored; short phases there left them rough).
PROGAN_SCHEDULES: dict[str, GrowthSchedule] = {
    "smoke": GrowthSchedule(stable_images=(16, 16, 16, 16), fade_images=(16, 16, 16), batch_size=8),
    "cpu": GrowthSchedule(stable_images=(8000, 8000, 12000, 36000), fade_images=(8000, 8000, 12000), batch_size=16),
    "full": GrowthSchedule(stable_images=(200_000,) * 4, fade_images=(200_000,) * 3, batch_size=32),
}
# cpu, measured 2026-11-30 (seed 0, 2 threads, OpenMP's default waiting, 5,000 EMA samples; FID / confident > 0.9 /
# classes / training time). Widths and images per phase, (stable 4..32; fade 8..32) in thousands:
#   64/32/16/16, (8, 8, 16, 28; 8, 16, 8)    2.34 / 13 % / 8   (the previous recipe; 542 s with PASSIVE waiting)
#   64/64/32/16, (8, 8, 12, 36; 8, 8, 12)    1.83 / 19 % / 8 / 471 s   <- this recipe
#                                            1.84 / 18 % / 9 / 443 s   (the same, seed 1)
#   64/64/32/16, (8, 8, 16, 32; 8, 16, 8)    1.87 / 21 % / 7 / 475 s
#   64/64/32/16, (8, 16, 24, 24; 8, 16, 8)   2.01 / 19 % / 8 / 511 s   (more at 8x8/16x16, less at 32x32: worse)
#   64/64/32/16, (8, 8, 16, 40; 8, 16, 16)   1.58 / 22 % / 9 / 569 s   (better, but too close to 10 minutes)
#   the same with the penalty on every 4th critic step only (x4)  2.14 / 18 % / 8 / 433 s (lazy: worse)
# Narrower nets at 32x32 barely save time there (8 channels: 11.4 against 10.6 steps/s): the step's cost is mostly
# fixed overheads of small convolutions, so the widths went up at 8x8 and 16x16 instead.
PROGAN_WIDTHS = {"smoke": (16, 16, 8, 8), "cpu": (64, 64, 32, 16), "full": (256, 256, 128, 64)}


def _progan_models(profile: str, channels: int = 1) -> tuple[nn.Module, nn.Module]:
    widths = PROGAN_WIDTHS[profile]
    return ProGANGenerator(latent_dim=128, widths=widths, channels=channels), ProGANDiscriminator(widths, channels)


def _progan_trainer(g: nn.Module, d: nn.Module, profile: str, kw: dict) -> GANTrainer:
    # Karras et al. (2018): WGAN-GP (λ = 10, one critic step) with the drift term, Adam 1e-3 with
    # betas (0, 0.99) reset at each resolution, EMA 0.999 of G (its warm-up restarted at each resolution)
    data = kw.pop("data", None)
    data = load_mnist("train", size=32).images if data is None else data
    return ProGANTrainer(
        g, d, data, PROGAN_SCHEDULES[profile], penalty=wgan_gp_penalty,
        g_optimizer=adam(g, 1e-3, (0.0, 0.99)), d_optimizer=adam(d, 1e-3, (0.0, 0.99)),
        ema_decay=0.999, log_every=50, **kw,
    )


RECIPES: dict[str, Recipe] = {
    "mlp": Recipe(
        "the MLP GAN of chapter 2 (G 256-512-1024, D 512-256), non-saturating loss",
        {"smoke": 40, "cpu": 7000, "full": 30000},
        _mlp_models,
        _adam_trainer,
    ),
    "dcgan": Recipe(
        "the DCGAN of chapter 3 (transposed convolutions, batch norm), non-saturating loss, Adam 1e-3 (2e-4 in full)",
        {"smoke": 20, "cpu": 5000, "full": 20000},
        _dcgan_models,
        _dcgan_trainer,
    ),
    "cgan": Recipe(
        "the conditional DCGAN of chapter 4 (label embedding concatenated to z; projection D)",
        {"smoke": 20, "cpu": 3500, "full": 20000},
        _cgan_models,
        _cgan_trainer,
    ),
    "wgan": Recipe(
        "WGAN of chapter 5: DCGAN generator, critic without batch norm, weights clipped to ±0.01, RMSProp 5e-5, 5 critic steps",
        {"smoke": 4, "cpu": 1500, "full": 20000},
        _wgan_models,
        _wgan_trainer,
    ),
    "wgan-gp": Recipe(
        "WGAN-GP of chapter 5: DCGAN generator, layer-norm critic, gradient penalty λ = 10, Adam 1e-4 (0.5, 0.9), 5 critic steps",
        {"smoke": 4, "cpu": 1000, "full": 20000},
        _wgan_gp_models,
        _wgan_gp_trainer,
    ),
    "progan": Recipe(
        "Progressive GAN of chapter 6: grown 4->8->16->32 on MNIST padded to 32x32, equalized lr, pixel norm, "
        "minibatch stddev, WGAN-GP with drift, Adam 1e-3 (0, 0.99), EMA",
        {p: s.total_steps for p, s in PROGAN_SCHEDULES.items()},
        _progan_models,
        _progan_trainer,
        own_data=True,
    ),
}


def get_recipe(model: str) -> Recipe:
    """The recipe for ``model``; an unknown name raises naming the known ones."""
    return RECIPES[check_choice(model, tuple(RECIPES), "model")]


def build_trainer(model: str, profile: str, *, seed: int = 0, device: torch.device | None = None,
                  data: torch.Tensor | None = None, **kw) -> GANTrainer:
    """Seed, build ``model``'s networks for ``profile`` and return its configured trainer.

    ``data``: images (N, C, H, W) in [-1, 1] to train on instead of MNIST (recipes with ``own_data``).
    """
    from .device import seed_everything

    recipe = get_recipe(model)
    seed_everything(seed)
    meta = {"model": model, "profile": profile, "seed": seed}
    if data is None:
        g, d = recipe.models(profile)
    else:
        if not recipe.own_data:
            own = ", ".join(name for name, r in RECIPES.items() if r.own_data)
            raise GanCourseError(f"{model!r} trains on MNIST only; a folder of your own images works with: {own}")
        g, d = recipe.models(profile, channels=data.shape[1])
        kw["data"] = data
        meta["channels"] = int(data.shape[1])
    return recipe.trainer(g, d, profile, dict(device=device, seed=seed, meta=meta, **kw))
