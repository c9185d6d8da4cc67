"""Checkpoints that are written atomically and read back with a clear error.

A checkpoint is a dict saved with ``torch.save``; it is first written to a temporary
file beside the target, flushed to disk (fsync) and then renamed over it, so a crash
or a ``kill -9`` at any moment (or a diverged run, which never saves) leaves either the
previous checkpoint or the new one, never a partial file. Reading uses
``weights_only=True``: a checkpoint cannot run code.

:func:`global_rng_state` and :func:`set_global_rng_state` carry the random number
generators of Python, NumPy and torch through a checkpoint, for resumes that are exact.
"""
from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .checks import CheckpointError

FORMAT = "gancourse-checkpoint"
VERSION = 1


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` (plus format tags) to ``path`` atomically; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")  # same folder: the rename below cannot cross file systems
    try:
        with open(tmp, "wb") as f:
            torch.save({"format": FORMAT, "version": VERSION, **state}, f)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.replace(tmp, path)
    except BaseException:  # a full disk, or a second Ctrl-C mid-write: the previous checkpoint stays
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    return path


def _fsync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Raises:
        CheckpointError: if the file is missing, truncated, corrupt or not a gancourse checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}; {_how_to_train(path.parent)}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:
        raise CheckpointError(
            f"{path} is not a readable checkpoint (truncated or corrupt: {type(err).__name__}); "
            "restore a copy or train again into a new folder"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a torch file but not a gancourse checkpoint; point at a folder made by `gancourse train`")
    if state.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {state.get('version')}, this gancourse reads version {VERSION}")
    return state


def _how_to_train(folder: Path) -> str:
    """A command that puts a checkpoint into ``folder``: resume its run, or train one."""
    try:
        model = json.loads((folder / "run.json").read_text())["model"]
    except (OSError, ValueError, KeyError, TypeError):
        return f"train first with `gancourse train MODEL --out {folder}` (MODEL: see `gancourse train --help`)"
    return f"its run stopped before its first checkpoint: continue it with `gancourse train {model} --out {folder} --resume`"


def global_rng_state() -> dict[str, Any]:
    """The global random states of Python, NumPy and torch (and CUDA, where present), loadable with ``weights_only``."""
    name, keys, position, has_gauss, cached_gauss = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": (name, torch.from_numpy(keys.astype(np.int64)), int(position), int(has_gauss), float(cached_gauss)),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_global_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`global_rng_state` returned (keys it lacks are left alone: older checkpoints)."""
    if "python" in state:
        version, internal, gauss_next = state["python"]
        random.setstate((version, tuple(internal), gauss_next))
    if "numpy" in state:
        name, keys, position, has_gauss, cached_gauss = state["numpy"]
        np.random.set_state((name, keys.numpy().astype(np.uint32), position, has_gauss, cached_gauss))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available() and torch.cuda.device_count() == len(state["cuda"]):
        torch.cuda.set_rng_state_all(state["cuda"])
