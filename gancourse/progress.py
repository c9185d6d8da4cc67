"""How far a training run has got, told from a notebook's kernel to ``gancourse run``.

``gancourse run`` executes a chapter in a kernel it cannot look into. It names a file in the
kernel's environment (``GANCOURSE_PROGRESS_FILE``); a training loop calls :func:`report` when it
reads its losses back (every ``log_every`` steps, so no extra host sync), and the runner's status
line reads the file. In a learner's own session the variable is unset and ``report`` does nothing.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

ENV = "GANCOURSE_PROGRESS_FILE"


def report(task: str, done: int, total: int) -> None:
    """Say that ``task`` (a model's name) is at step ``done`` of ``total``; a no-op outside a course run."""
    path = os.environ.get(ENV)
    if not path:
        return
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        Path(tmp).write_text(json.dumps({"task": task, "done": int(done), "total": int(total)}))
        os.replace(tmp, path)  # the reader sees the old report or the new one, never half of one
    except OSError:
        pass  # progress is a courtesy: it never stops a training run


def read(path: str | Path) -> dict | None:
    """The last report in ``path`` (``task``, ``done``, ``total``), or ``None`` when there is none yet."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
