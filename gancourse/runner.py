"""Execute chapter notebooks headlessly with papermill (what `make course` runs).

Papermill's executor (nbclient) waits for the kernel's messages on asyncio ZeroMQ sockets with no
time limit. Twice, a chapter's ipywidgets ``interact`` cell never returned although the kernel had
finished it and sat idle, which points at a lost wake-up: the reply on the socket, the wait never
woken (the hang has not been reproduced since, so this is the likeliest cause, not a proven one).
The kernel client used here waits in one-second slices instead, so a missed wake-up costs a second,
not the run.

While a chapter runs, ``run_course`` keeps one status line: the code cell it is in, the training run
and its step (from :mod:`gancourse.progress`), and the time the whole course has left, estimated
from the times stored runs took (in each chapter's metadata, and in ``build/run_times.json`` for
this machine's own clean runs).
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from queue import Empty
from typing import Any, Sequence

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from traitlets import Type

from . import progress
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


def execute_chapter(path: Path, output: Path, profile: str, timeout: int | None = 1800, on_cell_start=None) -> None:
    """Run ``path`` with papermill into ``output``, ``PROFILE`` injected, in the notebook's folder.

    ``timeout`` limits each cell (seconds); a failing cell raises papermill's ``PapermillExecutionError``.
    ``on_cell_start(cell=, cell_index=)`` is called as each code cell starts (nbclient's hook).
    """
    import papermill as pm

    hooks = {"on_cell_start": on_cell_start} if on_cell_start else {}
    pm.execute_notebook(
        str(path), str(output), parameters={"PROFILE": profile}, cwd=str(Path(path).parent),
        kernel_name="python3", progress_bar=False, execution_timeout=timeout,
        kernel_manager_class=SlicedPollKernelManager, **hooks,
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


def failure_line(err: Exception) -> str:
    """One line for a chapter that failed: the cell and the error's first line."""
    ename, evalue = getattr(err, "ename", None), getattr(err, "evalue", None)
    if ename:  # papermill's PapermillExecutionError
        first = (str(evalue).strip().splitlines() or [""])[0]
        return f"FAILED in cell [{err.exec_count}]: {ename}: {first}"[:200]
    lines = [l for l in str(err).splitlines() if l.strip()]
    return "FAILED: " + (lines[-1] if lines else type(err).__name__)[:160]


def run_notebook(path: Path, profile: str, out_dir: Path, timeout: int = 1800, on_cell_start=None) -> NotebookRun:
    """Execute one notebook with papermill, ``PROFILE`` injected; never raises on a failing cell."""
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    status = "ok"
    # the kernel's own stderr (start-up warnings) goes to NAME.log, not into the table
    saved = os.dup(2)
    try:
        with open(out_dir / f"{path.stem}.log", "w") as log:
            os.dup2(log.fileno(), 2)
            execute_chapter(path, out_dir / path.name, profile, timeout, on_cell_start)
    except Exception as err:  # report and carry on with the next chapter
        status = failure_line(err)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return NotebookRun(path.name, profile, time.perf_counter() - start, status)


def store_outputs(executed: Path, target: Path, profile: str | None = None, seconds: float | None = None) -> None:
    """Copy an executed notebook's outputs over ``target``, as committed chapters carry them.

    The cell papermill injected is dropped (so the chapter keeps ``PROFILE = "auto"``), papermill's
    metadata is removed, and the copy is refused if any output holds an error or an absolute path.
    With ``profile`` and ``seconds``, the run's time is kept in the metadata for later estimates.
    """
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    if profile and seconds is not None:
        _set_seconds(nb, profile, seconds)
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


TIMES_FILE = "run_times.json"  # in the output folder: this machine's clean runs, {profile: {chapter: s}}


def _set_seconds(nb, profile: str, seconds: float) -> None:
    nb.metadata.setdefault("gancourse", {}).setdefault("run_seconds", {})[profile] = round(float(seconds), 1)


def record_time(path: Path, profile: str, seconds: float) -> None:
    """Keep ``seconds`` as chapter ``path``'s time in ``profile`` in its metadata (outputs untouched)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    _set_seconds(nb, profile, seconds)
    nbformat.write(nb, path)


def estimated_seconds(path: Path, profile: str, local: dict) -> float | None:
    """How long chapter ``path`` should take in ``profile``: this machine's last clean run, else the stored one."""
    if path.stem in local.get(profile, {}):
        return float(local[profile][path.stem])
    try:
        meta = json.loads(Path(path).read_text()).get("metadata", {})
        return float(meta["gancourse"]["run_seconds"][profile])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class StatusLine:
    """Where a course run is, while a chapter runs: its code cell, the training step, the time left.

    On a terminal it is one line redrawn every second; elsewhere (a log, CI) a line every ``every`` s.
    """

    def __init__(self, stream=None, every: float | None = None, clock=time.monotonic):
        self.stream, self.clock = stream or sys.stdout, clock
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = every if every is not None else (1.0 if self.tty else 20.0)
        self.chapter, self.code_cells, self.cell, self.source = "", 0, 0, ""
        self.started, self.estimate, self.after = 0.0, None, None
        self.progress_file: Path | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def begin(self, path: Path, estimate: float | None, after: float | None, progress_file: Path) -> None:
        """A chapter starts; ``estimate`` its expected seconds, ``after`` those of the chapters still to come."""
        nb = json.loads(Path(path).read_text())
        self.chapter, self.started = path.stem, self.clock()
        code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
        self.code_cells = len(code) + 1  # and the cell papermill injects
        self.cell, self.source, self.estimate, self.after = 0, "starting the kernel", estimate, after
        self.progress_file = progress_file
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def on_cell_start(self, cell=None, cell_index=None, **_) -> None:
        """nbclient's hook, called for every cell: a code cell starts, and the last training report is old."""
        if cell.get("cell_type") != "code" or not cell.get("source", "").strip():
            return
        lines = [l.strip() for l in cell["source"].splitlines() if l.strip() and not l.strip().startswith("#")]
        self.cell += 1
        self.source = (lines[0] if lines else "")[:48]
        if self.progress_file is not None:
            self.progress_file.unlink(missing_ok=True)

    def line(self) -> str:
        elapsed = self.clock() - self.started
        where = f"{self.chapter}: cell {self.cell}/{self.code_cells}"
        report = progress.read(self.progress_file) if self.progress_file else None
        if report and report.get("total"):
            done, total = report["done"], report["total"]
            where += f", {report['task']} step {done:,}/{total:,} ({100 * done / total:.0f} %)"
        elif self.source:
            where += f" `{self.source}`"
        left = ""
        if self.estimate is not None and self.after is not None:
            if elapsed <= self.estimate:
                left = f", course ~{_duration(self.estimate - elapsed + self.after)} left"
            else:
                left = f" (over its estimate), then ~{_duration(self.after)} for the rest"
        return f"  {where} | {_duration(elapsed)} in{left}"

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self._write(self.line(), final=False)

    def _write(self, text: str, final: bool) -> None:
        with self._lock:
            if self.tty:
                self.stream.write("\r\033[K" + ("" if final else text[:160]))
            elif not final:
                self.stream.write(text + "\n")
            self.stream.flush()

    def end(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._write("", final=True)


def run_course(
    names: Sequence[str] = (), profile: str = "auto", out_dir: str | Path = "build",
    folder: str | Path = "notebooks", store: bool = False, record_times: bool = False,
    status: StatusLine | None = None,
) -> list[NotebookRun]:
    """Run chapters one after another and print a table: chapter, profile, wall time, status.

    With ``store``, each chapter that ran cleanly gets its outputs (and its time) written back into
    ``folder``; with ``record_times``, only its time. A status line shows progress while each runs.
    """
    profile = resolve_profile(profile)
    os.environ.setdefault("GANCOURSE_OFFLINE", "1")
    notebooks = find_notebooks(names, folder)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    times_file = out_dir / TIMES_FILE
    try:
        local = json.loads(times_file.read_text())
    except (OSError, ValueError):
        local = {}
    estimates = [estimated_seconds(p, profile, local) for p in notebooks]
    status = status or StatusLine()
    progress_file = (out_dir / "progress.json").resolve()  # absolute: papermill runs a chapter from its own folder
    runs: list[NotebookRun] = []
    known = [e for e in estimates if e is not None]
    print(f"{'chapter':<28} {'profile':<8} {'wall time':>10}  status", flush=True)
    if known:
        print(f"(stored runs say about {_duration(sum(known))} for {len(known)} of {len(notebooks)} chapters)", flush=True)
    for i, path in enumerate(notebooks):
        # the stored times, scaled by how this machine has done against them so far
        pairs = [(r.seconds, e) for r, e in zip(runs, estimates) if e and r.status == "ok"]
        speed = sum(a for a, _ in pairs) / sum(e for _, e in pairs) if pairs else 1.0
        mean_done = sum(r.seconds for r in runs) / len(runs) if runs else None
        guess = [e * speed if e is not None else mean_done for e in estimates[i:]]
        complete = all(g is not None for g in guess)
        progress_file.unlink(missing_ok=True)
        os.environ[progress.ENV] = str(progress_file.resolve())
        status.begin(path, guess[0] if complete else None, sum(guess[1:]) if complete else None, progress_file)
        try:
            run = run_notebook(path, profile, out_dir, on_cell_start=status.on_cell_start)
        finally:
            status.end()
            os.environ.pop(progress.ENV, None)
            progress_file.unlink(missing_ok=True)
        runs.append(run)
        if run.status == "ok":
            local.setdefault(profile, {})[path.stem] = round(run.seconds, 1)
            times_file.write_text(json.dumps(local, indent=1, sort_keys=True))
            try:
                if store:
                    store_outputs(out_dir / path.name, path, profile, run.seconds)
                elif record_times:
                    record_time(path, profile, run.seconds)
            except GanCourseError as err:
                run.status = f"FAILED to store: {err}"
        print(f"{run.notebook:<28} {run.profile:<8} {run.seconds:>9.1f}s  {run.status}", flush=True)
    total = sum(r.seconds for r in runs)
    ok = sum(r.status == "ok" for r in runs)
    print(f"{ok}/{len(runs)} chapters ran in {total:.0f} s; executed copies in {out_dir}/")
    return runs
