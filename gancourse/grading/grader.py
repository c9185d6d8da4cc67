"""``gancourse grade``: grade a folder of submitted notebooks into a score table.

For one exercise set (``ex01``, ``ex02``, …) the grader

1. turns the instructor's master ``instructor/<name>.ipynb`` into its autograder version
   with otter assign, in a private temporary folder (the hidden tests exist only there);
2. runs the master's solution through every test once, in a worker process, to get the
   reference values (a solution that fails its own tests stops the grader);
3. runs each submission in a fresh worker process: its own process group, its own private
   temporary folder, ``timeout`` seconds in all (the group is killed when they are up) and
   a share of it per cell and per test, so a ``while True: pass`` costs the question it
   sits in; the worker receives the tests with every ``expected=`` removed;
4. compares, in this process, each recorded value with the reference (pure Python on
   plain numbers), scores each test's points, and writes ``scores.csv`` (one row per
   student, one column per question) and ``feedback/<student>.txt``.

Every temporary folder is removed before ``grade_folder`` returns, also after a timeout.

Why not ``otter run``: it has no time limit, leaves the unzipped hidden tests in its temp
folder when killed, and runs the tests in the student's kernel, where a submission that
patches ``np.allclose`` passes them. otter assign (master → student version, and the
check that the solution passes its own tests) and otter's ``grader.check`` in the student
notebook are used as they are.
"""
from __future__ import annotations

import ast
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..checks import GanCourseError
from . import compare

ROOT = Path(__file__).resolve().parents[2]  # the course checkout (gancourse is installed editable)
MASTERS = ROOT / "instructor" if (ROOT / "instructor").is_dir() else Path.cwd() / "instructor"
EXERCISES = ROOT / "exercises"
DEFAULT_TIMEOUT = 120.0


# --------------------------------------------------------------------- tests
@dataclass
class Test:
    id: str  # "q1/test_name"
    question: str
    function: str
    args: list[str]
    points: float
    hidden: bool
    source: str  # the function definition, decorators removed
    doc: str


@dataclass
class Exercise:
    name: str
    questions: list[str]
    points: dict[str, float]  # per question
    tests: list[Test]
    solution_cells: list[str]


def _run_assign(master: Path, out: Path, run_tests: bool) -> None:
    """otter assign ``master`` into ``out``."""
    _run_assign_many([(master, out)], run_tests)


_ASSIGN_SCRIPT = """
import json, os, sys
from otter.assign import main
for master, out, run_tests in json.loads(sys.argv[1]):
    os.chdir(os.path.dirname(master))
    main(master, out, no_run_tests=not run_tests)
"""


def _run_assign_many(jobs: list[tuple[Path, Path]], run_tests: bool) -> None:
    """otter assign each (master, out) in one child process (otter changes folders and logs; importing it is slow)."""
    payload = json.dumps([[str(Path(m).resolve()), str(Path(o).resolve()), run_tests] for m, o in jobs])
    proc = subprocess.run([sys.executable, "-c", _ASSIGN_SCRIPT, payload], capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise GanCourseError(f"otter assign failed on {', '.join(str(m) for m, _ in jobs)}:\n{tail}")


def parse_tests(question: str, test_file: str) -> list[Test]:
    """The test functions of one otter exception-based test file, with their points."""
    tree = ast.parse(test_file)
    tests = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        config = {"points": 0.0, "hidden": False}
        for dec in node.decorator_list:
            if isinstance(dec, ast.Call) and getattr(dec.func, "id", "") == "test_case":
                for kw in dec.keywords:
                    if kw.arg in config:
                        config[kw.arg] = ast.literal_eval(kw.value)
        node.decorator_list = []
        tests.append(Test(
            id=f"{question}/{node.name}", question=question, function=node.name,
            args=[a.arg for a in node.args.args], points=float(config["points"] or 0.0),
            hidden=bool(config["hidden"]), source=ast.unparse(node), doc=(ast.get_docstring(node) or node.name).strip(),
        ))
    return tests


def load_exercise(name: str, masters: Path, workdir: Path) -> Exercise:
    """Parse ``masters/<name>.ipynb`` through otter assign into ``workdir`` (private)."""
    import nbformat

    master = masters / f"{name}.ipynb"
    if not master.is_file():
        known = sorted(p.stem for p in masters.glob("*.ipynb"))
        raise GanCourseError(f"no master notebook {master}; known exercise sets: {', '.join(known) or 'none'}")
    out = workdir / "assign"
    _run_assign(master, out, run_tests=False)
    nb = nbformat.read(out / "autograder" / master.name, as_version=4)
    tests_meta = nb.metadata.get("otter", {}).get("tests", {})
    questions = list(tests_meta)
    tests = [t for q in questions for t in parse_tests(q, tests_meta[q])]
    points = {q: sum(t.points for t in tests if t.question == q) for q in questions}
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    return Exercise(name, questions, points, tests, cells)


class _StripExpected(ast.NodeTransformer):
    """Remove the ``expected`` argument of every ``expect(...)`` call."""

    def visit_Call(self, node: ast.Call):
        self.generic_visit(node)
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name == "expect":
            node.args = node.args[:2]
            node.keywords = [k for k in node.keywords if k.arg not in ("expected", "atol", "rtol")]
        return node


def strip_expected(source: str) -> str:
    """A test's source as the submission's process sees it: no expected values in it."""
    return ast.unparse(_StripExpected().visit(ast.parse(source)))


# -------------------------------------------------------------------- worker
@dataclass
class WorkerRun:
    cells: list[str | None] = field(default_factory=list)  # per cell: error or None
    probes: dict[str, list[dict]] = field(default_factory=dict)  # test id -> probes
    errors: dict[str, str | None] = field(default_factory=dict)  # test id -> error
    timed_out: bool = False
    seconds: float = 0.0
    returncode: int | None = None


def run_worker(cells: list[str], tests: list[Test], *, timeout: float, base: Path, reference: bool = False) -> WorkerRun:
    """Run ``cells`` then ``tests`` in a fresh process group inside a private folder under ``base``."""
    workdir = Path(tempfile.mkdtemp(prefix="run-", dir=base))
    os.chmod(workdir, 0o700)
    results = workdir / "results.jsonl"
    job = {
        "cells": cells,
        "tests": [{"id": t.id, "function": t.function, "args": t.args,
                   "source": t.source if reference else strip_expected(t.source)} for t in tests],
        "cell_timeout": max(2.0, timeout / 4), "test_timeout": max(2.0, timeout / 8),
        "results": str(results), "mode": "reference" if reference else "student",
    }
    env = {**os.environ, "TMPDIR": str(workdir), "MPLBACKEND": "Agg", "GANCOURSE_OFFLINE": "1",
           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("GANCOURSE_GRADE_KEEP", None)
    run = WorkerRun()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gancourse.grading.worker"], cwd=workdir, env=env,
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        try:
            proc.communicate(json.dumps(job).encode(), timeout=timeout)
        except subprocess.TimeoutExpired:
            run.timed_out = True
    finally:
        _kill_group(proc)
        run.returncode = proc.returncode
        run.seconds = time.perf_counter() - start
        if results.exists():
            _read_results(results, run)
        shutil.rmtree(workdir, ignore_errors=True)
    return run


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the worker's whole process group (its children included) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _read_results(path: Path, run: WorkerRun) -> None:
    for line in path.read_text(errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a line cut short by a kill
        if not isinstance(event, dict):
            continue
        kind = event.get("event")
        if kind == "cell":
            run.cells.append(event.get("error"))
        elif kind == "probe" and isinstance(event.get("test"), str):
            run.probes.setdefault(event["test"], []).append(event)
        elif kind == "test" and isinstance(event.get("test"), str):
            run.errors[event["test"]] = event.get("error")


# ------------------------------------------------------------------- scoring
@dataclass
class TestResult:
    test: Test
    passed: bool
    message: str


def reference_values(ex: Exercise, run: WorkerRun) -> dict[str, list[dict]]:
    """Check the solution's run and return, per test, the probes to match."""
    problems = []
    if run.timed_out:
        problems.append("the solution ran out of time")
    for t in ex.tests:
        if run.errors.get(t.id, "missing") is not None:
            problems.append(f"{t.id} fails on the solution: {run.errors.get(t.id, 'did not run')}")
        elif not run.probes.get(t.id):
            problems.append(f"{t.id} calls expect() nowhere, so it cannot be graded")
        for p in run.probes.get(t.id, []):
            if p.get("expected") is not None:
                problem = compare(p["value"], p["expected"], p["atol"], p["rtol"])
                if problem:
                    problems.append(f"{t.id}: the solution fails {p['label']!r}: {problem}")
    if problems:
        raise GanCourseError(f"the master {ex.name} is broken:\n  " + "\n  ".join(problems))
    return run.probes


def score(ex: Exercise, ref: dict[str, list[dict]], run: WorkerRun) -> list[TestResult]:
    results = []
    for t in ex.tests:
        got = run.probes.get(t.id, [])
        message = ""
        for i, r in enumerate(ref[t.id]):
            target = r["expected"] if r.get("expected") is not None else r["value"]
            if i >= len(got) or got[i].get("label") != r["label"]:
                error = run.errors.get(t.id)
                if error:
                    message = f"{r['label']}: not reached, the test stopped with {error}"
                elif run.timed_out:
                    message = f"{r['label']}: not reached, the notebook ran out of time"
                else:
                    message = f"{r['label']}: not checked"
                break
            value = got[i].get("value")
            problem = compare(value, target, r["atol"], r["rtol"]) if isinstance(value, dict) else "no value"
            if problem:
                message = f"{r['label']}: {problem}"
                break
        results.append(TestResult(t, not message, message))
    return results


# ---------------------------------------------------------------------- batch
@dataclass
class Submission:
    student: str
    path: Path
    points: dict[str, float]
    total: float
    results: list[TestResult]
    seconds: float
    note: str = ""


def _code_cells(path: Path) -> list[str]:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


def exercise_of(path: Path) -> str | None:
    """The exercise set a notebook belongs to, from its metadata (``gancourse.exercise``)."""
    try:
        meta = json.loads(path.read_text()).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        return None
    return (meta.get("gancourse") or {}).get("exercise") or (meta.get("otter") or {}).get("assignment_name")


def grade_folder(
    submissions: str | Path, out: str | Path = "scores.csv", *, exercise: str | None = None,
    masters: str | Path = MASTERS, timeout: float = DEFAULT_TIMEOUT, feedback: str | Path | None = None,
    quiet: bool = False,
) -> list[Submission]:
    """Grade every ``*.ipynb`` in ``submissions``; write ``out`` (CSV) and a feedback file per student."""
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    folder, out = Path(submissions), Path(out)
    if not folder.is_dir():
        raise GanCourseError(f"{folder} is not a folder of submitted notebooks")
    paths = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if not paths:
        raise GanCourseError(f"no .ipynb files in {folder}")
    if exercise is None:
        found = {exercise_of(p) for p in paths} - {None}
        if len(found) != 1:
            raise GanCourseError(f"cannot tell which exercise set these are ({', '.join(sorted(found)) or 'no metadata'}); pass --exercise")
        exercise = found.pop()
    feedback_dir = Path(feedback) if feedback is not None else out.parent / "feedback"
    base = Path(tempfile.mkdtemp(prefix="gancourse-grade-"))
    os.chmod(base, 0o700)
    graded: list[Submission] = []
    try:
        start = time.perf_counter()
        ex = load_exercise(exercise, Path(masters), base)
        ref_run = run_worker(ex.solution_cells, ex.tests, timeout=max(timeout, 60), base=base, reference=True)
        ref = reference_values(ex, ref_run)
        say(f"{exercise}: {len(ex.tests)} tests, {sum(ex.points.values()):g} points; solution checked in {time.perf_counter() - start:.1f} s")
        for path in paths:
            graded.append(_grade_one(path, ex, ref, timeout, base))
            s = graded[-1]
            say(f"  {s.student:<24} {s.total:>5g}/{sum(ex.points.values()):g}  {s.seconds:5.1f} s  {s.note}")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    _write_scores(out, ex, graded)
    _write_feedback(feedback_dir, ex, graded)
    say(f"scores: {out}; feedback: {feedback_dir}/")
    return graded


def _grade_one(path: Path, ex: Exercise, ref: dict, timeout: float, base: Path) -> Submission:
    student = path.stem
    try:
        cells = _code_cells(path)
    except Exception as err:
        results = [TestResult(t, False, f"the notebook could not be read ({type(err).__name__})") for t in ex.tests]
        return Submission(student, path, {q: 0.0 for q in ex.questions}, 0.0, results, 0.0, "unreadable notebook")
    run = run_worker(cells, ex.tests, timeout=timeout, base=base)
    results = score(ex, ref, run)
    points = {q: sum(r.test.points for r in results if r.passed and r.test.question == q) for q in ex.questions}
    note = f"stopped after {timeout:g} s" if run.timed_out else ""
    timeouts = sum(1 for e in run.cells if e and e.startswith("Timeout"))
    if timeouts:
        note = (note + "; " if note else "") + f"{timeouts} cell(s) stopped"
    return Submission(student, path, points, sum(points.values()), results, run.seconds, note)


def _write_scores(out: Path, ex: Exercise, graded: list[Submission]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", *ex.questions, "total"])
        w.writerow(["(possible)", *[f"{ex.points[q]:g}" for q in ex.questions], f"{sum(ex.points.values()):g}"])
        for s in graded:
            w.writerow([s.student, *[f"{s.points[q]:g}" for q in ex.questions], f"{s.total:g}"])
    os.replace(tmp, out)


def _write_feedback(folder: Path, ex: Exercise, graded: list[Submission]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for s in graded:
        lines = [f"{ex.name}: {s.student}: {s.total:g} of {sum(ex.points.values()):g} points", ""]
        if s.note:
            lines += [f"note: {s.note}", ""]
        for q in ex.questions:
            rs = [r for r in s.results if r.test.question == q]
            failed = [r for r in rs if not r.passed]
            lines.append(f"{q}: {s.points[q]:g}/{ex.points[q]:g}  {'passed' if not failed else 'FAILED'}")
            for r in failed:
                kind = "hidden test" if r.test.hidden else "test"
                lines.append(f"    {kind} '{r.test.doc.splitlines()[0]}': {r.message}")
        (folder / f"{s.student}.txt").write_text("\n".join(lines) + "\n")


# ------------------------------------------------------------ student versions
def build_student_version(name: str, masters: Path = MASTERS, exercises: Path = EXERCISES, check: bool = True) -> Path:
    """Regenerate ``exercises/<name>.ipynb`` from ``instructor/<name>.ipynb`` with otter assign.

    With ``check``, otter assign first runs every test against the solution and refuses a
    master whose solution fails them.
    """
    import nbformat

    with tempfile.TemporaryDirectory(prefix="gancourse-assign-") as tmp:
        _run_assign(masters / f"{name}.ipynb", Path(tmp) / "dist", run_tests=check)
        nb = nbformat.read(Path(tmp) / "dist" / "student" / f"{name}.ipynb", as_version=4)
    nb = normalise_student(nb, name)
    exercises.mkdir(parents=True, exist_ok=True)
    target = exercises / f"{name}.ipynb"
    target.write_text(nbformat.writes(nb) + "\n")
    return target


def normalise_student(nb, name: str):
    """Make a generated student notebook byte-stable: fixed cell ids, the set's name in its metadata."""
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name}-{i:02d}"
        cell.metadata.pop("execution", None)
    nb.metadata.setdefault("gancourse", {})["exercise"] = name
    return nb


def student_version_texts(names: list[str], masters: Path = MASTERS) -> dict[str, str]:
    """What ``exercises/<name>.ipynb`` should contain now, per name (no test run; for the staleness test)."""
    import nbformat

    with tempfile.TemporaryDirectory(prefix="gancourse-assign-") as tmp:
        _run_assign_many([(masters / f"{n}.ipynb", Path(tmp) / n) for n in names], run_tests=False)
        return {n: nbformat.writes(normalise_student(nbformat.read(Path(tmp) / n / "student" / f"{n}.ipynb", as_version=4), n)) + "\n"
                for n in names}


def main(argv: list[str] | None = None) -> int:
    """``python -m gancourse.grading.grader assign [NAME ...]``: regenerate the student versions."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "assign":
        print("usage: python -m gancourse.grading.grader assign [ex01 ex02 ...]", file=sys.stderr)
        return 2
    names = args[1:] or sorted(p.stem for p in MASTERS.glob("ex*.ipynb"))
    for name in names:
        print(f"{name}: otter assign (runs the solution against every test) ...", flush=True)
        print(f"  wrote {build_student_version(name).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
