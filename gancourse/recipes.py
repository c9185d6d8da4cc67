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
from .models import MLPDiscriminator, MLPGenerator
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


RECIPES: dict[str, Recipe] = {
    "mlp": Recipe(
        "the MLP GAN of chapter 2 (G 256-512-1024, D 512-256), non-saturating loss",
        {"smoke": 40, "cpu": 9000, "full": 30000},
        _mlp_models,
        _mlp_trainer,
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
