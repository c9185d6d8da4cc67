"""Attacks on `gancourse grade`, one notebook each, graded in the bubblewrap sandbox (issue #14).

Each attack is a student version of ex01 (or ex06) with every answer left as `...` and one or
more cells added. Every test asserts 0 marks and nothing left behind: no file outside the
sandbox's private folders, no process alive after the batch, no hidden test on disk or in the
feedback, the memory request refused. An attack reports what it managed through the type its
answer returns (None: nothing; a str: it got through), which the feedback of the public test names.

Skipped where no sandbox can be made (no bwrap: a learner's machine); CI installs bubblewrap.
"""
from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import ROOT
from gancourse.grading.sandbox import UNSAFE_FLAG, unavailable
from test_grading import hidden_tests, read_scores, solutions, submission, write

NO_SANDBOX = unavailable()
needs_bwrap = pytest.mark.skipif(NO_SANDBOX is not None, reason=f"needs bubblewrap: {NO_SANDBOX}")
MARK = f"gancourse-attack-{uuid.uuid4().hex[:12]}"  # in every file an attack writes and every process it starts

READ_MASTER = '''
import json, os, gancourse
from pathlib import Path

def _masters():
    yield Path(gancourse.__file__).resolve().parents[1] / "instructor" / "ex01.ipynb"
    for root, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "usr")]
        yield from (Path(root, f) for f in files if f.endswith(".ipynb"))

for _path in _masters():
    try:
        _cells = ["".join(c["source"]) for c in json.loads(_path.read_text())["cells"] if c["cell_type"] == "code"]
    except (OSError, ValueError, KeyError):
        continue
    if any("BEGIN SOLUTION" in c for c in _cells):
        for _src in _cells:
            if "BEGIN SOLUTION" in _src:
                exec(_src, globals())
        break
'''

WALK_FRAMES = '''
import gc, os, sys, types

def _leak():
    seen, f = [], sys._getframe(1)
    while f is not None:
        seen.append(f"{f.f_code.co_name} {f.f_code.co_consts!r} {f.f_code.co_names!r} {sorted(f.f_locals)!r}")
        for v in f.f_locals.values():
            seen.append(repr(v)[:5000])
        f = f.f_back
    seen += [f"{o.__name__} {o.__code__.co_consts!r}" for o in gc.get_objects()
             if isinstance(o, types.FunctionType) and o.__name__.startswith("test_")]
    text = "@MARK@\\n" + "\\n".join(seen)
    for d in ("/tmp", os.path.expanduser("~"), os.getcwd(), "/", "/root", "/work", "@ROOT@", "@ROOT@/instructor"):
        try:
            with open(os.path.join(d, "@MARK@-tests.txt"), "a") as out:
                out.write(text)
        except OSError:
            pass
    return text

def optimal_discriminator(p_data, p_g):
    return "saw the test" if "test_dstar" in _leak() else None

def value_function(d, p_data, p_g):
    raise RuntimeError(_leak()[:3000])  # the test's code out through the error message

def js_divergence(p, q):
    return type("leak_" + str(abs(hash(_leak()))), (), {})()  # ... or through a type's name
'''.replace("@MARK@", MARK).replace("@ROOT@", str(ROOT))

DETACH = f'''
import os, subprocess, sys, time
_sleeper = [sys.executable, "-c", "import time; time.sleep(600)", "{MARK}"]
_p = subprocess.Popen(_sleeper, start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:  # and the classic double fork, in a session of its own
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, _sleeper)
    os._exit(0)
time.sleep(0.5)
_alive = _p.poll() is None

def optimal_discriminator(p_data, p_g):
    return "started" if _alive else None
'''

ALLOCATE = '''
import mmap
import numpy as np
_granted = []
for _what, _make in (("bytearray", lambda: bytearray(6 << 30)), ("numpy", lambda: np.ones(6 << 30, dtype=np.uint8)),
                     ("mmap", lambda: mmap.mmap(-1, 6 << 30))):
    try:
        _block = _make()
        _granted.append(_what)
        del _block
    except (MemoryError, OSError, ValueError):
        pass

def optimal_discriminator(p_data, p_g):
    return ",".join(_granted) or None
'''

FORK_AND_FILL = '''
import os, time
_refused = False
try:
    for _ in range(2000):
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
except OSError:
    _refused = True
_written = True
try:
    with open("big.bin", "wb") as out:
        out.write(b"0" * (200 << 20))
except OSError:
    _written = False

def optimal_discriminator(p_data, p_g):
    return None if _refused else "forked without limit"

def value_function(d, p_data, p_g):
    return "wrote 200 MB" if _written else None
'''

FORGE = '''
import json, os
_label = "D* for p_data = [0.75, 0.25], p_g = [0.25, 0.75]"
_lines = [json.dumps({"event": "probe", "test": "q1/test_dstar_two_points", "label": _label,
                      "value": {"shape": [2], "values": []}, "expected": None, "atol": 1e9, "rtol": 1e9}),
          json.dumps({"event": "probe", "test": "q2/test_value_random", "label": "V on random inputs (0)",
                      "value": {"shape": [], "values": ["x"]}, "expected": None, "atol": 1e9, "rtol": 1e9}),
          json.dumps({"event": "test", "test": "q3/test_jsd_random", "error": None, "missing": "everything"}),
          "[" * 100000, "not json", json.dumps({"event": "cells"}), json.dumps(["event"])]
for _fd in range(3, 40):
    try:
        os.write(_fd, ("\\n".join(_lines) + "\\n").encode())
    except OSError:
        pass
'''

PACKAGE_DIRECT = "from gancourse.theory import optimal_discriminator, value_function, js_divergence"
PACKAGE_IMPORTLIB = '''
import importlib
_theory = importlib.import_module("gancourse.theory")
optimal_discriminator, value_function, js_divergence = _theory.optimal_discriminator, _theory.value_function, _theory.js_divergence
'''
PACKAGE_DUNDER = '''
_theory = __import__("".join(["gan", "course"]), fromlist=["x"])
_theory = __import__(_theory.__name__ + "." + "yroeht"[::-1], fromlist=["x"])
optimal_discriminator = getattr(_theory, "optimal_" + "discriminator")
value_function = getattr(_theory, "value_" + "function")
js_divergence = getattr(_theory, "js_" + "divergence")
'''
PACKAGE_FILE = '''
import gancourse, importlib, pathlib
_file = pathlib.Path(gancourse.__file__).parent / ("the" + "ory.py")
_ns = {"__name__": "copied"}
exec(compile(_file.read_text(), "copied", "exec"), _ns)
optimal_discriminator, value_function, js_divergence = _ns["optimal_discriminator"], _ns["value_function"], _ns["js_divergence"]
'''
HELPER = "from gancourse.checks import check_probability_vector\n"


def _grade(folder: Path, tmp: Path, *flags: str) -> tuple[dict, Path, str]:
    """`gancourse grade` in a subprocess whose TMPDIR is ``tmp``: (scores, feedback folder, stdout)."""
    out = folder.parent / "out"
    env = {**os.environ, "TMPDIR": str(tmp), "GANCOURSE_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "gancourse", "grade", str(folder), "--out", str(out / "scores.csv"),
                           "--timeout", "40", *flags], capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return read_scores(out / "scores.csv"), out / "feedback", proc.stdout


def _with_answers(*cells: str, answers: dict | None = None):
    return submission("ex01", answers, extra=list(cells))


@pytest.fixture(scope="module")
def attacks(tmp_path_factory):
    """One batch of ex01 attacks, graded in the sandbox; started at, scores, feedback folder, grader's TMPDIR."""
    base = tmp_path_factory.mktemp("attacks")
    subs, tmp = base / "submissions", base / "tmp"
    tmp.mkdir()
    sol = solutions("ex01")
    with_helper = dict(sol, optimal_discriminator=HELPER + sol["optimal_discriminator"].replace(
        "    p_data = np.asarray", "    check_probability_vector(np.asarray(p_data, dtype=float), 'p_data')\n    p_data = np.asarray"))
    notebooks = {
        "a_solution": submission("ex01", sol), "b_helper_allowed": submission("ex01", with_helper),
        "reads_master": _with_answers(READ_MASTER), "walks_frames": _with_answers(WALK_FRAMES),
        "detaches": _with_answers(DETACH), "allocates_6gib": _with_answers(ALLOCATE),
        "forks_and_fills": _with_answers(FORK_AND_FILL), "forges_reports": _with_answers(FORGE),
        "package_import": _with_answers(PACKAGE_DIRECT), "package_importlib": _with_answers(PACKAGE_IMPORTLIB),
        "package_dunder_import": _with_answers(PACKAGE_DUNDER), "package_file": _with_answers(PACKAGE_FILE),
    }
    for student, nb in notebooks.items():
        write(subs, student, nb)
    started = time.time()
    scores, feedback, stdout = _grade(subs, tmp)
    print(stdout)
    return started, scores, feedback, tmp


def _feedback(attacks, student: str) -> str:
    return (attacks[2] / f"{student}.txt").read_text()


def _processes_with(marker: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            pass
    return found


def _files_with(texts: list[str], tops: list[Path], since: float, skip: Path | None = None) -> list[Path]:
    """Files under ``tops`` modified since ``since`` that hold any of ``texts`` (not under ``skip``)."""
    found = []
    for top in tops:
        for root, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if d not in (".git", ".venv", "proc", "sys") and Path(root, d) != skip]
            for f in files:
                path = Path(root, f)
                try:
                    if path.stat().st_mtime >= since - 1 and path.stat().st_size < 50 << 20:
                        data = path.read_bytes()
                        if any(t.encode() in data for t in texts):
                            found.append(path)
                except OSError:
                    pass
    return found


def _nothing_left(attacks) -> None:
    started, _, _, tmp = attacks
    assert list(tmp.iterdir()) == [], f"the grader left {list(tmp.iterdir())} in its temporary folder"
    assert _processes_with(MARK) == [], "a process the submission started outlived grading"
    hidden = [re.search(r"def (\w+)", src).group(1) for src in hidden_tests("ex01")]
    subs = tmp.parent / "submissions"  # the attacks' own notebooks, written just before grading, hold MARK by design
    assert _files_with([MARK, *hidden], [tmp.parent], started, skip=subs) == []  # this batch's folders, the grader's TMPDIR
    # elsewhere (shared with other users' runs) only what the attacks wrote, which starts with MARK
    assert _files_with([MARK], [Path("/tmp"), Path.home(), ROOT], started, skip=subs) == []


@needs_bwrap
def test_control_solution_full_marks_and_package_helpers_stay_usable(attacks):
    scores = attacks[1]
    assert scores["a_solution"] == scores["(possible)"]
    assert scores["b_helper_allowed"] == scores["(possible)"]
    rows = list(csv.DictReader((attacks[2].parent / "scores.csv").open()))
    assert {r["sandbox"] for r in rows if r["student"] != "(possible)"} == {"bwrap"}


@needs_bwrap
def test_the_masters_are_nowhere_in_the_sandbox(attacks):
    assert attacks[1]["reads_master"]["total"] == 0
    _nothing_left(attacks)


@needs_bwrap
def test_walking_frames_to_the_tests_leaves_nothing_behind(attacks):
    assert attacks[1]["walks_frames"]["total"] == 0
    feedback = _feedback(attacks, "walks_frames")
    assert "got a str" in feedback, "the attack should have seen the test calling it (and kept nothing)"
    assert MARK not in feedback and "co_consts" not in feedback
    hidden_sources = [line.strip() for src in hidden_tests("ex01") for line in src.splitlines()[2:] if len(line.strip()) > 30]
    assert not any(line in feedback for line in hidden_sources)
    _nothing_left(attacks)


@needs_bwrap
def test_no_process_outlives_the_sandbox(attacks):
    assert attacks[1]["detaches"]["total"] == 0
    assert "got a str" in _feedback(attacks, "detaches"), "the detached processes should have started"
    _nothing_left(attacks)


@needs_bwrap
def test_a_6_gib_allocation_is_refused(attacks):
    assert attacks[1]["allocates_6gib"]["total"] == 0
    feedback = _feedback(attacks, "allocates_6gib")
    assert "D* for p_data = [0.75, 0.25], p_g = [0.25, 0.75]: got None" in feedback, feedback
    _nothing_left(attacks)


@needs_bwrap
def test_processes_and_file_size_are_limited(attacks):
    assert attacks[1]["forks_and_fills"]["total"] == 0
    feedback = _feedback(attacks, "forks_and_fills")
    assert "D* for p_data = [0.75, 0.25], p_g = [0.25, 0.75]: got None" in feedback, "fork() should have been refused"
    assert "V with d = 1/2 everywhere: got None" in feedback, "a 200 MB file should have been refused"
    _nothing_left(attacks)


@needs_bwrap
def test_forged_reports_earn_nothing_and_do_not_stop_the_batch(attacks):
    scores = attacks[1]
    assert scores["forges_reports"]["total"] == 0
    assert "package_import" in scores  # graded after it


@needs_bwrap
@pytest.mark.parametrize("student", ["package_import", "package_importlib", "package_dunder_import", "package_file"])
def test_the_package_own_answers_earn_nothing(attacks, student):
    assert attacks[1][student]["total"] == 0
    feedback = _feedback(attacks, student)
    if student != "package_file":  # exec of the (stubbed) file's text gets nothing callable; its answers just fail
        for q, name in (("q1", "optimal_discriminator"), ("q2", "value_function"), ("q3", "js_divergence")):
            # the name where the source shows it, else the module it was reached through
            assert re.search(rf"the notebook uses gancourse\.theory(\.{name})?, the course's own version of what {q} asks for",
                             feedback), feedback
    _nothing_left(attacks)


@needs_bwrap
def test_progan_pieces_from_the_package_earn_nothing(tmp_path):
    """The issue's ex06 attack: one-line calls into gancourse.models.progan for every question."""
    calls = {
        "pixel_norm": "def pixel_norm(x, eps=1e-8):\n    from gancourse.models.progan import PixelNorm\n    return PixelNorm(eps)(x)",
        "minibatch_stddev": "def minibatch_stddev(x, group_size=4):\n    import gancourse.models.progan as p\n"
                            "    return p.MinibatchStdDev(group_size)(x)",
        "make_equalized_conv2d": "def make_equalized_conv2d(c_in, c_out, kernel_size, padding=0, gain=math.sqrt(2)):\n"
                                 "    from gancourse.models import progan\n"
                                 "    return progan.EqualizedConv2d(c_in, c_out, kernel_size, padding, gain)",
        "fade_in": "def fade_in(alpha, upscaled, new):\n    from gancourse.models.progan import fade_in as f\n    return f(alpha, upscaled, new)",
    }
    subs = tmp_path / "submissions"
    write(subs, "a_solution", submission("ex06", solutions("ex06")))
    write(subs, "package_calls", submission("ex06", calls))
    (tmp_path / "tmp").mkdir()
    scores, feedback, _ = _grade(subs, tmp_path / "tmp")
    assert scores["a_solution"] == scores["(possible)"]
    assert scores["package_calls"]["total"] == 0
    text = (feedback / "package_calls.txt").read_text()
    assert "the notebook uses gancourse.models.progan.PixelNorm, the course's own version of what q1 asks for" in text
    assert list((tmp_path / "tmp").iterdir()) == []


def test_without_bwrap_grade_stops_with_one_line_and_the_flag_says_what_it_gives_up(tmp_path):
    """No bwrap on PATH (as on macOS): one line on how to install it; the flag grades, and the table says so."""
    subs = tmp_path / "submissions"
    write(subs, "reads_master", _with_answers(READ_MASTER))
    env = {**os.environ, "PATH": str(tmp_path / "empty"), "GANCOURSE_OFFLINE": "1"}
    args = [sys.executable, "-m", "gancourse", "grade", str(subs), "--out", str(tmp_path / "scores.csv"), "--timeout", "40"]
    refused = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "apt-get install bubblewrap" in refused.stderr and UNSAFE_FLAG in refused.stderr
    assert not (tmp_path / "scores.csv").exists()
    trusted = subprocess.run([*args, UNSAFE_FLAG], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    rows = {r["student"]: r for r in csv.DictReader((tmp_path / "scores.csv").open())}
    assert rows["reads_master"]["sandbox"] == "none"
    assert 0 <= float(rows["reads_master"]["total"]) <= float(rows["(possible)"]["total"])  # graded, unsandboxed
