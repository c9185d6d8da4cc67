"""Training recipes: what `gancourse train MODEL` builds for each profile.

A recipe makes the models for a profile and a configured :class:`GANTrainer`;
chapters grow this table (``mlp`` now; ``dcgan``, ``cgan``, ``wgan``,
``wgan-gp`` and ``progan`` as their chapters land).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import torch
from torch import nn

from .checks import check_choice
from .data import load_mnist
from .models import (
    ConditionalDiscriminator, ConditionalGenerator, DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator,
)
from .trainer import GANTrainer, adam


@dataclass(frozen=True)
class Recipe:
    """How to train one model: its models, its trainer and its steps per profile."""

    description: str
    steps: Mapping[str, int]
    models: Callable[[str], tuple[nn.Module, nn.Module]]
    trainer: Callable[[nn.Module, nn.Module, str, dict], GANTrainer]


def _mlp_models(profile: str) -> tuple[nn.Module, nn.Module]:
    return MLPGenerator(latent_dim=100), MLPDiscriminator()


def _mlp_trainer(g: nn.Module, d: nn.Module, profile: str, kw: dict) -> GANTrainer:
    data = load_mnist("train").images
    return GANTrainer(
        g, d, data, batch_size=64,
        g_optimizer=adam(g, 2e-4), d_optimizer=adam(d, 2e-4),
        ema_decay=0.999, log_every=50, **kw,
    )


def _dcgan_models(profile: str) -> tuple[nn.Module, nn.Module]:
    width = 64 if profile == "full" else 32
    return DCGANGenerator(latent_dim=64, width=width, upsample="transposed"), DCGANDiscriminator(width=width)


def _dcgan_trainer(g: nn.Module, d: nn.Module, profile: str, kw: dict) -> GANTrainer:
    data = load_mnist("train").images
    return GANTrainer(
        g, d, data, batch_size=64,
        g_optimizer=adam(g, 2e-4), d_optimizer=adam(d, 2e-4),
        ema_decay=0.999, log_every=50, **kw,
    )


def _cgan_models(profile: str) -> tuple[nn.Module, nn.Module]:
    width = 64 if profile == "full" else 32
    return (ConditionalGenerator(64, 10, "multiply", width), ConditionalDiscriminator(10, "multiply", width))


def _cgan_trainer(g: nn.Module, d: nn.Module, profile: str, kw: dict) -> GANTrainer:
    digits = load_mnist("train")
    return GANTrainer(
        g, d, digits.images, labels=digits.labels, batch_size=64,
        g_optimizer=adam(g, 2e-4), d_optimizer=adam(d, 2e-4),
        ema_decay=0.999, log_every=50, **kw,
    )


RECIPES: dict[str, Recipe] = {
    "mlp": Recipe(
        "the MLP GAN of chapter 2 (G 256-512-1024, D 512-256), non-saturating loss",
        {"smoke": 40, "cpu": 9000, "full": 30000},
        _mlp_models,
        _mlp_trainer,
    ),
    "dcgan": Recipe(
        "the DCGAN of chapter 3 (transposed convolutions, batch norm), non-saturating loss",
        {"smoke": 20, "cpu": 4000, "full": 20000},
        _dcgan_models,
        _dcgan_trainer,
    ),
    "cgan": Recipe(
        "the conditional DCGAN of chapter 4 (label embedding multiplied into z; projection D)",
        {"smoke": 20, "cpu": 4000, "full": 20000},
        _cgan_models,
        _cgan_trainer,
    ),
}


def get_recipe(model: str) -> Recipe:
    """The recipe for ``model``; an unknown name raises naming the known ones."""
    return RECIPES[check_choice(model, tuple(RECIPES), "model")]


def build_trainer(model: str, profile: str, *, seed: int = 0, device: torch.device | None = None, **kw) -> GANTrainer:
    """Seed, build ``model``'s networks for ``profile`` and return its configured trainer."""
    from .device import seed_everything

    recipe = get_recipe(model)
    seed_everything(seed)
    g, d = recipe.models(profile)
    meta = {"model": model, "profile": profile, "seed": seed}
    return recipe.trainer(g, d, profile, dict(device=device, seed=seed, meta=meta, **kw))
