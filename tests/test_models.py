"""Shapes, ranges and conventions of every model family; latent interpolation."""
import math

import pytest
import torch
from torch import nn

from gancourse.checks import GanCourseError
from gancourse.models import (
    ConditionalDiscriminator, ConditionalGenerator, DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator,
)
from gancourse.recipes import RECIPES, get_recipe
from gancourse.sampling import balanced_labels, generate, latent, lerp, slerp


@pytest.mark.parametrize("upsample", ["nearest", "transposed"])
def test_dcgan_shapes_and_range(upsample):
    g, d = DCGANGenerator(latent_dim=16, width=8, upsample=upsample), DCGANDiscriminator(width=8)
    x = g(torch.randn(5, 16) * 10)
    assert x.shape == (5, 1, 28, 28) and x.abs().max() <= 1
    assert d(x).shape == (5,)


def test_dcgan_follows_the_guidelines():
    g, d = DCGANGenerator(width=8), DCGANDiscriminator(width=8)
    assert not any(isinstance(m, (nn.Linear, nn.MaxPool2d, nn.AvgPool2d)) for m in list(g.modules()) + list(d.modules()))
    assert isinstance(list(g.modules())[-1], nn.Tanh)
    assert isinstance(d.net[0][0], nn.Conv2d) and not isinstance(d.net[0][1], nn.BatchNorm2d)  # no BN on D's input
    assert any(isinstance(m, nn.LeakyReLU) for m in d.modules()) and any(isinstance(m, nn.ReLU) for m in g.modules())


def test_unknown_upsample():
    with pytest.raises(GanCourseError, match="upsample"):
        DCGANGenerator(upsample="bilinear")


@pytest.mark.parametrize("combine", ["multiply", "concat"])
def test_conditional_models(combine):
    g = ConditionalGenerator(16, 10, combine, width=8)
    d = ConditionalDiscriminator(10, combine, width=8)
    y = torch.arange(10)
    x = g(torch.randn(10, 16), y)
    assert x.shape == (10, 1, 28, 28) and x.abs().max() <= 1 and d(x, y).shape == (10,)
    # the label matters: same z, different labels give different images and scores
    z = torch.randn(1, 16).repeat(2, 1)
    two = g.eval()(z, torch.tensor([3, 7]))
    assert not torch.allclose(two[0], two[1])
    assert not torch.allclose(d(two[:1].repeat(2, 1, 1, 1), torch.tensor([3, 7]))[0], d(two[:1].repeat(2, 1, 1, 1), torch.tensor([3, 7]))[1])


def test_conditional_generation_is_balanced():
    g = ConditionalGenerator(16, 10, width=8)
    assert torch.bincount(balanced_labels(1000, 10)).tolist() == [100] * 10
    assert generate(g, 20, seed=0).shape == (20, 1, 28, 28)


def test_every_recipe_builds_models_that_fit_mnist():
    for name, recipe in RECIPES.items():
        g, d = recipe.models("smoke")
        args = (torch.arange(4) % 10,) if getattr(g, "num_classes", None) else ()
        side = 28
        if name == "progan":  # MNIST padded to 32x32, both networks grown to full size
            g.set_growth(3), d.set_growth(3)
            side = 32
        x = g(torch.randn(4, g.latent_dim), *args)
        assert x.shape == (4, 1, side, side), name
        assert d(x, *args).shape == (4,), name
        assert set(recipe.steps) == {"smoke", "cpu", "full"}
    with pytest.raises(GanCourseError, match="choose one of: mlp, dcgan, cgan"):
        get_recipe("stylegan")


def test_mlp_architecture():
    g, d = MLPGenerator(), MLPDiscriminator()
    widths = [m.out_features for m in g.modules() if isinstance(m, nn.Linear)]
    assert widths == [256, 512, 1024, 784]
    assert [m.out_features for m in d.modules() if isinstance(m, nn.Linear)] == [512, 256, 1]


def test_lerp_and_slerp():
    z0, z1 = latent(2, 64, seed=0)
    t = torch.linspace(0, 1, 7)
    for f in (lerp, slerp):
        path = f(z0, z1, t)
        assert path.shape == (7, 64)
        torch.testing.assert_close(path[0], z0, atol=1e-5, rtol=0)
        torch.testing.assert_close(path[-1], z1, atol=1e-5, rtol=0)
    # slerp keeps the norm between the end norms (on the great circle); lerp's midpoint shrinks to ~√(d/2)
    norms = slerp(z0, z1, t).norm(dim=1)
    assert norms.min() >= min(z0.norm(), z1.norm()) - 1e-4 and norms.max() <= max(z0.norm(), z1.norm()) + 1e-4
    assert lerp(z0, z1, 0.5).norm() < 0.85 * min(z0.norm(), z1.norm())
    # between unit vectors, slerp moves at a constant angular speed
    u = slerp(z0 / z0.norm(), z1 / z1.norm(), t)
    torch.testing.assert_close(u.norm(dim=1), torch.ones(7), atol=1e-5, rtol=0)
    angles = torch.arccos((u[1:] * u[:-1]).sum(1).clamp(-1, 1))
    torch.testing.assert_close(angles, angles.mean().expand(6), atol=1e-4, rtol=0)
    # parallel ends fall back to lerp
    torch.testing.assert_close(slerp(z0, 2 * z0, 0.5), 1.5 * z0)
    assert math.isclose(float(slerp(z0, z1, 0.25).norm()), float(slerp(z0, z1, torch.tensor([0.25]))[0].norm()), rel_tol=1e-6)


def test_projection_term_starts_small():
    """The label's projection must not swamp the discriminator's logit at initialisation."""
    d = ConditionalDiscriminator(10, "multiply", width=8)
    x = torch.rand(64, 1, 28, 28) * 2 - 1
    h = d.features(x).flatten(1)
    projection = (d.embed(torch.arange(64) % 10) * h).sum(1)
    assert projection.abs().mean() < 3 * d.head(h).abs().mean()  # with N(0, 1) it is ~50x
