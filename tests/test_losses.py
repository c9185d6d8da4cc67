"""gancourse.losses: the GAN losses from logits, checked against their formulas in float64."""
import math

import pytest
import torch

from gancourse.losses import GENERATOR_LOSS_KINDS, discriminator_loss, generator_loss


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


LOGITS = [-4.0, -1.3, -0.2, 0.0, 0.7, 2.5, 5.0]


@pytest.mark.parametrize("kind, formula", [
    ("saturating", lambda l: math.log(1 - sigmoid(l))),  # E log(1 - D(G(z)))
    ("non_saturating", lambda l: -math.log(sigmoid(l))),  # -E log D(G(z))
    ("max_likelihood", lambda l: -math.exp(l)),  # -E exp(sigma^-1(D)) = -E exp(l)
])
def test_generator_costs_match_their_formulas_as_batch_means(kind, formula):
    got = generator_loss(torch.tensor(LOGITS, dtype=torch.float64), kind=kind)
    assert got.shape == ()
    assert got.item() == pytest.approx(sum(formula(l) for l in LOGITS) / len(LOGITS), rel=1e-12, abs=1e-12)
    # a mean, not a sum: the same logits repeated give the same loss, whatever the shape
    tiled = torch.tensor(LOGITS * 3, dtype=torch.float64).view(3, -1)
    assert generator_loss(tiled, kind=kind).item() == pytest.approx(got.item(), rel=1e-12)


def test_discriminator_loss_matches_its_formula():
    real, fake = [2.0, -0.5, 0.3], [-1.5, 0.2, -2.4, 1.0]
    want = -sum(math.log(sigmoid(l)) for l in real) / 3 - sum(math.log(1 - sigmoid(l)) for l in fake) / 4
    got = discriminator_loss(torch.tensor(real, dtype=torch.float64), torch.tensor(fake, dtype=torch.float64))
    assert got.shape == () and got.item() == pytest.approx(want, rel=1e-12)
    assert discriminator_loss(torch.zeros(5), torch.zeros(5)).item() == pytest.approx(2 * math.log(2), rel=1e-6)


@pytest.mark.parametrize("kind", GENERATOR_LOSS_KINDS)
def test_finite_values_and_gradients_at_logits_of_100(kind):
    logits = torch.tensor([-100.0, 100.0], requires_grad=True)  # float32, where log(sigmoid(-100)) = -inf
    loss = generator_loss(logits, kind=kind)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    if kind == "saturating":
        assert loss.item() == pytest.approx(-50.0, abs=1e-4)
    if kind == "non_saturating":
        assert loss.item() == pytest.approx(50.0, abs=1e-4)
        # the point of the non-saturating cost: a confident D (logit -100) still gives G a gradient
        assert abs(logits.grad[0].item()) == pytest.approx(0.5, rel=1e-6)


def test_saturating_cost_starves_where_the_non_saturating_one_does_not():
    l = torch.tensor([-8.0], requires_grad=True)  # D(G(z)) = 3e-4: D rejects the fake
    (g_sat,) = torch.autograd.grad(generator_loss(l, "saturating"), l)
    (g_ns,) = torch.autograd.grad(generator_loss(l, "non_saturating"), l)
    assert abs(g_sat.item()) == pytest.approx(sigmoid(-8.0), rel=1e-5)  # sigma(l): tiny
    assert abs(g_ns.item()) == pytest.approx(1 - sigmoid(-8.0), rel=1e-5)  # 1 - sigma(l): about 1


def test_discriminator_loss_is_finite_at_logits_of_100():
    real = torch.tensor([-100.0, 100.0], requires_grad=True)
    fake = torch.tensor([100.0, -100.0], requires_grad=True)
    loss = discriminator_loss(real, fake)
    loss.backward()
    assert loss.item() == pytest.approx(100.0, abs=1e-4)
    assert torch.isfinite(real.grad).all() and torch.isfinite(fake.grad).all()


def test_unknown_kind_raises_value_error_naming_the_kinds():
    with pytest.raises(ValueError) as info:
        generator_loss(torch.zeros(3), kind="wasserstein")
    for kind in GENERATOR_LOSS_KINDS:
        assert kind in str(info.value)


# --------------------------------------------------------------------------- hinge, least squares, R1
from torch import nn  # noqa: E402

from gancourse import GanCourseError  # noqa: E402
from gancourse.losses import (  # noqa: E402
    gradient_penalty, hinge_discriminator_loss, hinge_generator_loss, least_squares_discriminator_loss,
    least_squares_generator_loss, r1_penalty,
)


def test_hinge_losses_on_a_hand_example():
    real, fake = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([[-3.0, 0.0], [0.5, -0.5]])
    # relu(1 - real): 0, 0.5, 2 -> mean 5/6;  relu(1 + fake): 0, 1, 1.5, 0.5 -> mean 3/4
    got = hinge_discriminator_loss(real, fake)
    assert got.shape == () and got.item() == pytest.approx(5 / 6 + 3 / 4, rel=1e-6)
    assert hinge_generator_loss(fake).item() == pytest.approx(3.0 / 4, rel=1e-6)  # -mean(-3, 0, .5, -.5)
    # past the margins D gets no gradient from a sample
    r, f = torch.tensor([1.5, 0.5], requires_grad=True), torch.tensor([-2.0, 0.0], requires_grad=True)
    hinge_discriminator_loss(r, f).backward()
    assert r.grad.tolist() == [0.0, -0.5] and f.grad.tolist() == [0.0, 0.5]


def test_least_squares_losses_on_a_hand_example_with_both_codings():
    real, fake = torch.tensor([1.0, 0.0, 3.0]), torch.tensor([0.5, -1.0])
    # a=0, b=1: 1/2 mean(0, 1, 4) + 1/2 mean(0.25, 1)
    assert least_squares_discriminator_loss(real, fake).item() == pytest.approx(0.5 * 5 / 3 + 0.5 * 1.25 / 2)
    assert least_squares_generator_loss(fake).item() == pytest.approx(0.5 * (0.25 + 4) / 2)  # c = 1
    # a=-1, b=1, c=0: 1/2 mean(0, 1, 4) + 1/2 mean(2.25, 0)
    got = least_squares_discriminator_loss(real, fake, a=-1.0, b=1.0)
    assert got.shape == () and got.item() == pytest.approx(0.5 * 5 / 3 + 0.5 * 2.25 / 2)
    assert least_squares_generator_loss(fake, c=0.0).item() == pytest.approx(0.5 * (0.25 + 1) / 2)
    assert least_squares_generator_loss(fake.view(2, 1), c=0.0).shape == ()


class LinearD(nn.Module):
    """D(x) = w·x, so ∇ₓD = w everywhere."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x, *args):
        return x.flatten(1) @ self.w


def test_r1_is_the_squared_input_gradient_norm_and_trains_d():
    w = torch.randn(2 * 3 * 3, dtype=torch.float64)
    real = torch.randn(5, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    d = LinearD(w.clone())
    pen = r1_penalty(d, real)
    assert pen.shape == () and pen.item() == pytest.approx(w.pow(2).sum().item(), rel=1e-12)
    pen.backward()  # create_graph: d/dw ||w||^2 = 2w, and the reals are left alone
    assert torch.allclose(d.w.grad, 2 * w) and real.grad is None
    # a nonlinear D: the per-sample squared norms, averaged (not the norm of the mean)
    x = torch.tensor([[1.0, 2.0], [-1.0, 0.5]], dtype=torch.float64)
    quad = lambda z: (z ** 2).sum(1)  # noqa: E731  gradient 2z, squared norm 4|z|^2
    assert r1_penalty(quad, x).item() == pytest.approx(4 * (5 + 1.25) / 2, rel=1e-12)


def test_r1_passes_labels_to_a_conditional_discriminator():
    wy = torch.randn(10, 4)
    real, y = torch.randn(30, 4), torch.arange(30) % 10
    assert r1_penalty(lambda x, lab: (x * wy[lab]).sum(1), real, y).item() == pytest.approx(
        wy[y].pow(2).sum(1).mean().item(), rel=1e-5)


@pytest.mark.parametrize("penalty", [
    lambda d, real, fake: r1_penalty(d, real),
    lambda d, real, fake: gradient_penalty(d, real, fake),
], ids=["r1", "gradient_penalty"])
def test_the_penalties_reject_bad_input_in_one_sentence(penalty):
    d = LinearD(torch.randn(4))
    for real, words in [(torch.randn(4), "(N, ...)"), ([[1.0, 2.0]], "tensors")]:
        with pytest.raises(GanCourseError, match=words.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
            penalty(d, real, real)
    with pytest.raises(GanCourseError, match="one score per sample"):
        penalty(lambda x: x, torch.randn(8, 4), torch.randn(8, 4))
