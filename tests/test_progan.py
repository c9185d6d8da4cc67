"""ProGAN: the layers' exact formulas, growth and fade-in, the progressive trainer, the CLI at 32x32."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gancourse.checks import GanCourseError
from gancourse.cli import main
from gancourse.losses import critic_loss
from gancourse.metrics import to_classifier_size
from gancourse.models.progan import (
    EqualizedConv2d, EqualizedLinear, MinibatchStdDev, PixelNorm, ProGANDiscriminator, ProGANGenerator, fade_in,
)
from gancourse.progressive import GrowthSchedule, ProGANTrainer, drift_critic_loss, grow_real
from gancourse.recipes import PROGAN_SCHEDULES, RECIPES, build_trainer, wgan_gp_penalty
from gancourse.trainer import adam

WIDTHS = (8, 8, 4, 4)


# ------------------------------------------------------------------ layers
def test_equalized_layers_scale_n01_weights_at_run_time():
    torch.manual_seed(0)
    lin = EqualizedLinear(50, 4000)
    assert abs(lin.weight.std().item() - 1) < 0.01 and abs(lin.weight.mean().item()) < 0.01
    assert torch.equal(lin.bias, torch.zeros(4000))
    x = torch.randn(3, 50)
    assert torch.allclose(lin(x), x @ (lin.weight * math.sqrt(2 / 50)).T, atol=1e-5)
    conv = EqualizedConv2d(6, 5, 3, padding=1, gain=1.0)
    conv.bias.data.fill_(0.5)
    y = torch.randn(2, 6, 7, 7)
    assert torch.allclose(conv(y), F.conv2d(y, conv.weight / math.sqrt(6 * 9), conv.bias, padding=1), atol=1e-5)
    # the stored weight is N(0, 1): the scale is not baked in, so Adam sees it at unit scale
    conv.weight.data.mul_(2)
    assert torch.allclose(conv(y) - 0.5, 2 * (F.conv2d(y, conv.weight / 2 / math.sqrt(54), padding=1)), atol=1e-5)


def test_equalized_output_variance_matches_he_init():
    torch.manual_seed(1)
    conv = EqualizedConv2d(64, 64, 3, padding=1)
    x = torch.randn(16, 64, 8, 8)
    var = conv(x)[:, :, 1:-1, 1:-1].var().item()  # interior pixels see the full fan-in
    assert abs(var - 2.0) < 0.15  # He: Var(y) = gain² · Var(x) = 2


def test_pixel_norm_exact():
    x = torch.randn(4, 7, 3, 3) * 5
    y = PixelNorm()(x)
    assert torch.allclose(y, x / torch.sqrt((x**2).mean(1, keepdim=True) + 1e-8))
    assert torch.allclose((y**2).mean(1), torch.ones(4, 3, 3), atol=1e-5)
    assert torch.equal(PixelNorm()(torch.zeros(2, 3, 1, 1)), torch.zeros(2, 3, 1, 1))


def test_minibatch_stddev_matches_the_reference_formula():
    torch.manual_seed(2)
    x = torch.randn(8, 3, 4, 4)
    y = MinibatchStdDev(4)(x)
    assert y.shape == (8, 4, 4, 4) and torch.equal(y[:, :3], x)
    groups = x.reshape(4, 2, 3, 4, 4)  # member i of group m is sample 2i + m
    expect = torch.sqrt(groups.var(0, unbiased=False) + 1e-8).mean((1, 2, 3))  # (2,)
    for n in range(8):
        assert torch.allclose(y[n, 3], expect[n % 2].expand(4, 4), atol=1e-6)
    same = MinibatchStdDev(4)(torch.ones(4, 2, 3, 3) * 3.0)
    assert same[:, 2].abs().max().item() < 1e-3  # identical samples: √(0 + 1e-8) = 1e-4
    odd = MinibatchStdDev(4)(torch.randn(6, 2, 2, 2))  # 4 does not divide 6: groups of 3
    assert odd.shape == (6, 3, 2, 2)
    with pytest.raises(GanCourseError):
        MinibatchStdDev(0)


def test_fade_in_endpoints_and_midpoint():
    a, b = torch.randn(3, 1, 4, 4), torch.randn(3, 1, 4, 4)
    assert torch.equal(fade_in(0.0, a, b), a) and torch.equal(fade_in(1.0, a, b), b)
    assert torch.allclose(fade_in(0.25, a, b), 0.75 * a + 0.25 * b)


# ------------------------------------------------------------------ growth
def test_channels_last_weights_change_speed_not_results():
    torch.manual_seed(4)
    g, d = ProGANGenerator(latent_dim=16, widths=WIDTHS), ProGANDiscriminator(WIDTHS)
    assert g.to_rgb[3].weight.is_contiguous(memory_format=torch.channels_last)
    assert d.blocks[0][0].weight.is_contiguous(memory_format=torch.channels_last)
    g2, d2 = ProGANGenerator(latent_dim=16, widths=WIDTHS), ProGANDiscriminator(WIDTHS)
    g2.load_state_dict(g.state_dict())
    d2.load_state_dict(d.state_dict())
    g2, d2 = g2.to(memory_format=torch.contiguous_format), d2.to(memory_format=torch.contiguous_format)
    assert g2.to_rgb[3].weight.is_contiguous()
    z = torch.randn(8, 16)
    for net in (g, d, g2, d2):
        net.set_growth(3, 0.4)
    x = g(z)
    assert torch.allclose(x, g2(z), atol=1e-5) and torch.allclose(d(x), d2(x), atol=1e-4)


def test_networks_grow_and_keep_their_state_in_buffers():
    torch.manual_seed(0)
    g, d = ProGANGenerator(16, WIDTHS), ProGANDiscriminator(WIDTHS)
    z = torch.randn(4, 16)
    for level, side in enumerate((4, 8, 16, 32)):
        g.set_growth(level, 0.5)
        d.set_growth(level, 0.5)
        x = g(z)
        assert x.shape == (4, 1, side, side) and d(x).shape == (4,)
        g.eval()
        assert g(z).shape == (4, 1, 32, 32) and g(z).abs().max() <= 1  # sampling: always 32x32 in [-1, 1]
        g.train()
    state = g.state_dict()
    assert int(state["level"]) == 3 and float(state["alpha"]) == 0.5
    fresh = ProGANGenerator(16, WIDTHS)
    fresh.load_state_dict(state)
    assert fresh.resolution == 32
    with pytest.raises(GanCourseError, match="level"):
        g.set_growth(4)
    with pytest.raises(GanCourseError, match="alpha"):
        g.set_growth(1, 1.5)
    with pytest.raises(GanCourseError, match="critic is at 32x32"):
        d(torch.zeros(2, 1, 16, 16))
    with pytest.raises(GanCourseError, match="widths"):
        ProGANGenerator(16, (8, 8))


def test_generator_fade_blends_upscaled_old_output_with_the_new_block():
    torch.manual_seed(0)
    g = ProGANGenerator(16, WIDTHS)
    z = torch.randn(3, 16)
    g.set_growth(1, 0.0)
    old = g(z)
    g.set_growth(0)
    assert torch.allclose(old, F.interpolate(g(z), scale_factor=2, mode="nearest"), atol=1e-6)  # α = 0: the old net
    g.set_growth(1, 1.0)
    new = g(z)
    g.set_growth(1, 0.3)
    assert torch.allclose(g(z), 0.7 * old + 0.3 * new, atol=1e-5)


def test_discriminator_fade_blends_the_downscaled_path():
    torch.manual_seed(0)
    d = ProGANDiscriminator(WIDTHS)
    x = torch.randn(4, 1, 8, 8)
    d.set_growth(1, 0.0)
    at0 = d(x)
    d.set_growth(0)
    assert torch.allclose(at0, d(F.avg_pool2d(x, 2)), atol=1e-5)  # α = 0: the 4x4 critic on the downscaled image


def test_schedule_alpha_rises_linearly_and_is_clipped():
    s = GrowthSchedule((32, 32, 32, 32), (64, 64, 64), batch_size=8)  # 4 stable, 8 fade steps
    assert s.total_steps == 4 * 4 + 3 * 8
    assert [s.at(i) for i in range(4)] == [(0, 1.0)] * 4
    assert [s.at(4 + i) for i in range(8)] == [(1, i / 8) for i in range(8)]
    assert s.at(12) == (1, 1.0) and s.at(16) == (2, 0.0) and s.at(10_000) == (3, 1.0)
    levels = [s.at(i)[0] for i in range(s.total_steps)]
    assert levels == sorted(levels)
    assert s.level_start(2) == 16
    with pytest.raises(GanCourseError):
        GrowthSchedule((1, 1, 1), (1, 1, 1), 4)
    with pytest.raises(GanCourseError):
        GrowthSchedule((1, 1, 1, 1), (1, 1, 1), 0)


def test_real_images_are_downscaled_and_faded():
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    assert torch.allclose(grow_real(x, 0, 1.0), F.avg_pool2d(x, 8))
    at16 = F.avg_pool2d(x, 2)
    low = F.interpolate(F.avg_pool2d(at16, 2), scale_factor=2, mode="nearest")
    assert torch.allclose(grow_real(x, 2, 0.25), 0.75 * low + 0.25 * at16, atol=1e-6)
    assert torch.allclose(grow_real(x, 2, 1.0), at16)
    assert torch.equal(grow_real(x, 3, 1.0), x)


# ------------------------------------------------------------------ trainer
def small_trainer(**kw):
    torch.manual_seed(0)
    g, d = ProGANGenerator(16, WIDTHS), ProGANDiscriminator(WIDTHS)
    data = torch.rand(64, 1, 32, 32) * 2 - 1
    sched = GrowthSchedule((16,) * 4, (32,) * 3, batch_size=8)  # 2 stable, 4 fade steps per phase
    kw.setdefault("penalty", wgan_gp_penalty)
    return ProGANTrainer(g, d, data, sched, g_optimizer=adam(g, 1e-3, (0.0, 0.99)),
                         d_optimizer=adam(d, 1e-3, (0.0, 0.99)), ema_decay=0.999, device="cpu", progress=False,
                         log_every=3, **kw)


def test_drift_term():
    real, fake = torch.tensor([2.0, -4.0]), torch.tensor([1.0, 0.0])
    assert torch.allclose(drift_critic_loss(0.001)(real, fake), critic_loss(real, fake) + 0.001 * 10.0)
    tr = small_trainer()
    assert tr.d_loss.epsilon == 0.001


def test_trainer_grows_fades_real_batches_and_resets_adam():
    tr = small_trainer()
    seen = []
    real_shapes = []
    original = tr._real

    def spy():
        real, cond = original()
        real_shapes.append((tr.step, real.shape[-1], float(tr.G.alpha)))
        return real, cond

    tr._real = spy
    tr.fit(2)  # level 0
    assert len(tr.g_opt.state) > 0
    states = {id(p) for p in tr.G.parameters() if p in tr.g_opt.state}
    tr.fit(3)  # the first step of level 1: Adam starts afresh
    assert int(tr.G.level) == 1 and int(tr.D.level) == 1 and int(tr.ema.level) == 1
    first_level1 = [s for s in tr.g_opt.state.values()]
    assert all(float(s["step"]) == 1 for s in first_level1), "Adam was not reset at the new resolution"
    assert states
    tr.fit(6)
    assert [r[1] for r in real_shapes] == [4, 4, 8, 8, 8, 8]
    assert [r[2] for r in real_shapes[2:]] == [0.0, 0.25, 0.5, 0.75]
    tr.fit(tr.schedule.total_steps)
    assert int(tr.G.level) == 3 and float(tr.G.alpha) == 1.0
    seen.append(tr.sample(5).shape)
    assert seen == [(5, 1, 32, 32)]


def test_ema_warm_up_restarts_at_each_resolution():
    tr = small_trainer()
    start = tr.schedule.level_start(2)
    assert tr.ema_decay_at(start) == pytest.approx(1 / 10)
    assert tr.ema_decay_at(start + 5) == pytest.approx(6 / 15)
    assert tr.ema_decay_at(start - 1) > tr.ema_decay_at(start)


def test_progan_recipe_caps_the_average_at_0_99_on_a_cpu_and_keeps_the_papers_0_999_in_full():
    cpu, full = (build_trainer("progan", p, progress=False, device="cpu") for p in ("cpu", "full"))
    assert (cpu.ema_decay, full.ema_decay) == (0.99, 0.999)
    # well after the 32x32 warm-up ((1 + s) / (10 + s) passes 0.99 at s = 891 and 0.999 at s = 8,991)
    assert cpu.ema_decay_at(cpu.schedule.level_start(3) + 5000) == 0.99
    assert full.ema_decay_at(full.schedule.level_start(3) + 10000) == 0.999


def test_progan_recipe_trains_the_non_saturating_loss_with_lazy_r1_on_a_cpu_and_the_papers_wgan_gp_in_full():
    from gancourse import losses
    from gancourse.recipes import PROGAN_R1_GAMMA, R1_EVERY

    cpu, full = (build_trainer("progan", p, progress=False, device="cpu") for p in ("cpu", "full"))
    assert full.loss == "wasserstein" and full.penalty is wgan_gp_penalty and full.penalty_every == 1
    assert full.d_loss.epsilon == 0.001                                  # the drift term
    assert cpu.loss == "non_saturating" and cpu.d_loss is losses.discriminator_loss
    assert cpu.penalty.gamma == PROGAN_R1_GAMMA and cpu.penalty_every == R1_EVERY
    # the time the lazy penalty saves goes to the 32x32 phase: 140,000 of its 172,000 images
    assert PROGAN_SCHEDULES["cpu"].stable_images[-1] == 140_000 and cpu.schedule.total_steps == 12_250


def test_non_saturating_progan_trains_with_r1_through_the_growth_and_an_unknown_loss_is_one_line():
    from gancourse import losses

    tr = small_trainer(loss="non_saturating", penalty=losses.r1_regulariser(5.0), penalty_every=4)
    tr.fit(tr.schedule.total_steps)                                      # 4x4 to 32x32, fades included
    assert int(tr.G.level) == 3 and tr.g_loss is losses.generator_loss
    penalties = tr.history["penalty"]
    assert all(math.isfinite(v) for v in tr.history["d_loss"] + tr.history["g_loss"] + penalties)
    assert penalties[0] > 0 and penalties[1] == 0                         # lazy: only every 4th step
    with pytest.raises(GanCourseError, match="unknown ProGAN loss 'hinge'; choose one of: wasserstein, non_saturating"):
        small_trainer(loss="hinge")


def test_progan_resume_is_bit_exact(tmp_path):
    straight = small_trainer()
    straight.fit(14)  # across the 4x4 -> 8x8 -> 16x16 growth
    first = small_trainer(out_dir=tmp_path)
    first.fit(7)
    resumed = small_trainer(out_dir=tmp_path).resume()
    assert resumed.step == 7 and int(resumed.G.level) == 1
    resumed.fit(14)
    for a, b in zip(straight.G.state_dict().values(), resumed.G.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(straight.ema.state_dict().values(), resumed.ema.state_dict().values()):
        assert torch.equal(a, b)
    assert straight.history["d_loss"] == resumed.history["d_loss"]


def test_trainer_rejects_bad_data_and_settings():
    g, d = ProGANGenerator(16, WIDTHS), ProGANDiscriminator(WIDTHS)
    sched = GrowthSchedule((8,) * 4, (8,) * 3, 4)
    with pytest.raises(GanCourseError, match="32, 32"):
        ProGANTrainer(g, d, torch.zeros(10, 1, 28, 28), sched, device="cpu", progress=False)
    with pytest.raises(GanCourseError, match="sets batch_size"):
        ProGANTrainer(g, d, torch.zeros(10, 1, 32, 32), sched, batch_size=4, device="cpu", progress=False)


# ------------------------------------------------------------------ recipe and CLI
def test_recipe_profiles():
    recipe = RECIPES["progan"]
    assert recipe.own_data and set(recipe.steps) == {"smoke", "cpu", "full"}
    assert recipe.steps["smoke"] <= 20 and recipe.steps["cpu"] == PROGAN_SCHEDULES["cpu"].total_steps
    g, d = recipe.models("smoke", channels=3)
    assert g.channels == 3 and d.channels == 3
    with pytest.raises(GanCourseError, match="MNIST only"):
        build_trainer("dcgan", "smoke", data=torch.zeros(4, 3, 32, 32))


def test_to_classifier_size_crops_the_padding():
    from gancourse.data import pad_to

    x = torch.rand(3, 1, 28, 28) * 2 - 1
    assert torch.equal(to_classifier_size(pad_to(x, 32)), x)
    assert to_classifier_size(x) is x
    with pytest.raises(GanCourseError):
        to_classifier_size(torch.zeros(2, 1, 16, 16))


def test_cli_trains_samples_32x32_and_evaluates(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "progan", "--profile", "smoke", "--out", str(out), "--quiet"]) == 0
    assert main(["sample", str(out), "--n", "12", "--out", str(tmp_path / "s.npz")]) == 0
    with np.load(tmp_path / "s.npz") as f:
        images = f["images"]
    assert images.shape == (12, 1, 32, 32) and images.min() >= -1 and images.max() <= 1
    assert main(["evaluate", str(tmp_path / "s.npz")]) == 0
    assert "FID" in capsys.readouterr().out
    # stopped early at 8x8: sampling still writes 32x32 (nearest-upsampled)
    early = tmp_path / "early"
    assert main(["train", "progan", "--profile", "smoke", "--out", str(early), "--steps", "3", "--quiet"]) == 0
    assert main(["sample", str(early), "--n", "4", "--out", str(tmp_path / "e.npz")]) == 0
    with np.load(tmp_path / "e.npz") as f:
        e = f["images"]
    assert e.shape == (4, 1, 32, 32)
    assert np.array_equal(e[:, :, ::2, ::2], e[:, :, 1::2, 1::2])  # 8x8 blown up: 4x4 blocks of one value


def test_cli_own_images(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "pics"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    out = tmp_path / "run"
    assert main(["train", "progan", "--profile", "smoke", "--out", str(out), "--data", str(folder), "--quiet"]) == 0
    assert json.loads((out / "run.json").read_text())["channels"] == 3
    assert main(["sample", str(out), "--n", "3", "--out", str(tmp_path / "s.npz")]) == 0
    with np.load(tmp_path / "s.npz") as f:
        assert f["images"].shape == (3, 3, 32, 32)
    assert main(["train", "progan", "--profile", "smoke", "--out", str(out), "--steps", "16", "--resume", "--quiet"]) == 0
    capsys.readouterr()
    empty = tmp_path / "empty"
    empty.mkdir()
    for argv, message in [
        (["train", "progan", "--out", str(tmp_path / "a"), "--data", str(tmp_path / "missing")], "does not exist"),
        (["train", "progan", "--out", str(tmp_path / "b"), "--data", str(empty)], "no readable images"),
        (["train", "dcgan", "--out", str(tmp_path / "c"), "--data", str(folder)], "MNIST only"),
    ]:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("gancourse: error:") and message in err


def test_the_forward_pass_reads_growth_without_touching_the_buffers_and_loading_refreshes_it():
    """No host sync per step on a GPU: forward uses a Python copy of (level, alpha); load_state_dict restores it."""
    from gancourse.models.progan import ProGANGenerator

    g = ProGANGenerator()
    g.set_growth(2, 0.25)
    assert g._state() == (2, 0.25) and g.resolution == 16
    assert int(g.level) == 2 and float(g.alpha) == 0.25  # the buffers still record it for checkpoints
    fresh = ProGANGenerator()
    assert fresh._state() == (0, 1.0)
    fresh.load_state_dict(g.state_dict())
    assert fresh._state() == (2, 0.25) and fresh.resolution == 16
    fresh.train()
    assert fresh(torch.randn(3, fresh.latent_dim)).shape[-1] == 16
