"""Shared test set-up: offline, quiet, and a table of notebook times at the end."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # the test process draws nothing on screen (kernels keep their inline backend)
os.environ["GANCOURSE_OFFLINE"] = "1"  # tests never touch the network
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pytest  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_TIMES: dict[str, float] = {}


# A shell starts background jobs (`make test &`, nohup) with SIGINT ignored, and the trainer rightly leaves an ignored
# SIGINT alone; the signal tests need Python's own handler, so the suite restores it.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def pytest_terminal_summary(terminalreporter):
    from test_notebooks import HANGS

    if HANGS:
        terminalreporter.section("notebook runs that hung and were repeated (a bug to fix)")
        for line in HANGS:
            terminalreporter.write_line(line)
    if NOTEBOOK_TIMES:
        terminalreporter.section("notebook times (smoke profile, papermill)")
        for name, seconds in sorted(NOTEBOOK_TIMES.items()):
            terminalreporter.write_line(f"{name:<30} {seconds:6.1f} s")
