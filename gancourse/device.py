"""Where tensors live, and seeds that make CPU runs repeatable."""
from __future__ import annotations

import os
import random

import numpy as np
import torch

from .checks import GanCourseError


def get_device(name: str | None = None) -> torch.device:
    """The device to compute on.

    ``GANCOURSE_DEVICE`` (or ``name``) overrides; otherwise CUDA when present,
    then Apple's MPS, else the CPU.
    """
    name = name or os.environ.get("GANCOURSE_DEVICE") or ""
    if name:
        try:
            device = torch.device(name)
        except RuntimeError as err:
            raise GanCourseError(f"GANCOURSE_DEVICE={name!r} is not a device name (try 'cpu' or 'cuda')") from err
        if device.type == "cuda" and not torch.cuda.is_available():
            raise GanCourseError(f"device {name!r} was asked for, but this machine has no CUDA GPU; use 'cpu'")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a CPU ``torch.Generator`` seeded the same."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
