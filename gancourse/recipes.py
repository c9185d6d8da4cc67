"""Training recipes: what `gancourse train MODEL` builds for each profile.

A recipe makes the models for a profile and a configured :class:`GANTrainer`;
chapters grow this table: ``mlp`` (chapter 2), ``dcgan`` (3), ``cgan`` (4),
``wgan`` and ``wgan-gp`` (5), ``progan`` (6); :func:`dcgan_variant` is the ``dcgan`` recipe with
any of chapter 8's additions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

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
from . import losses
from .augment import diff_augment
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


def _digits(kw: dict, size: int = 28):
    """The MNIST training digits a recipe trains on: all of them, or ``per_class`` of each class (``--per-class``)."""
    return load_mnist("train", size=size, per_class=kw.pop("per_class", None))


def _mlp_models(profile: str) -> tuple[nn.Module, nn.Module]:
    return MLPGenerator(latent_dim=100), MLPDiscriminator()


def _adam_trainer(g: nn.Module, d: nn.Module, profile: str, kw: dict, lr: float = 2e-4,
                  d_lr: float | None = None, ema_decay: float = 0.999) -> GANTrainer:
    """Unconditional MNIST, batch 64, Adam ``lr`` (0.5, 0.999) for G, ``d_lr`` (default ``lr``) for D, EMA
    ``ema_decay`` (mlp, dcgan and its chapter-8 variants)."""
    data = _digits(kw).images
    return GANTrainer(
        g, d, data, batch_size=64,
        g_optimizer=adam(g, lr), d_optimizer=adam(d, lr if d_lr is None else d_lr),
        ema_decay=ema_decay, log_every=50, **kw,
    )


def _short_run_ema(profile: str) -> float:
    # The EMA of G that the conv recipes sample from. 0.999 averages the last ~1,000 steps, right for long GPU runs
    # (kept in `full`); in a few thousand CPU steps, with G still improving fast, it lags behind. 0.99 (~100 steps)
    # measured on #15 (2026-12-06, seed 0, 5,000 samples, FID in benchmarks/judge.py's second network): cgan after
    # 9,000 steps 18.7 -> 16.2 (the course's FID 0.13 -> 0.12); dcgan after 10,000 steps 37.5 -> 34.7 with one thread,
    # 38.0 -> 37.8 with two (quality.py): for the DCGAN a small gain at most, within the spread between runs. A larger
    # step did not pay with it: dcgan with Adam 2e-3 and 0.99, 44.1.
    return 0.999 if profile == "full" else 0.99


def _dcgan_lr(profile: str) -> float:
    # The paper's 2e-4 suits its long runs (kept in `full`). With these small nets and a budget of minutes, 1e-3
    # lowers the FID by about 40 % at equal wall time and covers all ten digits (measured: FID 1.01 against 1.71 after 226 s,
    # 0.84 against 1.49 after 360 s, 2 CPU threads; 2e-3 was no better than 1e-3). The conditional DCGAN (cgan) gains
    # as much: after 9,000 steps with EMA 0.99, judge FID 16.2 -> 12.4, the course's FID 0.12 -> 0.096, 99.1 % of its
    # samples read as the asked digit (#15, 2026-12-06).
    return 2e-4 if profile == "full" else 1e-3


def dcgan_recipe_additions(profile: str) -> tuple[str, ...]:
    """Chapter 8's additions that the ``dcgan`` recipe itself uses in ``profile``: lazy R1 (no batch norm in D) on a
    CPU, none in ``full`` (the paper's DCGAN)."""
    # #15 (2026-12-07, seed 0, one thread, 5,000 EMA samples; benchmarks/judge.py's FID / the course's FID): after
    # 10,000 steps the plain DCGAN 34.7 / 0.66, with R1 (γ = 1 every 16 steps, D without batch norm) 22.1 / 0.52,
    # recall 0.81, at no extra cost per step; after 6,000 steps 45-46 against 29.5. Tried beside it and not kept:
    # hinge loss (49.2 at 6,000 steps), dropout 0.3 in D (61.4), G 48 channels wide (53.9), D 48 wide (38.2 at 10,000).
    return () if profile == "full" else ("r1",)


def _dcgan_trainer(g: nn.Module, d: nn.Module, profile: str, kw: dict) -> GANTrainer:
    return _variant_trainer(dcgan_recipe_additions(profile), g, d, profile, kw)  # the DCGAN's choices live in one place


def _dcgan_norm(additions: tuple[str, ...]) -> str:
    return "spectral" if "sn" in additions else "none" if "r1" in additions else "batch"  # R1: no batch norm in D


def _dcgan_models(profile: str, norm: str | None = None) -> tuple[nn.Module, nn.Module]:
    width = 64 if profile == "full" else 32
    norm = _dcgan_norm(dcgan_recipe_additions(profile)) if norm is None else norm
    return DCGANGenerator(latent_dim=64, width=width, upsample="transposed"), DCGANDiscriminator(width=width, norm=norm)


def _cgan_models(profile: str) -> tuple[nn.Module, nn.Module]:
    width = 64 if profile == "full" else 32
    # G concatenates the label: z ⊙ e(y) keeps z's symmetric law for every class, so one sample says
    # little about its label (measured: 25 % conditioning accuracy after 1,000 steps). D projects (multiplies).
    # D's features are the DCGAN's, with the DCGAN recipe's norm: none on a CPU, where both train with lazy R1.
    norm = _dcgan_norm(dcgan_recipe_additions(profile))
    return (ConditionalGenerator(64, 10, "concat", width), ConditionalDiscriminator(10, "multiply", width, norm=norm))


def _cgan_trainer(g: nn.Module, d: nn.Module, profile: str, kw: dict) -> GANTrainer:
    # The DCGAN recipe's learning rate, EMA and regulariser. R1 measured on #15 (2026-12-07, seed 0, two threads,
    # 5,000 balanced samples; benchmarks/judge.py's FID / the course's FID / asked digit): after 9,000 steps
    # batch-norm D 13.2 / 0.11 / 99.3 %, lazy R1 (γ = 1 every 16 steps, no batch norm) 5.3 / 0.075 / 98.1 %,
    # recall 0.66 -> 0.77, at the same cost per step.
    digits, lr = _digits(kw), _dcgan_lr(profile)
    _add_r1(dcgan_recipe_additions(profile), kw)
    return GANTrainer(
        g, d, digits.images, labels=digits.labels, batch_size=64,
        g_optimizer=adam(g, lr), d_optimizer=adam(d, lr),
        ema_decay=_short_run_ema(profile), log_every=50, **kw,
    )


def _wgan_models(profile: str) -> tuple[nn.Module, nn.Module]:
    width = 64 if profile == "full" else 16  # five critic steps per G step: half DCGAN's width on a CPU
    return DCGANGenerator(latent_dim=64, width=width, upsample="transposed"), WGANCritic(width=width, norm="none")


def _wgan_trainer(g: nn.Module, d: nn.Module, profile: str, kw: dict) -> GANTrainer:
    # Arjovsky et al. (2017), Algorithm 1: clip to ±0.01, RMSProp 5e-5, five critic steps per G step
    data = _digits(kw).images
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
    data = _digits(kw).images
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
# phase at batch 16-ish; a CPU affords ~132k images in all in 10 minutes, and the 32x32 phases get the largest share
# (their samples are the ones scored; short phases there left them rough).
PROGAN_SCHEDULES: dict[str, GrowthSchedule] = {
    "smoke": GrowthSchedule(stable_images=(16, 16, 16, 16), fade_images=(16, 16, 16), batch_size=8),
    "cpu": GrowthSchedule(stable_images=(8000, 8000, 12000, 140000), fade_images=(8000, 8000, 12000), batch_size=16),
    "full": GrowthSchedule(stable_images=(200_000,) * 4, fade_images=(200_000,) * 3, batch_size=32),
}
# cpu, measured 2026-11-30 (seed 0, 2 threads, OpenMP's default waiting, 5,000 EMA samples; FID / confident > 0.9 /
# classes / training time). Widths and images per phase, (stable 4..32; fade 8..32) in thousands:
#   64/32/16/16, (8, 8, 16, 28; 8, 16, 8)    2.34 / 13 % / 8   (the previous recipe; 542 s with PASSIVE waiting)
#   64/64/32/16, (8, 8, 12, 36; 8, 8, 12)    1.83 / 19 % / 8 / 471 s   (the recipe until #15)
#                                            1.84 / 18 % / 9 / 443 s   (the same, seed 1)
#   64/64/32/16, (8, 8, 16, 32; 8, 16, 8)    1.87 / 21 % / 7 / 475 s
#   64/64/32/16, (8, 16, 24, 24; 8, 16, 8)   2.01 / 19 % / 8 / 511 s   (more at 8x8/16x16, less at 32x32: worse)
#   64/64/32/16, (8, 8, 16, 40; 8, 16, 16)   1.58 / 22 % / 9 / 569 s   (better, but too close to 10 minutes)
#   the same with the penalty on every 4th critic step only (x4)  2.14 / 18 % / 8 / 433 s (lazy: worse)
# #15 (2026-12-03), the same with λ = 1, scored also by benchmarks/judge.py (a second network): after 5,750 steps
# judge FID 110 (the independent evaluator gave the old recipe 102), after 7,000 (the 32x32 phase 20k images longer)
# 76: the 32x32 layers were still learning fast when the old schedule stopped, so (8, 8, 12, 76; 8, 8, 12) is this
# recipe's WGAN-GP schedule, 8,250 steps. The non-saturating loss with R1 (γ = 0.1, every step) collapsed (recall 0.03).
# #15 (2026-12-07): the non-saturating loss with lazy R1 (every 16 steps) costs 0.6 of WGAN-GP's time per step (no
# penalty's double backward every step): 8,250 steps in 434 s against 728 (two threads). Seed 0, one thread, 5,000
# EMA samples, judge FID / the course's FID: at 8,250 steps γ = 1 68.8, γ = 5 62.6 (WGAN-GP 57.0); with the time
# saved spent on the 32x32 phase (140k images, 12,250 steps) γ = 1 55.5 / 0.88, **γ = 5 32.6 / 0.76**, recall 0.69.
# Narrower nets at 32x32 barely save time there (8 channels: 11.4 against 10.6 steps/s): the step's cost is mostly
# fixed overheads of small convolutions, so the widths went up at 8x8 and 16x16 instead.
PROGAN_WIDTHS = {"smoke": (16, 16, 8, 8), "cpu": (64, 64, 32, 16), "full": (256, 256, 128, 64)}


def _progan_models(profile: str, channels: int = 1) -> tuple[nn.Module, nn.Module]:
    widths = PROGAN_WIDTHS[profile]
    return ProGANGenerator(latent_dim=128, widths=widths, channels=channels), ProGANDiscriminator(widths, channels)


PROGAN_R1_GAMMA = 5.0  # the CPU recipe's R1 weight (lazy, every R1_EVERY steps); the DCGAN's γ = 1 was worse here


def _progan_trainer(g: nn.Module, d: nn.Module, profile: str, kw: dict) -> GANTrainer:
    # Karras et al. (2018), kept in `full`: WGAN-GP (λ = 10, one critic step) with the drift term. On a CPU: the
    # non-saturating loss with lazy R1 (γ = PROGAN_R1_GAMMA), as StyleGAN2 trains this architecture's successor
    # (measured beside PROGAN_SCHEDULES). Both: Adam 1e-3 with betas (0, 0.99) reset at each resolution, an EMA of
    # G (its warm-up restarted at each resolution): 0.999 in `full`, 0.99 on a CPU. The EMA measured on #15
    # (2026-12-06, the WGAN-GP recipe, seed 0, one thread, 8,250 steps, 5,000 samples, FID in benchmarks/judge.py's
    # second network / the course's FID): 0.999 62.0 / 1.24, 0.995 58.6 / 1.21, 0.99 57.0 / 1.19 (recall 0.63), the
    # raw G 71.5; with two threads (quality.py) 65.9 -> 63.4.
    data = kw.pop("data", None)
    data = _digits(kw, size=32).images if data is None else data
    if profile == "full":
        kw.update(loss="wasserstein", penalty=wgan_gp_penalty)
    else:
        kw.update(loss="non_saturating", penalty=losses.r1_regulariser(PROGAN_R1_GAMMA), penalty_every=R1_EVERY)
    return ProGANTrainer(
        g, d, data, PROGAN_SCHEDULES[profile],
        g_optimizer=adam(g, 1e-3, (0.0, 0.99)), d_optimizer=adam(d, 1e-3, (0.0, 0.99)),
        ema_decay=_short_run_ema(profile), log_every=50, **kw,
    )


# Chapter 8: the chapter-3 DCGAN with one switch per addition. Settings: spectral norm on every convolution of D
# (which then has no batch norm; R1 also removes it, since a penalty on ∇ₓD(x) assumes D(x) depends on x alone); the hinge and least-squares (0-1 coding) losses; R1 with γ = R1_GAMMA, lazily every
# R1_EVERY steps; TTUR: D's learning rate TTUR_RATIO times G's, around the DCGAN recipe's rate (G's lr/√r, D's lr·√r);
# DiffAugment's translation (1/8) and cutout (1/2) on every image D sees.
DCGAN_ADDITIONS = ("sn", "hinge", "lsgan", "r1", "ttur", "diffaugment")
R1_GAMMA, R1_EVERY, TTUR_RATIO = 1.0, 16, 4.0
DIFFAUGMENT_POLICY = "translation,cutout"


# The extra cost of each addition per generator step, a fraction of a plain DCGAN step (`cpu` widths, 2 CPU cores),
# measured by `python benchmarks/step_cost.py --steps 150 --repeats 3` on 2026-12-03 (medians of alternating runs;
# sn +0.03, diffaugment +0.22; hinge, lsgan, ttur and lazy r1 within the ±0.1 noise of zero, kept at 0: they add no
# work, and r1's extra backward pass every 16th step is paid for by D's missing batch norm); chapter 8 gives each run
# BUDGET / step_cost(...) steps.
STEP_COST = {"sn": 0.03, "hinge": 0.0, "lsgan": 0.0, "r1": 0.0, "ttur": 0.0, "diffaugment": 0.22}


def step_cost(additions: Iterable[str] | str) -> float:
    """The cost of one generator step with ``additions``, in plain-DCGAN steps (1 + the additions' extra costs)."""
    return 1.0 + sum(STEP_COST[a] for a in check_additions(additions))


def check_additions(additions: Iterable[str]) -> tuple[str, ...]:
    """``additions`` as a tuple in DCGAN_ADDITIONS' order; an unknown one, or both losses, raise one line."""
    if isinstance(additions, str):
        additions = [a.strip() for a in additions.split("+") if a.strip()]
    additions = tuple(additions)
    for a in additions:
        check_choice(a, DCGAN_ADDITIONS, "DCGAN addition")
    if "hinge" in additions and "lsgan" in additions:
        raise GanCourseError("choose one loss: 'hinge' or 'lsgan', not both")
    return tuple(a for a in DCGAN_ADDITIONS if a in additions)


def _diffaugment(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    return diff_augment(x, DIFFAUGMENT_POLICY, generator=generator)


def _add_r1(additions: tuple[str, ...], kw: dict) -> None:
    if "r1" in additions:  # the one place the DCGAN family's R1 settings are applied (dcgan, cgan, chapter 8)
        kw.update(penalty=losses.r1_regulariser(R1_GAMMA), penalty_every=R1_EVERY)


def _variant_trainer(additions: tuple[str, ...], g: nn.Module, d: nn.Module, profile: str, kw: dict) -> GANTrainer:
    lr = _dcgan_lr(profile)
    g_lr, d_lr = (lr / TTUR_RATIO ** 0.5, lr * TTUR_RATIO ** 0.5) if "ttur" in additions else (lr, lr)
    if "hinge" in additions:
        kw.update(d_loss=losses.hinge_discriminator_loss, g_loss=losses.hinge_generator_loss)
    if "lsgan" in additions:
        kw.update(d_loss=losses.least_squares_discriminator_loss, g_loss=losses.least_squares_generator_loss)
    _add_r1(additions, kw)
    if "diffaugment" in additions:
        kw["augment"] = _diffaugment
    return _adam_trainer(g, d, profile, kw, lr=g_lr, d_lr=d_lr, ema_decay=_short_run_ema(profile))


def dcgan_variant(additions: Iterable[str] | str = (), profile: str = "cpu", *, seed: int = 0,
                  device: torch.device | None = None, **kw) -> GANTrainer:
    """The paper's DCGAN (chapter 3's networks, batch norm in D) with chapter 8's ``additions`` (names from
    DCGAN_ADDITIONS, or "sn+hinge"), trained as the ``dcgan`` recipe trains (learning rate, EMA, batch).

    ``kw`` goes to the trainer (``per_class=45`` for the 450-digit set, ``progress``, ``out_dir`` ...).
    ``dcgan_variant(dcgan_recipe_additions(profile), profile)`` is the ``dcgan`` recipe step for step: ``"r1"``
    on a CPU, ``()`` in ``full``.
    """
    from .device import seed_everything

    additions = check_additions(additions)
    seed_everything(seed)
    g, d = _dcgan_models(profile, norm=_dcgan_norm(additions))
    meta = {"model": "dcgan+" + "+".join(additions) if additions else "dcgan", "profile": profile, "seed": seed}
    return _variant_trainer(additions, g, d, profile, dict(device=device, seed=seed, meta=meta, **kw))


RECIPES: dict[str, Recipe] = {
    "mlp": Recipe(
        "the MLP GAN of chapter 2 (G 256-512-1024, D 512-256 with dropout 0.3), non-saturating loss",
        {"smoke": 40, "cpu": 12000, "full": 30000},  # cpu: ~170 s of its 4 minutes at #15's rates (314 s on a slow day)
        _mlp_models,
        _adam_trainer,
    ),
    "dcgan": Recipe(
        "the DCGAN of chapter 3 (transposed convolutions), non-saturating loss, Adam 1e-3 and lazy R1 with no batch norm in D (2e-4 and batch norm in full)",
        {"smoke": 20, "cpu": 10000, "full": 20000},  # cpu: ~320 s of its 6 minutes at #15's 32 ms a step (501 s here 2026-12-06, 589 s on a slow day)
        _dcgan_models,
        _dcgan_trainer,
    ),
    "cgan": Recipe(
        "the conditional DCGAN of chapter 4 (label embedding concatenated to z; projection D), Adam 1e-3 and lazy R1 with no batch norm in D (2e-4 and batch norm in full)",
        {"smoke": 20, "cpu": 9000, "full": 20000},  # cpu: ~300 s of its 6 minutes at #15's 34 ms a step (439 s here 2026-12-06, 506 s on a slow day)
        _cgan_models,
        _cgan_trainer,
    ),
    "wgan": Recipe(
        "WGAN of chapter 5: DCGAN generator, critic without batch norm, weights clipped to ±0.01, RMSProp 5e-5, 5 critic steps",
        # cpu: 332 s on a slow 2-core day (quality.py, 2026-12-03); clipping learns slowly (#15, seed 0: 5 / 8 / 9 classes of digits after
        # 1,500 / 3,000 / 6,000 steps; chapter 5's summary gives the whole curve)
        {"smoke": 4, "cpu": 4000, "full": 20000},
        _wgan_models,
        _wgan_trainer,
    ),
    "wgan-gp": Recipe(
        "WGAN-GP of chapter 5: DCGAN generator, layer-norm critic, gradient penalty λ = 10, Adam 1e-4 (0.5, 0.9), 5 critic steps",
        # cpu: 317 s on a slow 2-core day (quality.py, 2026-12-03; 1,000 steps drew 8 classes, 1,500 all 10; #15, seed 0)
        {"smoke": 4, "cpu": 2300, "full": 20000},
        _wgan_gp_models,
        _wgan_gp_trainer,
    ),
    "progan": Recipe(
        "Progressive GAN of chapter 6: grown 4->8->16->32 on MNIST padded to 32x32, equalized lr, pixel norm, "
        "minibatch stddev, Adam 1e-3 (0, 0.99), EMA; non-saturating loss with lazy R1 (the paper's WGAN-GP with drift in full)",
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
                  data: torch.Tensor | None = None, per_class: int | None = None, **kw) -> GANTrainer:
    """Seed, build ``model``'s networks for ``profile`` and return its configured trainer.

    ``data``: images (N, C, H, W) in [-1, 1] to train on instead of MNIST (recipes with ``own_data``).
    ``per_class``: train on the first ``per_class`` MNIST digits of each class (45: chapter 8's 450 digits).
    """
    from .device import seed_everything

    recipe = get_recipe(model)
    seed_everything(seed)
    meta = {"model": model, "profile": profile, "seed": seed}
    if per_class is not None:
        if data is not None:
            raise GanCourseError("per_class picks MNIST digits; it does not apply to a folder of your own images")
        kw["per_class"] = per_class
        meta["per_class"] = per_class
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
