"""``gancourse grade``: grade a folder of submitted notebooks into a score table.

For one exercise set (``ex01``, ``ex02``, …) the grader

1. turns the instructor's master ``instructor/<name>.ipynb`` into its autograder version
   with otter assign, in a private temporary folder (the hidden tests exist only there), and
   reads the names each question declares off limits (:mod:`.offlimits`);
2. runs the master's solution through every test once, in a worker process, to get the
   reference values (a solution that fails its own tests stops the grader);
3. runs each submission in a fresh worker process inside its own sandbox
   (:mod:`.sandbox`: bubblewrap; the package there has the off-limits names stubbed), with
   ``timeout`` seconds in all and a share of it per cell and per test, so a ``while True: pass``
   costs the question it sits in. The worker gets the cells first; each test comes only
   after the cells (and the test before it) ran, compiled, with every expected value removed;
4. compares, in this process, each recorded value with the reference (pure Python on
   plain numbers it checks first), scores each test's points, gives 0 to a question whose
   off-limits names the notebook uses, and writes ``scores.csv`` (one row per student, one
   column per question, and the mode that graded it) and ``feedback/<student>.txt``. Feedback
   holds only what this process writes: no text of the submission's (an exception's message
   could carry a hidden test out), only builtin exception names, numbers and shapes.

Every temporary folder is removed before ``grade_folder`` returns, also after a timeout.
Without bubblewrap the grader stops, unless told to grade unsandboxed (``sandbox=False``).

Why not ``otter run``: it has no time limit, leaves the unzipped hidden tests in its temp
folder when killed, and runs the tests in the student's kernel, where a submission that
patches ``np.allclose`` passes them. otter assign (master → student version, and the
check that the solution passes its own tests) and otter's ``grader.check`` in the student
notebook are used as they are.
"""
from __future__ import annotations

import ast
import base64
import builtins
import csv
import json
import marshal
import math
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..checks import GanCourseError
from . import compare, offlimits
from .sandbox import PACKAGE, PYTHON, Limits, unavailable
from .sandbox import command as sandboxed

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
    bans: list[offlimits.Ban] = field(default_factory=list)


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
    declared = offlimits.declared(master)
    unknown = set(declared) - set(questions)
    if unknown:
        raise GanCourseError(f"{master}: off_limits declared for {', '.join(sorted(unknown))}, which has no tests")
    return Exercise(name, questions, points, tests, cells, offlimits.resolve(declared, PACKAGE))


class _StripExpected(ast.NodeTransformer):
    """Remove the ``expected`` argument of every ``expect(...)`` call, and docstrings."""

    def visit_FunctionDef(self, node: ast.FunctionDef):
        self.generic_visit(node)
        if ast.get_docstring(node) is not None:
            node.body = node.body[1:] or [ast.Pass()]
        return node

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


def compiled(source: str, test_id: str) -> str:
    """A test as the worker receives it: compiled here, no source text (base64 of its marshalled code)."""
    return base64.b64encode(marshal.dumps(compile(source, f"<test {test_id}>", "exec"))).decode()


# -------------------------------------------------------------------- worker
MAX_EVENTS = 64 << 20  # bytes a worker may report; a flood beyond it ends its run


@dataclass(frozen=True)
class Mode:
    """How workers run: in a sandbox or not, and which copy of the package they import."""

    sandboxed: bool
    package: Path  # the real package (the reference run) or the copy with off-limits names stubbed
    base: Path  # the grader's private temporary folder
    limits: Limits = Limits()

    @property
    def label(self) -> str:
        return "bwrap" if self.sandboxed else "none"


@dataclass
class WorkerRun:
    cells: list[str | None] = field(default_factory=list)  # per cell: error or None
    probes: dict[str, list[dict]] = field(default_factory=dict)  # test id -> probes
    errors: dict[str, str | None] = field(default_factory=dict)  # test id -> error
    missing: dict[str, list[str]] = field(default_factory=dict)  # test id -> names the notebook lacks
    off_limits: list[str] = field(default_factory=list)  # stand-ins the submission called
    timed_out: bool = False
    seconds: float = 0.0
    returncode: int | None = None


def run_worker(cells: list[str], tests: list[Test], *, timeout: float, mode: Mode, reference: bool = False) -> WorkerRun:
    """Run ``cells`` then ``tests`` in a fresh worker (sandboxed unless ``mode`` says not) and collect what it reports."""
    job = {"cells": cells, "limits": {**mode.limits.for_worker(timeout), "sandboxed": mode.sandboxed},
           "cell_timeout": max(2.0, timeout / 4), "test_timeout": max(2.0, timeout / 8),
           "mode": "reference" if reference else "student"}
    messages = [json.dumps({"id": t.id, "function": t.function, "args": t.args,
                            "code": compiled(t.source if reference else strip_expected(t.source), t.id)}).encode() + b"\n"
                for t in tests]
    events, write_end = os.pipe()
    argv = [PYTHON, "-m", "gancourse.grading.worker", "--events-fd", str(write_end)]
    workdir = None
    if mode.sandboxed:
        cmd, cwd, env = sandboxed(argv, mode.package, mode.limits), None, None
    else:
        workdir = Path(tempfile.mkdtemp(prefix="run-", dir=mode.base))
        cmd, cwd = argv, workdir
        env = {**os.environ, "TMPDIR": str(workdir), "MPLBACKEND": "Agg", "GANCOURSE_OFFLINE": "1",
               "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"), "PYTHONDONTWRITEBYTECODE": "1"}
        if mode.package != PACKAGE:
            env["PYTHONPATH"] = str(mode.package.parent)
    run = WorkerRun()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, pass_fds=[write_end], start_new_session=True)
    os.close(write_end)
    try:
        reported, run.timed_out = _converse(proc, events, json.dumps(job).encode() + b"\n", messages, timeout)
    finally:
        _kill_group(proc)
        os.close(events)
        run.returncode = proc.returncode
        run.seconds = time.perf_counter() - start
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    _collect(reported, run, {t.id: t for t in tests})
    return run


def _converse(proc: subprocess.Popen, events: int, job: bytes, tests: list[bytes], timeout: float) -> tuple[list[dict], bool]:
    """Send the job, then each test once the worker reports the cells (or the test before it) done.

    Returns the worker's events and whether its time ran out. Never blocks past ``timeout``: the
    worker may stop reading, flood the pipe, or leave children holding it open.
    """
    out, buf, size, pending, last_sent = job, b"", 0, list(tests), False
    reported: list[dict] = []
    stdin = proc.stdin.fileno()
    os.set_blocking(stdin, False)
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        readable, writable, _ = select.select([events], [stdin] if out else [], [], min(left, 1.0))
        if writable:
            try:
                out = out[os.write(stdin, out):]
            except BlockingIOError:
                pass
            except OSError:  # the worker is gone
                out = b""
        if readable:
            chunk = os.read(events, 1 << 16)
            size += len(chunk)
            if not chunk or size > MAX_EVENTS:
                return reported, False
            *lines, buf = (buf + chunk).split(b"\n")
            for line in lines:
                event = _event(line)
                if event is None:
                    continue
                reported.append(event)
                if event["event"] == "done":
                    return reported, False
                if event["event"] in ("cells", "test"):
                    if pending:
                        out += pending.pop(0)
                    else:
                        last_sent = True
        if last_sent and not out and not proc.stdin.closed:
            proc.stdin.close()  # no more tests: the worker reads the end and reports done
        if not readable and proc.poll() is not None:
            return reported, False
    return reported, True


def _event(line: bytes) -> dict | None:
    try:
        event = json.loads(line)
    except Exception:  # cut short by a kill, or not JSON at all
        return None
    return event if isinstance(event, dict) and isinstance(event.get("event"), str) else None


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the worker's process group (in a sandbox: bwrap, and with it everything inside) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    if proc.stdin and not proc.stdin.closed:
        try:
            proc.stdin.close()
        except OSError:
            pass


def _collect(events: list[dict], run: WorkerRun, tests: dict[str, Test]) -> None:
    """Sort the worker's events into ``run``, keeping only what names a known test."""
    for event in events:
        kind, test = event["event"], event.get("test")
        if kind == "cell":
            run.cells.append(event.get("error") if isinstance(event.get("error"), str) else None)
        elif kind == "off_limits" and isinstance(event.get("name"), str):
            run.off_limits.append(event["name"])
        elif test not in tests:
            continue
        elif kind == "probe":
            run.probes.setdefault(test, []).append(event)
        elif kind == "test":
            error = event.get("error")
            run.errors[test] = error if isinstance(error, str) else None
            missing = event.get("missing")
            run.missing[test] = [a for a in tests[test].args if isinstance(missing, list) and a in missing]


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
    """Each test passed or not, with a message written here: nothing of the submission's text goes into it."""
    results = []
    for t in ex.tests:
        got = run.probes.get(t.id, [])
        message = ""
        for i, r in enumerate(ref[t.id]):
            target = r["expected"] if r.get("expected") is not None else r["value"]
            if i >= len(got) or got[i].get("label") != r["label"]:
                error = run.errors.get(t.id)
                if run.missing.get(t.id):
                    message = f"{r['label']}: not reached, the notebook does not define {', '.join(run.missing[t.id])}"
                elif error:
                    message = f"{r['label']}: not reached, the test stopped with {_kind(error)}"
                elif run.timed_out:
                    message = f"{r['label']}: not reached, the notebook ran out of time"
                else:
                    message = f"{r['label']}: not checked"
                break
            problem = compare(plain(got[i].get("value")), target, r["atol"], r["rtol"])
            if problem:
                message = f"{r['label']}: {problem}"
                break
        results.append(TestResult(t, not message, message))
    return results


_EXCEPTIONS = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}
_TYPES = {n for n, v in vars(builtins).items() if isinstance(v, type)} | {
    "NoneType", "function", "method", "module", "generator", "ellipsis", "too deeply nested"}


def _kind(error: str) -> str:
    """What stopped a test, in words of the grader's: a builtin exception's name, never its message."""
    name = error.split(":", 1)[0].strip()
    if name == "Timeout":
        return "its time limit"
    if name == "OffLimitsError":
        return "an off-limits name of the package"
    return f"{'an' if name[:1] in 'AEIOU' else 'a'} {name}" if name in _EXCEPTIONS else "an exception of the notebook's own"


def plain(data, depth: int = 0) -> dict:
    """A recorded value checked to be what :func:`compare` reads; anything else reads as unreadable.

    The worker's process is the submission's: its reports are forgeable and are read as data only.
    """
    if not isinstance(data, dict) or depth > 5:
        return {"type": "unreadable value"}
    if isinstance(data.get("list"), list):
        return {"list": [plain(d, depth + 1) for d in data["list"]]}
    shape, values = data.get("shape"), data.get("values")
    if isinstance(shape, list) and isinstance(values, list) and len(shape) <= 8 and all(
            type(n) is int and n >= 0 for n in shape) and math.prod(shape) == len(values) and all(
            type(v) in (int, float) or v in ("nan", "inf", "-inf") for v in values):
        return {"shape": shape, "values": values}
    return {"type": data["type"] if data.get("type") in _TYPES else "value of another type"}


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
    mode: str = "bwrap"  # what graded it: "bwrap" (a sandbox) or "none"
    off_limits: dict[str, str] = field(default_factory=dict)  # question -> the off-limits name it used


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
    quiet: bool = False, sandbox: bool = True, jobs: int = 1, limits: Limits = Limits(),
) -> list[Submission]:
    """Grade every ``*.ipynb`` in ``submissions``; write ``out`` (CSV) and a feedback file per student.

    Each notebook runs in its own bubblewrap sandbox; where none can be made this stops with
    one line saying how to get one, unless ``sandbox=False`` (trusted submissions only).
    ``jobs`` notebooks are graded at a time.
    """
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
    if sandbox and (why := unavailable()):
        raise GanCourseError(why)
    feedback_dir = Path(feedback) if feedback is not None else out.parent / "feedback"
    base = Path(tempfile.mkdtemp(prefix="gancourse-grade-"))
    os.chmod(base, 0o700)
    graded: list[Submission] = []
    try:
        start = time.perf_counter()
        ex = load_exercise(exercise, Path(masters), base)
        stubbed = offlimits.stubbed_copy(PACKAGE, ex.bans, base / "package" / "gancourse")
        ref_run = run_worker(ex.solution_cells, ex.tests, timeout=max(timeout, 60), mode=Mode(sandbox, PACKAGE, base, limits),
                             reference=True)
        ref = reference_values(ex, ref_run)
        where = "each in a bwrap sandbox" if sandbox else "WITHOUT a sandbox"
        say(f"{exercise}: {len(ex.tests)} tests, {sum(ex.points.values()):g} points; solution checked in "
            f"{time.perf_counter() - start:.1f} s; grading {len(paths)} notebooks {where}")
        mode = Mode(sandbox, stubbed, base, limits)
        with ThreadPoolExecutor(max(1, jobs)) as pool:
            for s in pool.map(lambda p: _grade_one(p, ex, ref, timeout, mode), paths):
                graded.append(s)
                say(f"  {s.student:<24} {s.total:>5g}/{sum(ex.points.values()):g}  {s.seconds:5.1f} s  {s.note}")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    _write_scores(out, ex, graded)
    _write_feedback(feedback_dir, ex, graded)
    say(f"scores: {out}; feedback: {feedback_dir}/")
    return graded


def _grade_one(path: Path, ex: Exercise, ref: dict, timeout: float, mode: Mode) -> Submission:
    student = path.stem
    try:
        cells = _code_cells(path)
    except Exception as err:
        results = [TestResult(t, False, f"the notebook could not be read ({type(err).__name__})") for t in ex.tests]
        return Submission(student, path, {q: 0.0 for q in ex.questions}, 0.0, results, 0.0, "unreadable notebook", mode.label)
    run = run_worker(cells, ex.tests, timeout=timeout, mode=mode)
    results = score(ex, ref, run)
    banned = offlimits.uses(cells, ex.bans)
    for name in run.off_limits:  # stand-ins called at run time, however they were reached
        for ban in ex.bans:
            if name.rsplit(".", 1)[0] == ban.module and name.rsplit(".", 1)[-1] in ban.names:
                banned.setdefault(ban.question, name)
    results = [TestResult(r.test, False, "off limits") if r.test.question in banned else r for r in results]
    points = {q: sum(r.test.points for r in results if r.passed and r.test.question == q) for q in ex.questions}
    note = f"stopped after {timeout:g} s" if run.timed_out else ""
    timeouts = sum(1 for e in run.cells if e and e.startswith("Timeout"))
    if timeouts:
        note = (note + "; " if note else "") + f"{timeouts} cell(s) stopped"
    if banned:
        note = (note + "; " if note else "") + f"off limits: {', '.join(sorted(banned))}"
    return Submission(student, path, points, sum(points.values()), results, run.seconds, note, mode.label, banned)


def _write_scores(out: Path, ex: Exercise, graded: list[Submission]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", *ex.questions, "total", "sandbox"])
        w.writerow(["(possible)", *[f"{ex.points[q]:g}" for q in ex.questions], f"{sum(ex.points.values()):g}", ""])
        for s in graded:
            w.writerow([s.student, *[f"{s.points[q]:g}" for q in ex.questions], f"{s.total:g}", s.mode])
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
            if q in s.off_limits:
                lines.append(f"    0 points: the notebook uses {s.off_limits[q]}, the course's own version of what {q} "
                             f"asks for (off limits: write your own)")
                continue
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
