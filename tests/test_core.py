"""Input checks, profiles, device choice, seeding, losses' conventions used by the trainer, plotting."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import gancourse
from gancourse.checks import GanCourseError, check_images
from gancourse.plotting import image_grid, plot_density, plot_losses, show_images


@pytest.mark.parametrize(
    "x, match",
    [
        (torch.zeros(4, 28, 28), r"\(N, C, H, W\)"),
        (torch.full((2, 1, 28, 28), 3.0), r"values in \[-1, 1\]"),
        (torch.zeros(2, 1, 28, 28, dtype=torch.uint8), "float"),
        (torch.zeros(0, 1, 28, 28), "empty"),
        (torch.full((2, 1, 28, 28), float("nan")), "NaN"),
        ([1, 2, 3], "torch.Tensor"),
    ],
)
def test_check_images_rejects(x, match):
    with pytest.raises(GanCourseError, match=match):
        check_images(x)


def test_check_images_shape_requirements():
    x = torch.zeros(2, 1, 28, 28)
    assert check_images(x, channels=1, size=28) is x
    assert isinstance(check_images(np.zeros((2, 1, 4, 4), np.float32)), torch.Tensor)
    with pytest.raises(GanCourseError, match="channel"):
        check_images(x, channels=3)
    with pytest.raises(GanCourseError, match="32x32"):
        check_images(x, size=32)


def test_profiles(monkeypatch):
    monkeypatch.delenv("GANCOURSE_PROFILE", raising=False)
    monkeypatch.setenv("GANCOURSE_DEVICE", "cpu")
    assert gancourse.resolve_profile("smoke") == "smoke"
    assert gancourse.resolve_profile("auto") == "cpu"
    monkeypatch.setenv("GANCOURSE_PROFILE", "smoke")
    assert gancourse.resolve_profile("auto") == "smoke"
    assert gancourse.resolve_profile("full") == "full"  # an explicit profile wins
    assert gancourse.pick("smoke", {"smoke": 1, "cpu": 2, "full": 3}) == 1
    with pytest.raises(GanCourseError, match="unknown profile 'fast'; choose one of: smoke, cpu, full, auto"):
        gancourse.resolve_profile("fast")
    monkeypatch.setenv("GANCOURSE_PROFILE", "turbo")
    with pytest.raises(GanCourseError, match="GANCOURSE_PROFILE"):
        gancourse.resolve_profile("auto")


def test_device_choice(monkeypatch):
    monkeypatch.setenv("GANCOURSE_DEVICE", "cpu")
    assert gancourse.get_device().type == "cpu"
    monkeypatch.delenv("GANCOURSE_DEVICE")
    expected = "cuda" if torch.cuda.is_available() else None
    if expected:
        assert gancourse.get_device().type == "cuda"
    else:
        assert gancourse.get_device().type in ("cpu", "mps")
    monkeypatch.setenv("GANCOURSE_DEVICE", "banana")
    with pytest.raises(GanCourseError, match="not a device name"):
        gancourse.get_device()


def test_cuda_asked_for_without_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("GANCOURSE_DEVICE", "cuda")
    with pytest.raises(GanCourseError, match="no CUDA GPU"):
        gancourse.get_device()


def test_seeding_repeats():
    gancourse.seed_everything(7)
    a = (torch.randn(3), np.random.rand(3))
    gancourse.seed_everything(7)
    b = (torch.randn(3), np.random.rand(3))
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_image_grid_layout_and_range():
    x = torch.linspace(-1, 1, 6 * 16).reshape(6, 1, 4, 4)
    grid = image_grid(x, nrow=3, pad=1)
    assert grid.shape == (2 * 5 + 1, 3 * 5 + 1)
    assert grid.min() >= 0 and grid.max() <= 1
    np.testing.assert_allclose(grid[1:5, 1:5], (x[0, 0].numpy() + 1) / 2)
    with pytest.raises(GanCourseError):
        image_grid(torch.zeros(2, 28, 28))


def test_plots_draw_what_they_are_given():
    ax = show_images(torch.zeros(4, 1, 8, 8), title="t")
    assert ax.get_title() == "t"
    x = np.linspace(-1, 1, 11)
    ax = plot_density(x, {"data": np.ones(11), "G": np.zeros(11)}, discriminator=np.full(11, 0.5))
    assert [l.get_label() for l in ax.get_lines()] == ["data", "G"]
    ax = plot_losses({"step": list(range(1, 101)), "d_loss": [1.0] * 100, "g_loss": [2.0] * 100}, smooth=10)
    assert len(ax.get_lines()) == 2 and len(ax.get_lines()[0].get_xdata()) == 91
    plt.close("all")
