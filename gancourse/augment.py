"""DiffAugment (Zhao et al., 2020): differentiable augmentations for training GANs on little data.

The same random augmentation T is applied to the real *and* the fake images, in the
discriminator's step and in the generator's: D sees T(x) and T(G(z)), and G's gradient
flows back through T. Augmenting only the reals teaches G to produce augmented images.

Every op takes images (N, C, H, W) in [-1, 1], draws its randomness per sample from
``generator`` (a ``torch.Generator``, on any device; the draws move to the images' device),
returns a tensor of the same shape, dtype and device, and is differentiable with respect to
its input. Nothing here reads a value back to the host, so an op costs no device sync.

Filling: the reference code pads and cuts with 0, which in its [-1, 1] data is mid-grey.
Here ``fill`` defaults to -1.0, the course's background (the digits' black), so a shifted
or cut digit is still a digit on its background; ``fill=0.0`` gives the reference's images.

* :func:`translate`: shift by up to ``ratio`` of the side (1/8 in the paper);
  :func:`shift_images` is the same shift with given offsets
* :func:`cutout`: blank one square of ``ratio`` of the side (1/2 in the paper);
  :func:`cut_squares` is the same with given centres
* :func:`diff_augment`: a comma-separated policy of them, each op per sample with probability p
* :func:`overfitting_signal`: ADA's r_t = E[sign D(x)] on real logits (Karras et al., 2020)
"""
from __future__ import annotations

from typing import Sequence

import torch

from .checks import GanCourseError

AUGMENT_POLICIES = ("translation", "cutout")


def _check_batch(x: torch.Tensor, name: str) -> None:
    # check_images also checks the range, which reads the batch back to the host every step;
    # an augmentation runs twice per training step, so it checks type and shape only.
    if not isinstance(x, torch.Tensor):
        raise GanCourseError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 4 or x.shape[0] == 0:
        raise GanCourseError(f"{name}: expected a non-empty batch of shape (N, C, H, W), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise GanCourseError(f"{name}: expected float images in [-1, 1], got dtype {x.dtype}")


def _check_ratio(ratio: float, name: str) -> None:
    if not isinstance(ratio, (int, float)) or not 0 < ratio <= 1:
        raise GanCourseError(f"{name}: ratio must be in (0, 1] (a fraction of the image side), got {ratio!r}")


def _check_fill(fill: float, name: str) -> None:
    if not isinstance(fill, (int, float)) or not -1 <= fill <= 1:
        raise GanCourseError(f"{name}: fill must be a number in [-1, 1] (-1 is the background), got {fill!r}")


def _randint(low: int, high: int, n: int, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """n integers uniform in [low, high], drawn on the generator's device, returned on ``device``."""
    where = generator.device if generator is not None else device
    return torch.randint(low, high + 1, (n,), generator=generator, device=where).to(device)


def _side(size: int, ratio: float) -> int:
    return int(size * ratio + 0.5)  # round half up, as the reference code does


def _per_image_ints(x: torch.Tensor, a, b, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``a`` and ``b`` as integer tensors (N,) on x's device, one value per image; else one clear error."""
    n = x.shape[0]
    a, b = torch.as_tensor(a, device=x.device), torch.as_tensor(b, device=x.device)
    if a.shape != (n,) or b.shape != (n,) or a.is_floating_point() or b.is_floating_point():
        raise GanCourseError(f"{what} must be integer tensors of shape ({n},), got {tuple(a.shape)} and {tuple(b.shape)}")
    return a, b


def shift_images(x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, *, fill: float = -1.0) -> torch.Tensor:
    """Shift image i down by dy[i] and right by dx[i] pixels, filling what comes in with ``fill``.

    ``out[i, :, h, w] = x[i, :, h - dy[i], w - dx[i]]`` where that pixel exists, else ``fill``:
    ``torch.roll`` with the wrapped band filled instead. x (N, C, H, W); dy, dx integer (N,).
    """
    _check_batch(x, "shift_images")
    _check_fill(fill, "shift_images")
    n, c, h, w = x.shape
    dy, dx = _per_image_ints(x, dy, dx, "shift_images: dy and dx")
    src_h = torch.arange(h, device=x.device) - dy[:, None]  # (N, H): the row each output row reads
    src_w = torch.arange(w, device=x.device) - dx[:, None]  # (N, W)
    inside = ((src_h >= 0) & (src_h < h))[:, :, None] & ((src_w >= 0) & (src_w < w))[:, None, :]  # (N, H, W)
    rows = src_h.clamp(0, h - 1)[:, None, :, None].expand(n, c, h, w)
    out = x.gather(2, rows)
    cols = src_w.clamp(0, w - 1)[:, None, None, :].expand(n, c, h, w)
    out = out.gather(3, cols)
    return out.masked_fill(~inside[:, None], fill)


def translate(x: torch.Tensor, ratio: float = 0.125, generator: torch.Generator | None = None,
              *, fill: float = -1.0) -> torch.Tensor:
    """Shift each image by its own random integer offset, up to round(ratio·H) rows and round(ratio·W) columns.

    Offsets are uniform in [-s, s] with s = int(ratio·side + 0.5) (the reference's rounding:
    ±4 pixels on 28×28 at ratio 1/8), independently per image and per axis; see
    :func:`shift_images` for the sign and the filling. x (N, C, H, W) in [-1, 1]; same shape out.
    """
    _check_batch(x, "translate")
    _check_ratio(ratio, "translate")
    n, _, h, w = x.shape
    sh, sw = _side(h, ratio), _side(w, ratio)
    dy = _randint(-sh, sh, n, generator, x.device)
    dx = _randint(-sw, sw, n, generator, x.device)
    return shift_images(x, dy, dx, fill=fill)


def cut_squares(x: torch.Tensor, cy: torch.Tensor, cx: torch.Tensor, side: int | tuple[int, int],
                *, fill: float = -1.0) -> torch.Tensor:
    """Set a box of ``side`` (an int, or (height, width)) centred at (cy[i], cx[i]) of image i to ``fill``.

    The box covers rows cy − s//2 … cy − s//2 + s − 1 (columns likewise) clipped at the border,
    so near the edge it blanks fewer than s² pixels. x (N, C, H, W); cy, cx integer (N,).
    The gradient is zero on the box and passes unchanged everywhere else.
    """
    _check_batch(x, "cut_squares")
    _check_fill(fill, "cut_squares")
    n, _, h, w = x.shape
    cy, cx = _per_image_ints(x, cy, cx, "cut_squares: cy and cx")
    sh, sw = (side, side) if isinstance(side, int) else tuple(side)
    if not all(isinstance(s, int) and s >= 0 for s in (sh, sw)):
        raise GanCourseError(f"cut_squares: side must be a non-negative int or a pair of them, got {side!r}")
    top, left = (cy - sh // 2)[:, None], (cx - sw // 2)[:, None]
    rows = torch.arange(h, device=x.device)
    cols = torch.arange(w, device=x.device)
    in_rows = (rows >= top) & (rows < top + sh)  # (N, H)
    in_cols = (cols >= left) & (cols < left + sw)  # (N, W)
    return x.masked_fill((in_rows[:, :, None] & in_cols[:, None, :])[:, None], fill)


def cutout(x: torch.Tensor, ratio: float = 0.5, generator: torch.Generator | None = None,
           *, fill: float = -1.0) -> torch.Tensor:
    """Blank one square of side s = int(ratio·H + 0.5) per image at a random centre (14×14 on 28×28 at ½).

    As in the reference code the centre is uniform over rows 0 … H − 1 (0 … H for an even s)
    and columns likewise, so a square near the border is clipped; see :func:`cut_squares`.
    Non-square images get an s_h×s_w box. x (N, C, H, W) in [-1, 1]; same shape out.
    """
    _check_batch(x, "cutout")
    _check_ratio(ratio, "cutout")
    n, _, h, w = x.shape
    sh, sw = _side(h, ratio), _side(w, ratio)
    cy = _randint(0, h - sh % 2, n, generator, x.device)
    cx = _randint(0, w - sw % 2, n, generator, x.device)
    return cut_squares(x, cy, cx, (sh, sw), fill=fill)


def _parse_policy(policy: str | Sequence[str]) -> list[str]:
    if isinstance(policy, str):
        names = [p.strip() for p in policy.split(",") if p.strip()]
    elif isinstance(policy, (list, tuple)) and all(isinstance(p, str) for p in policy):
        names = list(policy)
    else:
        raise GanCourseError(f"diff_augment: policy must be a string such as 'translation,cutout', got {type(policy).__name__}")
    for name in names:
        if name not in AUGMENT_POLICIES:
            raise GanCourseError(f"diff_augment: unknown augmentation {name!r}; choose from: {', '.join(AUGMENT_POLICIES)}")
    return names


def diff_augment(x: torch.Tensor, policy: str | Sequence[str] = "translation,cutout", p: float = 1.0,
                 generator: torch.Generator | None = None, *, translation_ratio: float = 0.125,
                 cutout_ratio: float = 0.5, fill: float = -1.0) -> torch.Tensor:
    """Apply the ops named in ``policy`` in order, each to each image independently with probability ``p``.

    ``policy``: comma-separated names from ``AUGMENT_POLICIES`` ("" applies nothing). ``p`` in
    [0, 1]: 1 is DiffAugment (every image, every op), below 1 is ADA's per-sample probability;
    p = 0 returns x itself. With p = 1 no coin is drawn, so one op with the same seeded
    ``generator`` gives exactly :func:`translate`'s or :func:`cutout`'s result.
    Call it on the reals and on the fakes, in D's step and in G's. x (N, C, H, W) in [-1, 1].
    """
    _check_batch(x, "diff_augment")
    names = _parse_policy(policy)
    if not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise GanCourseError(f"diff_augment: p is a probability and must be in [0, 1], got {p!r}")
    _check_ratio(translation_ratio, "diff_augment (translation)")
    _check_ratio(cutout_ratio, "diff_augment (cutout)")
    _check_fill(fill, "diff_augment")
    if p == 0:
        return x
    for name in names:
        if name == "translation":
            y = translate(x, translation_ratio, generator, fill=fill)
        else:
            y = cutout(x, cutout_ratio, generator, fill=fill)
        if p < 1:
            where = generator.device if generator is not None else x.device
            coin = (torch.rand(x.shape[0], generator=generator, device=where) < p).to(x.device)
            y = torch.where(coin[:, None, None, None], y, x)
        x = y
    return x


def overfitting_signal(real_logits: torch.Tensor) -> torch.Tensor:
    """ADA's overfitting heuristic r_t = E[sign D(x)] over real logits of any shape: a float scalar tensor in [-1, 1].

    Near 0, D's outputs on the reals straddle its decision boundary, as they do on images it has
    never seen; near 1, D calls every training image real: it has memorised them. ADA raises p
    while r_t > 0.6 and lowers it below (Karras et al., 2020). Detached: a signal, not a loss.
    """
    if not isinstance(real_logits, torch.Tensor) or real_logits.numel() == 0:
        raise GanCourseError("overfitting_signal: expected a non-empty tensor of D's logits on real images")
    return torch.sign(real_logits.detach()).float().mean()
