"""Graded exercises: the checks a learner runs, and ``gancourse grade`` for instructors.

Layout. The instructor's master notebooks (solutions, public and hidden tests, in
otter-grader's assign format) live in ``instructor/`` at the top of the course, which
the package does not ship. ``exercises/`` holds the student versions generated from
them by ``make exercises`` (otter assign): no solution, public tests only.

Tests in a master are otter exception-based test functions whose checks are calls to
:func:`expect`. In a notebook, ``expect`` is an assertion. Under ``gancourse grade`` it
only records the value, in a separate process that runs the submission; the grader
compares the records with those of the instructor's solution in its own process, so a
submission that patches numpy, torch or this module cannot change a comparison.
"""
from __future__ import annotations

import math

_recorder = None  # set by the grading worker; None in a learner's notebook


def expect(label: str, got, expected=None, *, atol: float = 1e-6, rtol: float = 1e-5) -> None:
    """Check that ``got`` equals ``expected`` within ``atol + rtol·|expected|`` (element-wise).

    Args:
        label: what is checked, as the learner reads it in a failure message.
        got: a number, a numpy array, a torch tensor, or a list/tuple of those.
        expected: the same kind of value; ``None`` means "what the instructor's solution
            returns" (only meaningful under ``gancourse grade``; in a notebook it checks
            that ``got`` is finite).
    Raises:
        AssertionError: in a notebook, when the values differ (with the largest difference).
    """
    if _recorder is not None:
        _recorder(label, got, expected, atol, rtol)
        return
    from .worker import to_data

    problem = compare(to_data(got), to_data(expected) if expected is not None else None, atol, rtol)
    if problem:
        raise AssertionError(f"{label}: {problem}")


def compare(got: dict, ref: dict | None, atol: float, rtol: float) -> str | None:
    """None when ``got`` matches ``ref`` (plain data from the worker), else what differs.

    Pure Python on JSON data: nothing here can be patched by a submission.
    """
    if "type" in got:
        if got["type"] == "NoneType":
            return "got None (is the answer still `...`, or does the function miss a `return`?)"
        return f"expected numbers, got a {got['type']}"
    if ref is None:  # only finiteness can be checked without a reference
        bad = [v for v in _flat(got) if not _finite(v)]
        return f"got non-finite values ({bad[0]})" if bad else None
    if "list" in ref:
        if "list" not in got or len(got["list"]) != len(ref["list"]):
            n = len(got.get("list", [])) if "list" in got else "no"
            return f"expected a sequence of {len(ref['list'])} values, got {n} sequence"
        for i, (g, r) in enumerate(zip(got["list"], ref["list"])):
            problem = compare(g, r, atol, rtol)
            if problem:
                return f"item {i}: {problem}"
        return None
    if "list" in got:
        return "expected one array or number, got a sequence"
    if list(got["shape"]) != list(ref["shape"]) and not (len(got["values"]) == len(ref["values"]) == 1):
        return f"expected shape {tuple(ref['shape'])}, got shape {tuple(got['shape'])}"
    worst, where = 0.0, None
    for i, (g, r) in enumerate(zip(got["values"], ref["values"])):
        g, r = _num(g), _num(r)
        if r != r:  # NaN expected
            ok = g != g
        elif r in (math.inf, -math.inf) or g != g or g in (math.inf, -math.inf):
            ok = g == r
        else:
            ok = abs(g - r) <= atol + rtol * abs(r)
        if not ok:
            diff = abs(g - r) if (g == g and r == r) else math.inf
            if where is None or diff > worst or diff != diff:
                worst, where = diff, (i, g, r)
    if where is None:
        return None
    i, g, r = where
    return f"value {i} is {g:.6g}, expected {r:.6g} (tolerance {atol:g} + {rtol:g}·|expected|)"


def _num(v) -> float:
    return float(v)  # 'nan', 'inf' and '-inf' strings from the worker included


def _finite(v) -> bool:
    v = _num(v)
    return v == v and v not in (math.inf, -math.inf)


def _flat(data: dict):
    if "list" in data:
        for d in data["list"]:
            yield from _flat(d)
    elif "values" in data:
        yield from data["values"]


class OffLimitsError(RuntimeError):
    """Raised by a stand-in for a package name that an exercise set declares off limits."""


def off_limits(name: str, question: str) -> type:
    """A stand-in for the package's ``name`` in a grading sandbox: calling it reports the use and raises.

    A class, so that package code which subclasses or ``isinstance``-checks the name still imports.
    """
    def refuse(cls, *args, **kwargs):
        if _recorder is not None:
            _recorder.write(event="off_limits", test=_recorder.test, name=name)
        raise OffLimitsError(f"{name} is off limits in this exercise set: {question} asks you to write it yourself")

    doc = f"Off limits while grading: the course's own version of what {question} asks for."
    return type(name.rsplit(".", 1)[-1], (), {"__new__": refuse, "__doc__": doc, "__module__": name.rsplit(".", 1)[0]})


def grade_folder(*args, **kwargs):
    """See :func:`gancourse.grading.grader.grade_folder`."""
    from .grader import grade_folder as _grade

    return _grade(*args, **kwargs)


__all__ = ["expect", "compare", "grade_folder", "off_limits", "OffLimitsError"]
