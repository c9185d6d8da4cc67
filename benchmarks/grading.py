"""Grading speed, sandbox on and off: seconds per submission and submissions per minute.

    python benchmarks/grading.py [--exercise ex01] [--students 30] [--jobs 1]

Builds a class of generated submissions from the committed student version (a third with the
master's solutions, a third untouched, a third with one answer broken), grades it once in
bubblewrap sandboxes and once unsandboxed, and prints both side by side. The sandbox needs
``bwrap`` on PATH (Debian/Ubuntu: ``apt-get install bubblewrap``).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gancourse.grading.grader import grade_folder  # noqa: E402
from gancourse.grading.sandbox import unavailable  # noqa: E402

SOLUTION_MARK = re.compile(r"#\s*(BEGIN|END) SOLUTION")


def solutions(exercise: str) -> dict[str, str]:
    """Function name -> the master's solution cell, markers removed."""
    nb = nbformat.read(ROOT / "instructor" / f"{exercise}.ipynb", as_version=4)
    out = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and "# BEGIN SOLUTION" in cell.source:
            src = "\n".join(l for l in cell.source.splitlines() if not SOLUTION_MARK.search(l))
            out[re.search(r"def (\w+)\(", src).group(1)] = src
    return out


def make_class(exercise: str, students: int, folder: Path) -> None:
    """``students`` notebooks: solved, untouched and one-answer-broken in turn."""
    sol = solutions(exercise)
    first = next(iter(sol))
    broken = dict(sol, **{first: sol[first] + "\n    raise ValueError('a wrong answer')"})
    folder.mkdir(parents=True)
    for i in range(students):
        answers = (sol, {}, broken)[i % 3]
        nb = nbformat.read(ROOT / "exercises" / f"{exercise}.ipynb", as_version=4)
        for cell in nb.cells:
            m = re.match(r"def (\w+)\(", cell.source) if cell.cell_type == "code" else None
            if m and m.group(1) in answers:
                cell.source = answers[m.group(1)]
        nbformat.write(nb, folder / f"student_{i:02d}.ipynb")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exercise", default="ex01")
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args()
    modes = [("sandbox", True)] if not unavailable() else []
    modes.append(("no sandbox", False))
    print(f"{args.students} generated submissions of {args.exercise}, {args.jobs} at a time, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f} at start")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "submissions"
        make_class(args.exercise, args.students, subs)
        for name, sandbox in modes:
            start = time.perf_counter()
            graded = grade_folder(subs, Path(tmp) / name.replace(" ", "_") / "scores.csv", exercise=args.exercise,
                                  quiet=True, sandbox=sandbox, jobs=args.jobs)
            seconds = time.perf_counter() - start
            rows.append((name, seconds, len(graded)))
    print(f"{'mode':<12} {'total s':>8} {'s / submission':>15} {'per minute':>11}")
    for name, seconds, n in rows:
        print(f"{name:<12} {seconds:>8.1f} {seconds / n:>15.2f} {60 * n / seconds:>11.1f}")
    if len(rows) == 2:
        print(f"the sandbox adds {(rows[0][1] - rows[1][1]) / rows[0][2]:+.2f} s per submission")
    else:
        print("no sandbox here (", unavailable(), "): only the unsandboxed row")


if __name__ == "__main__":
    main()
