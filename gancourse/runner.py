"""Execute chapter notebooks headlessly with papermill (what `make course` runs).

Papermill's executor (nbclient) waits for the kernel's messages on asyncio ZeroMQ sockets with no
time limit. Twice, a chapter's ipywidgets ``interact`` cell never returned although the kernel had
finished it and sat idle, which points at a lost wake-up: the reply on the socket, the wait never
woken (the hang has not been reproduced since, so this is the likeliest cause, not a proven one).
The kernel client used here waits in one-second slices instead, so a missed wake-up costs a second,
not the run.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from queue import Empty
from typing import Any, Sequence

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from traitlets import Type

from .checks import GanCourseError
from .profiles import resolve_profile

POLL_SLICE = 1.0  # seconds a wait for a kernel message lasts before the socket is asked again


class SlicedPollChannel(AsyncZMQSocketChannel):
    """A kernel channel whose ``get_msg`` re-polls every ``POLL_SLICE`` s (same timeout semantics)."""

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_SLICE if deadline is None else max(0.0, min(POLL_SLICE, deadline - time.monotonic()))
            try:
                return await super().get_msg(timeout=left)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise


class SlicedPollKernelClient(AsyncKernelClient):
    shell_channel_class = Type(SlicedPollChannel)
    iopub_channel_class = Type(SlicedPollChannel)


class SlicedPollKernelManager(AsyncKernelManager):
    """The kernel manager papermill is given: its clients wait in slices (see the module docstring)."""

    client_class = "gancourse.runner.SlicedPollKernelClient"
    client_factory = Type(SlicedPollKernelClient)


def execute_chapter(path: Path, output: Path, profile: str, timeout: int | None = 1800) -> None:
    """Run ``path`` with papermill into ``output``, ``PROFILE`` injected, in the notebook's folder.

    ``timeout`` limits each cell (seconds); a failing cell raises papermill's ``PapermillExecutionError``.
    """
    import papermill as pm

    pm.execute_notebook(
        str(path), str(output), parameters={"PROFILE": profile}, cwd=str(Path(path).parent),
        kernel_name="python3", progress_bar=False, execution_timeout=timeout,
        kernel_manager_class=SlicedPollKernelManager,
    )


@dataclass
class NotebookRun:
    notebook: str
    profile: str
    seconds: float
    status: str  # "ok" or the first line of the error


def find_notebooks(names: Sequence[str] = (), folder: str | Path = "notebooks") -> list[Path]:
    """The chapter notebooks to run: ``names`` (paths or stems), else every ``folder/*.ipynb``."""
    folder = Path(folder)
    if not names:
        found = sorted(folder.glob("[0-9]*.ipynb"))
        if not found:
            raise GanCourseError(f"no chapter notebooks in {folder.resolve()}; run from the course's folder")
        return found
    paths = []
    for name in names:
        p = Path(name)
        candidates = [p, folder / p, folder / f"{p}.ipynb"] + sorted(folder.glob(f"{p}*.ipynb"))
        hit = next((c for c in candidates if c.is_file()), None)
        if hit is None:
            raise GanCourseError(f"no notebook {name!r} (looked in {folder})")
        paths.append(hit)
    return paths


def run_notebook(path: Path, profile: str, out_dir: Path, timeout: int = 1800) -> NotebookRun:
    """Execute one notebook with papermill, ``PROFILE`` injected; never raises on a failing cell."""
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    status = "ok"
    # the kernel's own stderr (start-up warnings) goes to NAME.log, not into the table
    saved = os.dup(2)
    try:
        with open(out_dir / f"{path.stem}.log", "w") as log:
            os.dup2(log.fileno(), 2)
            execute_chapter(path, out_dir / path.name, profile, timeout)
    except Exception as err:  # report and carry on with the next chapter
        lines = [l for l in str(err).splitlines() if l.strip()]
        status = "FAILED: " + (lines[-1] if lines else type(err).__name__)[:160]
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return NotebookRun(path.name, profile, time.perf_counter() - start, status)


def store_outputs(executed: Path, target: Path) -> None:
    """Copy an executed notebook's outputs over ``target``, as committed chapters carry them.

    The cell papermill injected is dropped (so the chapter keeps ``PROFILE = "auto"``), papermill's
    metadata is removed, and the copy is refused if any output holds an error or an absolute path.
    """
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                raise GanCourseError(f"{executed}: a cell failed; not storing its outputs")
    text = nbformat.writes(nb)
    for marker in (str(Path.home()), str(Path.cwd().resolve()), "/tmp/", "site-packages"):
        if marker and marker != "/" and marker in text:
            raise GanCourseError(f"{executed}: outputs mention {marker!r}; hide that path before storing")
    target.write_text(text)


def run_course(
    names: Sequence[str] = (), profile: str = "auto", out_dir: str | Path = "build",
    folder: str | Path = "notebooks", store: bool = False,
) -> list[NotebookRun]:
    """Run chapters one after another and print a table: chapter, profile, wall time, status.

    With ``store``, each chapter that ran cleanly gets its outputs written back into ``folder``.
    """
    profile = resolve_profile(profile)
    os.environ.setdefault("GANCOURSE_OFFLINE", "1")
    notebooks = find_notebooks(names, folder)
    runs = []
    print(f"{'chapter':<28} {'profile':<8} {'wall time':>10}  status", flush=True)
    for path in notebooks:
        run = run_notebook(path, profile, Path(out_dir))
        runs.append(run)
        if store and run.status == "ok":
            try:
                store_outputs(Path(out_dir) / path.name, path)
            except GanCourseError as err:
                run.status = f"FAILED to store: {err}"
        print(f"{run.notebook:<28} {run.profile:<8} {run.seconds:>9.1f}s  {run.status}", flush=True)
    total = sum(r.seconds for r in runs)
    ok = sum(r.status == "ok" for r in runs)
    print(f"{ok}/{len(runs)} chapters ran in {total:.0f} s; executed copies in {Path(out_dir)}/")
    return runs
