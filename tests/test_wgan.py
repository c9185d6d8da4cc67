"""WGAN and WGAN-GP: the Wasserstein losses, the gradient penalty, clipping, the critic and the recipes."""
import pytest
import torch
from torch import nn

from gancourse import GanCourseError
from gancourse.losses import critic_loss, gradient_penalty, wasserstein_generator_loss
from gancourse.models import WGANCritic
from gancourse.recipes import RECIPES, build_trainer, wgan_gp_penalty
from gancourse.trainer import clip_weights


def test_plus_minus_one_labels_equal_the_mean_difference():
    """The reference code's mean(y·f) with y = −1 on real, +1 on fake is E f(fake) − E f(real)."""
    real, fake = torch.randn(37, dtype=torch.float64), torch.randn(37, dtype=torch.float64) + 0.3
    scores = torch.cat([real, fake])
    y = torch.cat([-torch.ones(37), torch.ones(37)]).double()
    assert critic_loss(real, fake).item() == pytest.approx((y * scores).mean().item() * 2, rel=1e-12)
    # the reference code backpropagates the two halves separately: mean(−1·f(x)) + mean(+1·f(G(z)))
    assert critic_loss(real, fake).item() == pytest.approx((-real).mean().item() + fake.mean().item(), rel=1e-12)
    # and the generator's ±1 form: label −1 ("real") on its fakes
    assert wasserstein_generator_loss(fake).item() == pytest.approx((-1 * fake).mean().item(), rel=1e-12)
    assert critic_loss(real, fake).shape == () and wasserstein_generator_loss(fake.view(1, -1)).shape == ()


def test_the_critic_loss_estimates_minus_w1_for_an_optimal_1d_critic():
    """For two 1-D point masses at 0 and t, f(x) = x is an optimal 1-Lipschitz critic and W1 = t."""
    real, fake = torch.full((10,), 3.0), torch.zeros(10)
    assert -critic_loss(real, fake).item() == pytest.approx(3.0)


class Linear(nn.Module):
    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x, *args):
        return x.flatten(1) @ self.w


def test_the_penalty_is_zero_for_a_unit_gradient_critic_and_positive_otherwise():
    w = torch.randn(2 * 3 * 3, dtype=torch.float64)
    real, fake = torch.randn(16, 2, 3, 3, dtype=torch.float64), torch.randn(16, 2, 3, 3, dtype=torch.float64)
    assert gradient_penalty(Linear(w / w.norm()), real, fake).item() == pytest.approx(0.0, abs=1e-20)
    # ‖∇f‖ = 3 everywhere: (3 − 1)² = 4
    assert gradient_penalty(Linear(3 * w / w.norm()), real, fake).item() == pytest.approx(4.0, rel=1e-12)
    # a nonlinear critic: the mean over interpolates of (‖∇‖ − 1)², checked by hand with the same ε
    critic = nn.Sequential(nn.Flatten(), nn.Linear(18, 8), nn.Tanh(), nn.Linear(8, 1), nn.Flatten(0)).double()
    pen = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(3))
    eps = torch.rand(16, 1, 1, 1, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat)
    assert pen.item() > 0
    assert pen.item() == pytest.approx(((g.flatten(1).norm(dim=1) - 1) ** 2).mean().item(), rel=1e-10)


def test_the_penalty_is_differentiable_with_respect_to_the_critic_weights():
    critic = WGANCritic(width=8)
    real, fake = torch.rand(6, 1, 28, 28) * 2 - 1, torch.rand(6, 1, 28, 28) * 2 - 1
    pen = gradient_penalty(critic, real, fake.requires_grad_(True))
    pen.backward()
    weights = [m.weight for m in critic.modules() if isinstance(m, nn.Conv2d)]
    assert all(w.grad is not None and torch.isfinite(w.grad).all() and w.grad.abs().sum() > 0 for w in weights)
    assert critic.net[-1].bias.grad is None  # the output bias shifts f but not ∇x f: it is the one weight left out
    assert fake.grad is None  # real and fake are detached inside: only the critic is trained by it


def test_the_penalty_passes_labels_to_a_conditional_critic():
    class Conditional(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.randn(10, 4))

        def forward(self, x, y):
            return (x * self.w[y]).sum(1)  # the gradient wrt x is w[y]

    critic = Conditional()
    real, fake, y = torch.randn(30, 4), torch.randn(30, 4), torch.arange(30) % 10
    want = ((critic.w[y].norm(dim=1) - 1) ** 2).mean()
    assert gradient_penalty(critic, real, fake, y).item() == pytest.approx(want.item(), rel=1e-5)
    assert wgan_gp_penalty(critic, real, fake, y).item() == pytest.approx(10 * want.item(), rel=1e-5)
    with pytest.raises(TypeError):
        gradient_penalty(critic, real, fake)  # the labels are not optional for this critic


def test_the_penalty_rejects_mismatched_input():
    critic = Linear(torch.randn(4))
    with pytest.raises(GanCourseError, match="same shape"):
        gradient_penalty(critic, torch.randn(8, 4), torch.randn(7, 4))
    with pytest.raises(GanCourseError, match="same shape"):
        gradient_penalty(critic, torch.randn(4), torch.randn(4))
    with pytest.raises(GanCourseError, match="one score per sample"):
        gradient_penalty(lambda x: x, torch.randn(8, 4), torch.randn(8, 4))


def test_the_wgan_gp_critic_has_no_batch_norm_and_a_linear_output():
    for norm in ("layer", "none"):
        critic = WGANCritic(width=8, norm=norm)
        assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in critic.modules())
        assert isinstance(critic.net[-1], nn.Conv2d)  # no sigmoid, scores are unbounded
        # per-sample scores: a sample's score does not depend on the rest of the batch
        x = torch.rand(5, 1, 28, 28) * 2 - 1
        assert torch.allclose(critic(x)[:2], critic(x[:2]), atol=1e-6)
    for name in ("wgan", "wgan-gp"):
        for profile in ("smoke", "cpu", "full"):
            _, d = RECIPES[name].models(profile)
            assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in d.modules()), (name, profile)
    with pytest.raises(GanCourseError, match="critic norm"):
        WGANCritic(norm="batch")


def test_clipping_keeps_every_critic_weight_within_the_limit_while_training():
    tr = build_trainer("wgan", "smoke", progress=False, device="cpu")
    assert tr.d_steps == 5 and isinstance(tr.d_opt, torch.optim.RMSprop)
    assert tr.d_opt.param_groups[0]["lr"] == pytest.approx(5e-5)
    assert [getattr(h, "limit", None) for h in tr.after_d_step] == [0.01]
    with torch.no_grad():
        for p in tr.D.parameters():
            p.mul_(100)  # far outside the box before training
    tr.fit(3)
    params = list(tr.D.parameters())
    assert max(p.abs().max().item() for p in params) <= 0.01
    assert any(p.abs().max().item() == pytest.approx(0.01) for p in params)  # the clip was active
    assert clip_weights().limit == 0.01


@pytest.mark.parametrize("model", ["wgan", "wgan-gp"])
def test_the_recipes_build_and_train(model):
    tr = build_trainer(model, "smoke", progress=False, device="cpu")
    hist = tr.fit(RECIPES[model].steps["smoke"])
    assert len(hist["d_loss"]) == RECIPES[model].steps["smoke"]
    assert all(torch.isfinite(torch.tensor(hist[k])).all() for k in ("d_loss", "g_loss"))
    assert tr.sample(4, seed=0).shape == (4, 1, 28, 28)
    if model == "wgan-gp":
        assert tr.penalty is wgan_gp_penalty and tr.after_d_step == []
        assert tr.d_opt.param_groups[0]["betas"] == (0.5, 0.9) and tr.d_opt.param_groups[0]["lr"] == pytest.approx(1e-4)
        assert all(p >= 0 for p in hist["penalty"])
