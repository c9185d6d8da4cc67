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
