"""Chapter 8's package parts: the Dirac-GAN, spectral norm in a trained model (EMA, eval mode, resume),
lazy penalties, R1's weight, the 450-digit set."""
import math

import pytest
import torch
from torch import nn

from gancourse import GanCourseError
from gancourse.data import load_mnist
from gancourse.dirac import DIRAC_METHODS, dirac_field, dirac_jacobian, dirac_trajectory, r1_eigenvalues
from gancourse.losses import r1_penalty, r1_regulariser
from gancourse.models import DCGANDiscriminator, DCGANGenerator
from gancourse.spectral import spectral_normalize
from gancourse.trainer import GANTrainer


# ------------------------------------------------------------------------------------------- Dirac-GAN
def test_the_unregularised_field_is_the_papers_and_its_eigenvalues_are_imaginary():
    theta, psi = torch.randn(50, dtype=torch.float64), torch.randn(50, dtype=torch.float64)
    d_theta, d_psi = dirac_field(theta, psi, "gan")
    f1 = 1 / (1 + torch.exp(psi * theta))  # f'(t) = 1 / (1 + e^t) for f(t) = −log(1 + e^{−t})
    assert torch.allclose(d_theta, -psi * f1) and torch.allclose(d_psi, theta * f1)
    eig = torch.linalg.eigvals(dirac_jacobian("gan"))
    assert torch.allclose(eig.real, torch.zeros(2, dtype=torch.float64), atol=1e-12)
    assert sorted(eig.imag.tolist()) == pytest.approx([-0.5, 0.5])


@pytest.mark.parametrize("gamma", [0.0, 0.3, 1.0, 2.5])
def test_r1s_jacobian_has_the_closed_form_eigenvalues(gamma):
    numeric = torch.linalg.eigvals(dirac_jacobian("r1", gamma=gamma))
    closed = r1_eigenvalues(gamma)
    key = lambda z: (round(z.real, 6), round(z.imag, 6))  # noqa: E731
    numeric, closed = sorted(numeric.tolist(), key=key), sorted(closed.tolist(), key=key)
    assert numeric == pytest.approx(closed, abs=1e-9)


def test_instance_noise_is_the_exact_expectation_of_the_noisy_field():
    # a Monte Carlo estimate with 400,000 draws agrees with the quadrature to its own error
    g = torch.Generator().manual_seed(0)
    theta, psi, sigma = 0.7, -0.4, 1.0
    e1, e2 = (sigma * torch.randn(400_000, generator=g, dtype=torch.float64) for _ in range(2))
    fp = lambda t: torch.sigmoid(-t)  # noqa: E731
    mc_theta = (-psi * fp(psi * (theta + e1))).mean()
    mc_psi = ((theta + e1) * fp(psi * (theta + e1)) - e2 * fp(-psi * e2)).mean()
    d_theta, d_psi = dirac_field(theta, psi, "instance-noise", noise_std=sigma)
    assert d_theta.item() == pytest.approx(mc_theta.item(), abs=3e-3)
    assert d_psi.item() == pytest.approx(mc_psi.item(), abs=3e-3)


def test_trajectories_do_what_the_eigenvalues_say():
    radius = {m: dirac_trajectory(m, steps=2000).norm(dim=1) for m in DIRAC_METHODS}
    assert radius["gan"][-1] > 2 * radius["gan"][0]  # simultaneous steps on ±i/2: |1 + h·i/2| > 1, spirals out
    assert radius["r1"][-1] < 1e-9 and radius["instance-noise"][-1] < 1e-9  # Re λ < 0: converge
    assert radius["wgan"][-200:].min() > 0.2 and radius["wgan-gp"][-200:].min() > 0.2  # circle, never settle
    path = dirac_trajectory("wgan", steps=500)
    assert path[1:, 1].abs().max() <= 0.3 + 1e-12  # clipped after every step


def test_critical_damping_at_gamma_one():
    crossings = {}
    for gamma in (0.3, 1.0, 3.0):
        theta = dirac_trajectory("r1", start=(1.0, 0.0), lr=0.01, steps=4000, gamma=gamma)[:, 0]
        crossings[gamma] = int((theta[1:].sign() != theta[:-1].sign()).sum())
    assert crossings[0.3] >= 2 and crossings[1.0] == 0 and crossings[3.0] == 0


def test_dirac_bad_settings():
    with pytest.raises(GanCourseError, match="method"):
        dirac_field(0.0, 0.0, "lsgan")
    with pytest.raises(GanCourseError, match="gamma must be a number >= 0"):
        dirac_field(0.0, 0.0, "r1", gamma=-1)
    with pytest.raises(GanCourseError, match="unknown Dirac-GAN setting"):
        dirac_trajectory("r1", gama=1.0)


# -------------------------------------------------------------------------------------- spectral norm
def test_spectral_discriminator_has_no_batch_norm_and_unit_norm_layers():
    d = DCGANDiscriminator(width=8, norm="spectral")
    assert not [m for m in d.modules() if isinstance(m, nn.BatchNorm2d)]
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 3 and all(torch.nn.utils.parametrize.is_parametrized(c, "weight") for c in convs)
    d.train()
    for _ in range(30):
        d(torch.randn(4, 1, 28, 28))
    for c in convs:
        w = c.weight.detach()
        assert torch.linalg.matrix_norm(w.reshape(w.shape[0], -1), 2).item() == pytest.approx(1.0, rel=1e-3)
    with pytest.raises(GanCourseError, match="norm"):
        DCGANDiscriminator(norm="layer")
    with pytest.raises(GanCourseError, match="no convolution or Linear"):
        spectral_normalize(nn.ReLU())


def test_power_iteration_runs_only_in_training_mode():
    d = DCGANDiscriminator(width=8, norm="spectral")
    conv = d.net[0][0]
    u = conv.parametrizations.weight[0]._u.clone()
    d.eval()
    with torch.no_grad():
        d(torch.randn(4, 1, 28, 28))
    assert torch.equal(conv.parametrizations.weight[0]._u, u)
    d.train()
    d(torch.randn(4, 1, 28, 28))
    assert not torch.equal(conv.parametrizations.weight[0]._u, u)


def _sn_trainer(**kw):
    torch.manual_seed(0)
    g = spectral_normalize(DCGANGenerator(latent_dim=8, width=4))  # SN in G too, as BigGAN does: the EMA's trap
    d = DCGANDiscriminator(width=4, norm="spectral")
    data = torch.rand(32, 1, 28, 28) * 2 - 1
    return GANTrainer(g, d, data, batch_size=8, device="cpu", progress=False, log_every=5, ema_decay=0.9, **kw)


def test_the_ema_averages_weights_and_copies_the_power_iterations_vectors():
    t = _sn_trainer()
    t.fit(10)
    g_layer, e_layer = t.G.project[0], t.ema.project[0]
    g_sn, e_sn = g_layer.parametrizations.weight[0], e_layer.parametrizations.weight[0]
    assert torch.equal(e_sn._u, g_sn._u) and torch.equal(e_sn._v, g_sn._v)  # copied, so still unit vectors
    assert not torch.equal(e_layer.parametrizations.weight.original, g_layer.parametrizations.weight.original)
    assert e_sn._u.norm().item() == pytest.approx(1.0, abs=1e-5)


def test_a_spectrally_normalised_run_resumes_exactly(tmp_path):
    straight = _sn_trainer()
    straight.fit(12)
    first = _sn_trainer(out_dir=tmp_path)
    first.fit(6)
    resumed = _sn_trainer(out_dir=tmp_path).resume()
    resumed.fit(12)
    for a, b in zip(straight.D.state_dict().values(), resumed.D.state_dict().values()):
        assert torch.equal(a, b)  # weights and every u, v
    for a, b in zip(straight.ema.state_dict().values(), resumed.ema.state_dict().values()):
        assert torch.equal(a, b)


# ------------------------------------------------------------------------------------------ R1, lazy
def test_r1_regulariser_weighs_the_penalty_and_refuses_a_negative_weight():
    d = DCGANDiscriminator(width=4, norm="spectral")
    x = torch.rand(6, 1, 28, 28) * 2 - 1
    d.eval()
    assert r1_regulariser(4.0)(d, x, x).item() == pytest.approx(2.0 * r1_penalty(d, x).item(), rel=1e-6)
    for bad in (-0.1, "10", None, float("nan")):
        with pytest.raises(GanCourseError, match="gamma must be a number >= 0"):
            r1_regulariser(bad)


def test_a_lazy_penalty_runs_every_kth_step_with_gain_k():
    calls = []

    def penalty(d, real, fake):
        calls.append(1)
        return torch.tensor(1.0)

    t = _sn_trainer(penalty=penalty, penalty_every=4)
    t.fit(10)
    assert len(calls) == 3  # steps 0, 4, 8
    assert t.history["penalty"] == [4.0, 0, 0, 0, 4.0, 0, 0, 0, 4.0, 0]
    with pytest.raises(GanCourseError, match="penalty_every must be a positive integer"):
        _sn_trainer(penalty=penalty, penalty_every=0)


# ------------------------------------------------------------------------------------- the small set
def test_per_class_keeps_the_first_digits_of_each_class():
    full = load_mnist("train", verbose=False)
    small = load_mnist("train", per_class=45, verbose=False)
    assert len(small.labels) == 450 and torch.bincount(small.labels).tolist() == [45] * 10
    for c in (0, 7):
        assert torch.equal(small.images[small.labels == c], full.images[full.labels == c][:45])
    for bad in (0, 10_000, 4.5):
        with pytest.raises(GanCourseError, match="per_class must be a whole number"):
            load_mnist("train", per_class=bad, verbose=False)


# ------------------------------------------------------------------------------ chapter 8's DCGAN variants
def batch_norms(trainer) -> list[nn.Module]:
    return [m for m in trainer.D.modules() if isinstance(m, nn.BatchNorm2d)]


def test_dcgan_variant_with_the_recipes_additions_is_the_dcgan_recipe_step_for_step():
    from gancourse.recipes import build_trainer, dcgan_recipe_additions, dcgan_variant

    assert dcgan_recipe_additions("cpu") == dcgan_recipe_additions("smoke") == ("r1",)
    assert dcgan_recipe_additions("full") == ()  # the paper's DCGAN, batch norm in D
    full = build_trainer("dcgan", "full", progress=False, device="cpu")
    assert full.penalty is None and any(isinstance(m, torch.nn.BatchNorm2d) for m in full.D.modules())
    a = dcgan_variant("r1", "smoke", per_class=45, progress=False, device="cpu")
    b = build_trainer("dcgan", "smoke", per_class=45, progress=False, device="cpu")
    assert b.penalty is not None and b.penalty_every == 16
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in b.D.modules())
    a.fit(3), b.fit(3)
    assert all(torch.equal(p, q) for p, q in zip(a.D.parameters(), b.D.parameters()))
    assert all(torch.equal(p, q) for p, q in zip(a.G.parameters(), b.G.parameters()))
    assert a.ema_decay == b.ema_decay  # the generator they sample from averages alike too
    assert all(torch.equal(p, q) for p, q in zip(a.ema.parameters(), b.ema.parameters()))


def test_the_cgan_recipe_regularises_its_discriminator_as_the_dcgan_recipe_does():
    from gancourse.recipes import R1_EVERY, R1_GAMMA, build_trainer

    full = build_trainer("cgan", "full", progress=False, device="cpu")
    assert full.penalty is None and batch_norms(full)  # the paper's conditional DCGAN
    t = build_trainer("cgan", "smoke", per_class=45, progress=False, device="cpu")
    assert not batch_norms(t) and t.penalty.gamma == R1_GAMMA and t.penalty_every == R1_EVERY
    t.fit(R1_EVERY)  # the lazy penalty is computed at step 0 and again at step 16
    penalties = t.history["penalty"]
    assert len(penalties) == R1_EVERY and all(math.isfinite(v) for v in penalties)
    assert penalties[0] > 0 and penalties[1] == 0  # on the conditional D: ∇ₓ D(x, y) at the real digits and labels


def test_short_runs_sample_from_a_shorter_average_than_full_runs():
    from gancourse.recipes import build_trainer

    for model in ("dcgan", "cgan"):
        short, full = (build_trainer(model, p, progress=False, device="cpu") for p in ("cpu", "full"))
        assert (short.ema_decay, full.ema_decay) == (0.99, 0.999)
        assert short.g_opt.param_groups[0]["lr"] == 1e-3 and full.g_opt.param_groups[0]["lr"] == 2e-4


def test_each_addition_switches_what_it_names():
    from gancourse import losses
    from gancourse.recipes import dcgan_variant

    def build(adds):
        return dcgan_variant(adds, "smoke", per_class=45, progress=False, device="cpu")

    plain, sn, r1 = build(()), build("sn+hinge"), build(["r1"])
    assert batch_norms(plain) and not batch_norms(sn) and not batch_norms(r1)
    assert any(hasattr(m, "parametrizations") for m in sn.D.modules())
    assert not any(hasattr(m, "parametrizations") for m in r1.D.modules())
    assert sn.d_loss is losses.hinge_discriminator_loss and sn.g_loss is losses.hinge_generator_loss
    assert r1.penalty_every == 16 and r1.augment is None and build("diffaugment").augment is not None
    ttur = build("ttur")
    g_lr, d_lr = ttur.g_opt.param_groups[0]["lr"], ttur.d_opt.param_groups[0]["lr"]
    assert d_lr == pytest.approx(4 * g_lr) and math.sqrt(g_lr * d_lr) == pytest.approx(1e-3)
    assert ttur.meta["model"] == "dcgan+ttur" and plain.meta["model"] == "dcgan"
    for t in (sn, r1, ttur):
        t.fit(2)
        assert all(math.isfinite(v) for v in t.history["d_loss"])


def test_bad_additions_get_one_line():
    from gancourse.recipes import check_additions, step_cost

    assert check_additions("diffaugment+sn") == ("sn", "diffaugment")              # the table's order
    assert step_cost(()) == 1.0 and step_cost("sn+diffaugment") > step_cost("sn") > 1.0
    with pytest.raises(GanCourseError, match="unknown DCGAN addition 'dropout'"):
        check_additions("sn+dropout")
    with pytest.raises(GanCourseError, match="choose one loss"):
        check_additions(["hinge", "lsgan"])
    with pytest.raises(GanCourseError, match="norm"):
        DCGANDiscriminator(norm="layer")


def test_a_batch_norm_dcgan_checkpoint_resumed_by_the_r1_recipe_fails_in_one_line_and_is_kept(tmp_path):
    from gancourse.checks import CheckpointError
    from gancourse.recipes import build_trainer, dcgan_variant

    old = dcgan_variant((), "smoke", per_class=45, out_dir=tmp_path, progress=False, device="cpu")  # D with batch norm
    old.fit(2)
    saved = (tmp_path / "checkpoint.pt").read_bytes()
    new = build_trainer("dcgan", "smoke", per_class=45, progress=False, device="cpu")  # R1, no batch norm
    with pytest.raises(CheckpointError, match="another recipe, profile or version") as info:
        new.resume(tmp_path / "checkpoint.pt")
    assert "\n" not in str(info.value)
    assert (tmp_path / "checkpoint.pt").read_bytes() == saved
