"""gancourse.spectral: power iteration against the exact spectral norm and against torch's spectral_norm."""
import pytest
import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from gancourse import GanCourseError
from gancourse.spectral import spectral_norm_power_iteration


@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 3, 3)])
def test_power_iteration_converges_to_the_largest_singular_value(shape):
    w = torch.randn(*shape, dtype=torch.float64)
    u = torch.randn(shape[0], dtype=torch.float64)
    exact = torch.linalg.matrix_norm(w.reshape(shape[0], -1), 2).item()
    sigma1, _, _ = spectral_norm_power_iteration(w, u, n_iter=1)
    sigma, u, v = spectral_norm_power_iteration(w, u, n_iter=500)
    assert sigma.item() == pytest.approx(exact, rel=1e-8)
    assert sigma1.item() <= exact * (1 + 1e-12)  # an estimate from below: uᵀWv ≤ ‖W‖₂ for unit u, v
    assert u.norm().item() == pytest.approx(1.0) and v.shape == (w[0].numel(),)
    # σ is differentiable in W: ∂σ/∂W = u vᵀ at convergence
    w.requires_grad_(True)
    s, u2, v2 = spectral_norm_power_iteration(w, u, n_iter=1)
    s.backward()
    assert torch.allclose(w.grad.reshape(shape[0], -1), torch.outer(u2, v2), atol=1e-6)


def test_one_step_is_what_torchs_spectral_norm_computes():
    torch.manual_seed(0)
    layer = torch.nn.utils.spectral_norm(nn.Conv2d(3, 4, 3))  # the classic hook: Algorithm 1 as written
    u0, w = layer.weight_u.clone(), layer.weight_orig.detach()
    layer.train()
    layer(torch.randn(1, 3, 5, 5))
    sigma, u, v = spectral_norm_power_iteration(w, u0, n_iter=1)
    assert torch.allclose(u, layer.weight_u, atol=1e-6) and torch.allclose(v, layer.weight_v, atol=1e-6)
    assert torch.allclose(layer.weight, w / sigma, atol=1e-6)


def test_the_parametrization_agrees_and_its_weight_has_norm_one_after_training_mode_forwards():
    layer = spectral_norm(nn.Linear(6, 9))
    param = layer.parametrizations.weight
    u0, w = param[0]._u.clone(), param.original.detach()
    layer.train()
    layer(torch.randn(2, 6))  # one power iteration, in training mode
    sigma, u, _ = spectral_norm_power_iteration(w, u0, n_iter=1)
    assert torch.allclose(u, param[0]._u, atol=1e-6)  # the same u; its v is half a step further on
    assert torch.allclose(layer.weight, w / sigma, rtol=1e-3)
    for _ in range(50):
        layer(torch.randn(2, 6))
    assert torch.linalg.matrix_norm(layer.weight.detach(), 2).item() == pytest.approx(1.0, abs=1e-4)
    # eval mode runs no iteration: u stays where it is
    layer.eval()
    before = param[0]._u.clone()
    layer(torch.randn(2, 6))
    assert torch.equal(param[0]._u, before)


def test_bad_input_gets_one_sentence():
    with pytest.raises(GanCourseError, match="rank >= 2"):
        spectral_norm_power_iteration(torch.randn(5), torch.randn(5))
    with pytest.raises(GanCourseError, match=r"shape \(8,\)"):
        spectral_norm_power_iteration(torch.randn(8, 5), torch.randn(5))
    with pytest.raises(GanCourseError, match="n_iter"):
        spectral_norm_power_iteration(torch.randn(8, 5), torch.randn(8), n_iter=0)
