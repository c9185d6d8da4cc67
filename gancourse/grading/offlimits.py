"""Package names an exercise's answers may not use: the course's own answers to its questions.

A master declares them per question, in the question's config cell::

    # BEGIN QUESTION
    name: q1
    off_limits: [gancourse.models.progan.PixelNorm]

An entry is a function or class (``gancourse.<module>.<name>``) or a whole module
(``gancourse.metrics.kid``: every function and class it defines). The grader enforces them twice:

* at run time, airtight: the submission runs against a copy of the package in which every
  off-limits definition is replaced by a stand-in (:func:`gancourse.grading.off_limits`) that
  reports its use and raises. The real code is nowhere the submission can reach it, whether it
  imports the name, goes through ``importlib`` or ``__import__``, or reads the module's file;
* in the submitted source, for the feedback: imports and uses of the names by any alias,
  ``getattr`` with a literal name, and strings that name the module (``importlib``,
  ``__import__``, a path to its file).

Either way the question that declares the name earns 0. One process holds all the answers, so a
name declared by one question is a stand-in for the whole set.
"""
from __future__ import annotations

import ast
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..checks import GanCourseError

_MODULE_STRING = re.compile(r"gancourse(?:[./\\][A-Za-z_]\w*)+")
_WHOLE_MODULE = "*"
_READS_EVERYTHING = {"__file__", "__spec__", "__loader__", "__dict__", "__cached__"}


@dataclass(frozen=True)
class Ban:
    """One off-limits entry of one question, resolved against the package's files."""

    question: str
    entry: str  # as declared
    module: str  # "gancourse.models.progan"
    names: tuple[str, ...]  # the functions and classes it covers in ``module``

    def hit(self, ref: str) -> bool:
        """Whether a dotted reference found in submitted code reaches this entry."""
        if ref.endswith(".*"):  # a star import of the module or of a package above it
            return (self.module + ".").startswith(ref[:-1])
        parts = ref.split(".")
        if ref.startswith(self.module + "."):
            rest = parts[len(self.module.split(".")):]
            return rest[0] in self.names or rest[0] in _READS_EVERYTHING
        if ref == self.module:
            return self.entry == self.module
        parent = ".".join(parts[:-1])  # a re-export, e.g. gancourse.metrics.mmd2_unbiased
        return parts[-1] in self.names and (self.module + ".").startswith(parent + ".") and parent.startswith("gancourse")


def declared(master: Path) -> dict[str, list[str]]:
    """Question name -> its ``off_limits`` entries, from the master's question config cells."""
    import nbformat
    import yaml

    found = {}
    for cell in nbformat.read(master, as_version=4).cells:
        if cell.cell_type == "raw" and cell.source.lstrip().startswith("# BEGIN QUESTION"):
            config = yaml.safe_load(cell.source.split("\n", 1)[1]) or {}
            entries = config.get("off_limits") or []
            if isinstance(entries, str):
                entries = [entries]
            found[str(config.get("name"))] = [str(e) for e in entries]
    return found


def resolve(declarations: dict[str, list[str]], package: Path) -> list[Ban]:
    """Check every entry against the package's files; a typo stops the grader instead of banning nothing."""
    bans = []
    for question, entries in declarations.items():
        for entry in entries:
            parts = entry.split(".")
            if parts[0] != "gancourse":
                raise GanCourseError(f"{question}: off_limits entry {entry!r} is not a name in the gancourse package")
            for module, name in ((parts, None), (parts[:-1], parts[-1])):
                file = _module_file(package, module[1:])
                if file is None:
                    continue
                defined = _definitions(file)
                if name is None:
                    bans.append(Ban(question, entry, entry, tuple(defined)))
                    break
                if name in defined:
                    bans.append(Ban(question, entry, ".".join(module), (name,)))
                    break
            else:
                raise GanCourseError(f"{question}: off_limits entry {entry!r} names no module, function or class of the package")
    return bans


def _module_file(package: Path, parts: list[str]) -> Path | None:
    base = package.joinpath(*parts)
    for file in (base.with_suffix(".py"), base / "__init__.py"):
        if file.is_file() and (parts or file.name == "__init__.py"):
            return file
    return None


def _definitions(file: Path) -> dict[str, ast.stmt]:
    tree = ast.parse(file.read_text())
    return {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def stubbed_copy(package: Path, bans: list[Ban], dest: Path) -> Path:
    """A copy of the package (no bytecode caches) with every banned definition replaced by a stand-in."""
    shutil.copytree(package, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    by_file: dict[Path, dict[str, str]] = {}
    for ban in bans:
        file = _module_file(dest, ban.module.split(".")[1:])
        for name in ban.names:
            by_file.setdefault(file, {})[name] = ban.question
    for file, names in by_file.items():
        file.write_text(_stub_source(file.read_text(), names, _dotted(dest, file)))
    return dest


def _dotted(root: Path, file: Path) -> str:
    parts = ["gancourse", *file.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _stub_source(source: str, names: dict[str, str], module: str) -> str:
    """``source`` with each definition in ``names`` (name -> question) cut out, a stand-in in its place."""
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    for node in sorted((n for n in tree.body if getattr(n, "name", None) in names), key=lambda n: -n.lineno):
        first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
        stand_in = f"{node.name} = _gancourse_off_limits({module + '.' + node.name!r}, {names[node.name]!r})\n"
        lines[first:node.end_lineno] = [stand_in]
    after_future = max((n.end_lineno for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "__future__"), default=0)
    lines.insert(after_future, "from gancourse.grading import off_limits as _gancourse_off_limits\n")
    return "".join(lines)


# ------------------------------------------------------------------ the submitted source
def uses(cells: list[str], bans: list[Ban]) -> dict[str, str]:
    """Question -> the first off-limits reference in the submitted cells that reaches its entries."""
    found: dict[str, str] = {}
    for ref in (r for cell in cells for r in references(cell)):
        for ban in bans:
            if ban.question not in found and ban.hit(ref):
                found[ban.question] = _shown(ref, ban)
    return found


def _shown(ref: str, ban: Ban) -> str:
    named = [n for n in ban.names if ref.split(".")[-1] == n or f".{n}." in ref + "."]
    return f"{ban.module}.{named[0]}" if named else ban.module


def references(cell: str) -> set[str]:
    """Dotted ``gancourse`` paths a cell imports, reaches through an alias, or names in a string."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        tree = ast.parse(TransformerManager().transform_cell(cell))
    except Exception:  # not Python: the cell fails when it runs, and the stand-ins still hold
        return set()
    aliases: dict[str, str] = {}
    refs: set[str] = set()
    for node in ast.walk(tree):  # imports first: an alias may be used above its import in the walk order
        if isinstance(node, ast.Import):
            for a in node.names:
                refs.add(a.name)
                aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                refs.add(f"{node.module}.{a.name}")
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and (path := _chain(node, aliases)):
            refs.add(path)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "getattr" and len(node.args) >= 2:
            base, name = _chain(node.args[0], aliases), node.args[1]
            if base and isinstance(name, ast.Constant) and isinstance(name.value, str):
                refs.add(f"{base}.{name.value}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            for m in _MODULE_STRING.finditer(node.value):
                refs.add(re.sub(r"[/\\]", ".", m.group(0)).removesuffix(".py") + ".__file__")
    return {r for r in refs if r.startswith("gancourse")}


def _chain(node: ast.expr, aliases: dict[str, str]) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in aliases:
        return ".".join([aliases[node.id], *reversed(parts)])
    return None
