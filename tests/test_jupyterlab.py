"""A chapter as a learner meets it: JupyterLab in headless Chromium, Run All, then a slider moved.

Papermill and nbval run the chapters without a front end; this test runs one through JupyterLab's
own UI (smoke profile), so what only a browser shows — a widget that fails to render, a cell left
unrun, an interact that never redraws — fails a test too. Needs playwright (the ``.[site]`` extra,
which ``make site`` installs) and Debian's ``chromium``; skipped with the reason where either is
missing.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright missing: `make site` installs the .[site] extra")
pytestmark = [pytest.mark.notebook,
              pytest.mark.skipif(CHROMIUM is None, reason="no chromium: apt-get install chromium (CI does)")]

# code cells in the DOM, their prompts, the error outputs (tracebacks), rendered widgets and figures
# the notebook in view only: JupyterLab may keep other notebooks open in hidden tabs
VISIBLE_NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"
PAGE_STATE = r"""() => {
  const NB = '""" + VISIBLE_NOTEBOOK + r"""';
  const q = s => [...document.querySelectorAll(s)];
  const prompts = q(NB + ' .jp-CodeCell .jp-InputPrompt').map(p => p.textContent.trim());
  return {
    cells: prompts.length,
    busy: prompts.filter(p => p.includes('*')).length,
    unrun: prompts.filter(p => /^\[\s*\]:?$/.test(p)).length,
    errors: q(NB + ' .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
      .map(o => o.innerText).filter(t => /Traceback|Error:|^-{20,}/m.test(t)).map(t => t.slice(-300)),
    widgets: q(NB + ' .jupyter-widgets').length,
    broken_widgets: q(NB + ' .jupyter-widgets').filter(w => /Error displaying widget|Failed to load model/.test(w.innerText)).length,
    sliders: q(NB + ' .widget-slider').length,
    // what a moved slider should change: figures, and text inside ipywidgets Output areas
    outputs: [...q(NB + ' .jp-OutputArea img').map(i => i.src.length + ':' + i.src.slice(-64)),
              ...q(NB + ' .widget-output').map(o => o.innerText)],
  };
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kernels(base: str, token: str) -> list[dict]:
    req = urllib.request.Request(f"{base}/api/kernels", headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def _until(condition, limit: float, every: float = 0.5, calm: int = 1) -> bool:
    """Poll ``condition`` until it held ``calm`` times in a row; False after ``limit`` s (a hang, not a verdict on speed)."""
    end, streak = time.monotonic() + limit, 0
    while time.monotonic() < end:
        try:
            streak = streak + 1 if condition() else 0
        except OSError:
            streak = 0
        if streak >= calm:
            return True
        time.sleep(every)
    return False


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a copy of notebooks/, on 127.0.0.1 with a random token; (base URL, token)."""
    tmp = tmp_path_factory.mktemp("lab")
    work = tmp / "notebooks"
    shutil.copytree(ROOT / "notebooks", work)
    settings = tmp / "settings" / "@jupyterlab"
    for name, value in {"notebook-extension/tracker": {"windowingMode": "none"},  # every cell stays in the DOM
                        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False}}.items():
        (settings / f"{name}.jupyterlab-settings").parent.mkdir(parents=True, exist_ok=True)
        (settings / f"{name}.jupyterlab-settings").write_text(json.dumps(value))
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "GANCOURSE_PROFILE": "smoke", "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"), "JUPYTER_RUNTIME_DIR": str(tmp / "runtime")}
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp / "jupyterlab.log", "w")
    server = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        assert _until(lambda: server.poll() is None and _kernels(base, token) is not None, 120), \
            "JupyterLab did not start: " + (tmp / "jupyterlab.log").read_text()[-2000:]
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.mark.parametrize("name", ["01_minimax", "04_cgan"])
def test_run_all_in_jupyterlab_then_move_a_slider(lab, name, tmp_path):
    base, token = lab
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        try:
            page.goto(f"{base}/lab/workspaces/{name}/tree/{name}.ipynb?reset&token={token}")  # a fresh workspace per chapter
            page.wait_for_selector(VISIBLE_NOTEBOOK + " .jp-CodeCell", timeout=120_000)
            assert _until(lambda: any(k["execution_state"] == "idle" for k in _kernels(base, token)), 120, calm=2)
            page.locator(".lm-MenuBar-itemLabel").filter(has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(r"^Run All Cells$")).click()
            state = lambda: page.evaluate(PAGE_STATE)
            # Run All queues every cell ([*]); it has ended when none is queued and the kernel is idle
            # (after an error the queued cells go back to [ ], which the asserts below report)
            done = _until(lambda: state()["busy"] == 0
                          and all(k["execution_state"] == "idle" for k in _kernels(base, token)), 600, calm=4)
            before = state()
            page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
            assert done, f"Run All did not finish: {before['busy']} cells busy, {before['unrun']} not run"
            assert before["errors"] == [], before["errors"]
            assert before["cells"] > 5 and before["unrun"] == 0
            assert before["widgets"] > 0 and before["broken_widgets"] == 0
            assert before["sliders"] > 0, "the chapter's slider did not render"
            slider = page.locator(VISIBLE_NOTEBOOK + " .widget-slider").first
            slider.scroll_into_view_if_needed()
            readout = slider.locator(".widget-readout").first
            value = readout.inner_text()
            handle = slider.locator(".noUi-handle").first
            handle.click()
            for _ in range(3):
                handle.press("ArrowRight")
            if readout.inner_text() == value:  # keys ignored: drag the handle instead
                box = handle.bounding_box()
                x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
                page.mouse.move(x, y)
                page.mouse.down()
                page.mouse.move(x + 120, y, steps=10)
                page.mouse.up()
            assert _until(lambda: readout.inner_text() != value, 10), "the slider did not move"
            redrawn = _until(lambda: state()["outputs"] != before["outputs"]
                             and all(k["execution_state"] == "idle" for k in _kernels(base, token)), 60, calm=2)
            assert redrawn, "moving the slider did not redraw its figure"
            assert state()["errors"] == []
        finally:
            browser.close()
