import numpy as np
import pytest
import torch

from gancourse.checks import GanCourseError
from gancourse.toys import gaussian_mixture_1d, grid_of_gaussians, ring_of_gaussians, two_cities


def test_ring_and_grid_layout():
    ring, grid = ring_of_gaussians(), grid_of_gaussians()
    assert ring.n_modes == 8 and ring.std == 0.01
    np.testing.assert_allclose(ring.means.norm(dim=1), 1.0, atol=1e-6)
    assert grid.n_modes == 25 and grid.std == 0.05
    assert sorted(set(grid.means[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]


def test_samples_have_the_mixture_moments():
    g = torch.Generator().manual_seed(0)
    x = two_cities().sample(20000, g)
    assert x.shape == (20000, 1)
    assert float(x.mean()) == pytest.approx(15.0, abs=0.3)
    assert float(((x < 15).float().mean())) == pytest.approx(0.5, abs=0.02)
    pts = ring_of_gaussians().sample(5000, g)
    assert float((pts.norm(dim=1) - 1).abs().max()) < 0.06  # within 6σ of the ring


def test_pdf_integrates_to_one():
    m = gaussian_mixture_1d((-2.0, 3.0), 0.7, weights=(0.3, 0.7))
    x = np.linspace(-10, 12, 20001)
    assert np.trapezoid(m.pdf(x), x) == pytest.approx(1.0, abs=1e-6)


def test_sampling_is_repeatable():
    m = grid_of_gaussians()
    a = m.sample(100, torch.Generator().manual_seed(3))
    b = m.sample(100, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_bad_mixtures():
    with pytest.raises(GanCourseError, match="positive"):
        gaussian_mixture_1d((0.0,), 0.0)
    with pytest.raises(GanCourseError, match="summing to 1"):
        gaussian_mixture_1d((0.0, 1.0), 1.0, weights=(0.9, 0.9))
    with pytest.raises(GanCourseError, match="dimension"):
        ring_of_gaussians().pdf(np.zeros((3, 3)))
