"""gancourse.augment: DiffAugment's translation and cutout against by-hand versions, gradients, p, errors."""
import pytest
import torch

from gancourse import GanCourseError
from gancourse.augment import (
    AUGMENT_POLICIES, cut_squares, cutout, diff_augment, overfitting_signal, shift_images, translate,
)


def images(n: int = 6, c: int = 2, h: int = 8, w: int = 8) -> torch.Tensor:
    # values in (-0.9, 0.9): no pixel equals the fill -1 by chance
    return (torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(1)) * 1.8 - 0.9).double()


def rolled(img: torch.Tensor, dy: int, dx: int, fill: float) -> torch.Tensor:
    """One image (C, H, W) shifted by hand: torch.roll, then the band that wrapped round set to fill."""
    out = torch.roll(img, shifts=(dy, dx), dims=(1, 2)).clone()
    if dy > 0:
        out[:, :dy] = fill
    if dy < 0:
        out[:, dy:] = fill
    if dx > 0:
        out[:, :, :dx] = fill
    if dx < 0:
        out[:, :, dx:] = fill
    return out


def test_shift_images_is_roll_with_the_wrapped_band_filled():
    x = images(5)
    dy, dx = torch.tensor([0, 2, -3, 1, -1]), torch.tensor([0, -1, 2, 3, -4])
    out = shift_images(x, dy, dx)
    for i in range(5):
        assert torch.equal(out[i], rolled(x[i], int(dy[i]), int(dx[i]), -1.0))
    assert torch.equal(shift_images(x, dy, dx, fill=0.0)[2], rolled(x[2], -3, 2, 0.0))
    # the sign: content moves down and right for positive offsets
    one = torch.full((1, 1, 5, 5), -1.0)
    one[0, 0, 1, 1] = 1.0
    moved = shift_images(one, torch.tensor([2]), torch.tensor([1]))
    assert moved[0, 0, 3, 2] == 1.0 and moved.sum() == -23.0


def test_translate_applies_one_in_range_shift_per_image_and_uses_every_offset():
    x = images(64, c=1, h=16, w=16)  # ratio 1/8 of 16: shifts of -2..2
    out = translate(x, 0.125, generator=torch.Generator().manual_seed(0))
    found = []
    for i in range(64):
        hits = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if torch.equal(out[i], rolled(x[i], dy, dx, -1.0))]
        assert len(hits) == 1, f"image {i} is no single shift of at most 2 pixels"
        found.append(hits[0])
    assert {dy for dy, _ in found} == set(range(-2, 3)) and {dx for _, dx in found} == set(range(-2, 3))
    # repeatable with a seeded generator; the reference's rounding gives 28 * 1/8 = 3.5 -> 4 pixels
    assert torch.equal(out, translate(x, 0.125, generator=torch.Generator().manual_seed(0)))
    big = translate(torch.zeros(200, 1, 28, 28), generator=torch.Generator().manual_seed(0))
    rows_filled = (big[:, 0, :, 14] == -1).sum(1)  # the filled rows in the middle column: |dy|
    assert rows_filled.max() == 4


def test_translate_passes_the_gradient_to_the_pixels_that_stay_in_view():
    x = images(4).requires_grad_(True)
    dy, dx = torch.tensor([1, -2, 0, 3]), torch.tensor([0, 1, -1, 2])
    shift_images(x, dy, dx).sum().backward()
    for i in range(4):
        kept = rolled(torch.ones(2, 8, 8, dtype=torch.float64), -int(dy[i]), -int(dx[i]), 0.0)  # 1 where x[i] stays
        assert torch.equal(x.grad[i], kept)
    assert x.grad.sum() == sum((8 - abs(int(a))) * (8 - abs(int(b))) * 2 for a, b in zip(dy, dx))


def test_cut_squares_blanks_the_expected_box_clipped_at_the_border():
    x = images(3, h=10, w=10)
    out = cut_squares(x, torch.tensor([5, 0, 9]), torch.tensor([5, 9, 2]), 4)
    blank = out == -1.0
    assert blank.flatten(1).sum(1).tolist() == [2 * 16, 2 * 2 * 3, 2 * 3 * 4]  # rows 3-6 x cols 3-6; 0-1 x 7-9; 7-9 x 0-3
    assert blank[0, :, 3:7, 3:7].all() and blank[1, :, 0:2, 7:10].all() and blank[2, :, 7:10, 0:4].all()
    assert torch.equal(out[~blank], x[~blank])  # nothing else changes


def test_cutout_blanks_one_box_per_image_and_the_gradient_flows_only_outside_it():
    x = images(40, c=1, h=8, w=8).requires_grad_(True)  # ratio 1/2: a 4x4 square
    out = cutout(x, 0.5, generator=torch.Generator().manual_seed(0))
    blank = (out == -1.0)[:, 0]
    counts = blank.flatten(1).sum(1)
    for i in range(40):
        rows, cols = blank[i].any(1).nonzero().flatten(), blank[i].any(0).nonzero().flatten()
        # one axis-aligned box: its bounding box is full, and at most 4 on a side
        assert counts[i] == len(rows) * len(cols) and 0 < len(rows) <= 4 and 0 < len(cols) <= 4
        assert rows.tolist() == list(range(rows[0], rows[-1] + 1))
        # clipped only at the border
        assert len(rows) == 4 or rows[0] == 0 or rows[-1] == 7
    assert (counts == 16).any()
    # the centre is uniform over the whole image (0..8 for an even side), so boxes hang over every edge
    tall, wide = blank.any(2).sum(1), blank.any(1).sum(1)
    assert (tall < 4).any() and (wide < 4).any()
    assert blank[:, 0].any() and blank[:, -1].any() and blank[:, :, 0].any() and blank[:, :, -1].any()
    out.sum().backward()
    assert torch.equal(x.grad[:, 0], (~blank).double())


def test_diff_augment_runs_the_policy_in_order_and_p_zero_is_the_identity():
    x = images(8)
    g = lambda: torch.Generator().manual_seed(5)  # noqa: E731
    assert diff_augment(x, p=0.0) is x
    assert torch.equal(diff_augment(x, policy="", generator=g()), x)
    assert torch.equal(diff_augment(x, "translation", generator=g()), translate(x, generator=g()))
    assert torch.equal(diff_augment(x, "cutout", generator=g()), cutout(x, generator=g()))
    gen = g()
    both = cutout(translate(x, generator=gen), generator=gen)
    assert torch.equal(diff_augment(x, "translation,cutout", generator=g()), both)
    assert torch.equal(diff_augment(x, ["translation", "cutout"], generator=g()), both)


def test_diff_augment_with_p_augments_about_that_share_of_the_images():
    x = images(400, c=1, h=8, w=8)
    out = diff_augment(x, "cutout", p=0.25, generator=torch.Generator().manual_seed(0))
    changed = (out != x).flatten(1).any(1).float().mean().item()
    assert 0.18 < changed < 0.32  # a binomial(400, 1/4) share: sd 0.022
    untouched = ~(out != x).flatten(1).any(1)
    assert torch.equal(out[untouched], x[untouched])


def test_overfitting_signal_is_the_mean_sign_of_the_real_logits():
    sig = overfitting_signal(torch.tensor([[2.0, -0.5], [0.1, 3.0]]))
    assert sig.shape == () and sig.dtype == torch.float32 and sig.item() == pytest.approx(0.5)
    assert overfitting_signal(torch.tensor([-1.0, -2.0, 0.0])).item() == pytest.approx(-2 / 3)
    logits = torch.tensor([1.0, 2.0], requires_grad=True)
    assert not overfitting_signal(logits).requires_grad


@pytest.mark.parametrize("call, words", [
    (lambda x: diff_augment(x, "color,translation"), ["'color'", *AUGMENT_POLICIES]),
    (lambda x: diff_augment(x, p=1.5), ["p", "[0, 1]", "1.5"]),
    (lambda x: diff_augment(x, p=-0.1), ["[0, 1]"]),
    (lambda x: translate(x, ratio=0.0), ["ratio", "(0, 1]"]),
    (lambda x: cutout(x, ratio=1.2), ["ratio", "(0, 1]"]),
    (lambda x: cutout(x, fill=-3.0), ["fill", "[-1, 1]"]),
    (lambda x: translate(x[0]), ["(N, C, H, W)", "(2, 8, 8)"]),
    (lambda x: diff_augment(x.long()), ["float", "int64"]),
    (lambda x: diff_augment(x.numpy()), ["torch.Tensor", "ndarray"]),
    (lambda x: shift_images(x, torch.zeros(3, dtype=torch.long), torch.zeros(6, dtype=torch.long)), ["(6,)"]),
    (lambda x: overfitting_signal(torch.zeros(0)), ["non-empty"]),
])
def test_bad_input_gets_one_sentence(call, words):
    with pytest.raises(GanCourseError) as info:
        call(images())
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message
