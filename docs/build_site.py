"""Build the course website into build/site/ (`make site`): static HTML that works offline.

The pages are the committed chapters with their stored cpu-run outputs, the exercises' student
versions, README.md as the home page and instructor/README.md. Nothing is executed. This script
writes the Sphinx sources (copies with a header cell, widgets made static) into build/site-src/,
then runs Sphinx with docs/conf.py.

    python docs/build_site.py [--root REPO] [--out build/site]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat

from saved_widgets import replace_widget_outputs

DOCS = Path(__file__).resolve().parent


class SiteError(Exception):
    """A problem with the inputs, said in one line."""


CHAPTER_NOTE = """:::{{admonition}} Read it here, run it in JupyterLab
:class: note
This page shows the stored `cpu`-profile run of the notebook `notebooks/{name}.ipynb` ({download}):
every figure and number below was computed when the chapter ran; building the site ran nothing.
**Open it in JupyterLab:** in a clone of the repository, `make lab` (it sets up `.venv` the first
time) opens JupyterLab on `notebooks/`; open `{name}.ipynb` and run it top to bottom. Sliders and
pickers here show their saved position and move only with a running kernel.
:::
"""

EXERCISE_NOTE = """:::{{admonition}} How grading works
:class: note
This is the student version of exercise set `{name}` ({download}). Open it in JupyterLab
(`make setup`, then `.venv/bin/jupyter lab exercises/`), replace every `...` with your code, and
run the `grader.check("q1")` cell under each question: it runs that question's public tests and
says what is wrong. Hand in the saved notebook. Your instructor grades a folder of submissions
with `make grade SUBMISSIONS=dir` (`gancourse grade`): each notebook runs on its own, in a sandbox
and under a time limit, and is scored on its public tests and on hidden tests; a question earns the
points of the tests it passes, and a feedback file lists what each failed test checked and why.
:::
"""

CHAPTERS_INDEX = """# Chapters

Each chapter opens with what you will be able to do and closes with a summary and a pointer to its
exercises. The pages show the outputs of a stored `cpu`-profile run; `make lab` opens the notebooks
themselves in JupyterLab.

```{{toctree}}
:maxdepth: 1

{pages}
```
"""

EXERCISES_INDEX = """# Exercises

One graded set per chapter. Each question has `...` stubs to fill in and public tests that
`grader.check` runs in the notebook; the instructor's grader adds hidden tests (see the
[instructor guide](../instructor.md)).

```{{toctree}}
:maxdepth: 1

{pages}
```
"""

HOME_TOC = """

```{toctree}
:caption: This site
:maxdepth: 1

chapters/index
exercises/index
Instructor guide <instructor>
```
"""


def check_outputs(nb, path: Path) -> None:
    """A chapter whose code cells hold no output would render as prose only: refuse it."""
    if not any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"):
        raise SiteError(
            f"{path.parent.name}/{path.name} has no stored outputs; "
            f"`gancourse run {path.stem} --profile cpu --store` fills it"
        )


def page_from_notebook(path: Path, target: Path, note: str, chapter: bool) -> None:
    """Copy a notebook to `target`, its title cell (the first `# ` heading) first and `note` after it and its widgets made static."""
    nb = nbformat.read(path, as_version=4)
    if chapter:
        check_outputs(nb, path)
    replace_widget_outputs(nb)
    link = os.path.relpath(path, target.parent).replace(os.sep, "/")
    download = f"{{download}}`download {path.name} <{link}>`"
    title = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith("# "))
    nb.cells.insert(0, nb.cells.pop(title))  # an exercise opens with otter's set-up cell: the title goes first
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(note.format(download=download, name=path.stem)))
    _write(target, nbformat.writes(nb))


def write_sources(root: Path, src: Path) -> None:
    """Write the Sphinx sources for the repository at `root` into `src`."""
    chapters = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    exercises = sorted((root / "exercises").glob("ex*.ipynb"))
    if not chapters:
        raise SiteError(f"no chapters in {root / 'notebooks'}")
    for path in chapters:
        page_from_notebook(path, src / "chapters" / path.name, CHAPTER_NOTE, chapter=True)
    for path in exercises:
        page_from_notebook(path, src / "exercises" / path.name, EXERCISE_NOTE, chapter=False)
    _write(src / "chapters" / "index.md", CHAPTERS_INDEX.format(pages="\n".join(p.stem for p in chapters)))
    _write(src / "exercises" / "index.md", EXERCISES_INDEX.format(pages="\n".join(p.stem for p in exercises)))
    _write(src / "index.md", (root / "README.md").read_text() + HOME_TOC)
    _write(src / "instructor.md", (root / "instructor" / "README.md").read_text())
    wanted = {src / "index.md", src / "instructor.md"} | {src / d / "index.md" for d in ("chapters", "exercises")}
    wanted |= {src / "chapters" / p.name for p in chapters} | {src / "exercises" / p.name for p in exercises}
    for stale in [p for p in src.rglob("*") if p.is_file() and ".doctrees" not in p.parts and p not in wanted]:
        stale.unlink()


def build(root: Path, out: Path, src: Path | None = None, quiet: bool = True) -> None:
    """Build the site of the repository at `root` into `out` (sources in `src`, next to it by default)."""
    from sphinx.cmd.build import build_main

    src = src or out.parent / f"{out.name}-src"
    write_sources(root, src)
    args = ["-b", "html", "-c", str(DOCS), "-d", str(src / ".doctrees"), "-j", "auto", "-W", "--keep-going"]
    if build_main(args + (["-q"] if quiet else []) + [str(src), str(out)]) != 0:
        raise SiteError("sphinx-build failed (its messages are above)")


def _write(path: Path, text: str) -> None:
    """Write only what changed, so Sphinx rebuilds only changed pages."""
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DOCS.parent, help="the repository (default: this one)")
    parser.add_argument("--out", type=Path, default=DOCS.parent / "build" / "site")
    args = parser.parse_args(argv)
    try:
        build(args.root.resolve(), args.out.resolve())
    except SiteError as err:
        print(f"make site: error: {err}", file=sys.stderr)
        return 2
    print(f"site: {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
