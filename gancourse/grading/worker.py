"""The untrusted half of the grader: run one submission and record what its functions return.

Started by :mod:`gancourse.grading.grader` as ``python -m gancourse.grading.worker --events-fd N``,
inside the submission's sandbox (:mod:`gancourse.grading.sandbox`) unless the instructor turned it
off. It first sets its resource limits, then talks over two pipes:

1. stdin brings one JSON line: the notebook's code cells, the limits and the time allowed. The
   cells run one by one in an IPython shell, each under ``cell_timeout`` seconds;
2. the worker reports ``cells`` on the events pipe, and only then does the grader send the
   tests, one JSON line each, the next one after the worker reported the last: each is the
   test function compiled by the grader (``marshal``), with every expected value, tolerance and
   docstring removed. The worker calls it under ``test_timeout`` seconds and drops it.

It decides nothing: :func:`gancourse.grading.expect` only *records* values here, as JSON lines on
the events pipe. Whatever the submission patches in this process (numpy, torch, builtins, this
module), the comparison with the instructor's solution happens in the grader's own process, on
plain numbers.
"""
from __future__ import annotations

import base64
import json
import marshal
import math
import os
import resource
import signal
import sys
import traceback
import types


class Timeout(KeyboardInterrupt):
    """Raised in the running code when its time is up (a KeyboardInterrupt, so loops stop)."""


def _alarm(seconds: float):
    def handler(signum, frame):
        raise Timeout(f"stopped after {seconds:g} s")

    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def _disarm() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)


def to_data(x, depth: int = 0):
    """Plain JSON data for a value: numbers, arrays and tensors become {"shape", "values"}."""
    if depth > 4:
        return {"type": "too deeply nested"}
    mod = type(x).__module__ or ""
    if isinstance(x, bool) or isinstance(x, (int, float)):
        return {"shape": [], "values": [float(x)]}
    if mod.startswith("torch") and hasattr(x, "detach"):
        t = x.detach().cpu().double()
        return {"shape": list(t.shape), "values": [float(v) for v in t.flatten().tolist()]}
    if mod.startswith("numpy"):
        import numpy as np

        a = np.asarray(x, dtype=np.float64)
        return {"shape": list(a.shape), "values": [float(v) for v in a.ravel().tolist()]}
    if isinstance(x, (list, tuple)):
        items = [to_data(v, depth + 1) for v in x]
        if items and all(i.get("shape") == [] for i in items):  # a list of numbers is a vector
            return {"shape": [len(items)], "values": [i["values"][0] for i in items]}
        return {"list": items}
    return {"type": type(x).__name__}


def _json_number(v: float):
    return v if math.isfinite(v) else repr(v)  # 'nan', 'inf', '-inf' as strings: strict JSON


def _clean(obj):
    if isinstance(obj, float):
        return _json_number(obj)
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return obj


class Recorder:
    """Where :func:`gancourse.grading.expect` sends values while the worker grades."""

    def __init__(self, fd: int):
        self.file = os.fdopen(fd, "w", buffering=1)
        self.test: str | None = None

    def write(self, **event) -> None:
        self.file.write(json.dumps(_clean(event)) + "\n")
        self.file.flush()

    def __call__(self, label, got, expected, atol, rtol) -> None:
        try:
            value = to_data(got)
        except BaseException as err:  # a value that cannot be read back is a failed probe
            value = {"type": f"unreadable ({type(err).__name__})"}
        exp = None if expected is None else to_data(expected)
        self.write(event="probe", test=self.test, label=str(label), value=value, expected=exp, atol=float(atol), rtol=float(rtol))


def _stub_otter() -> None:
    """Public checks in the notebook (``grader.check``) are not run here: the grader runs every test itself."""

    class Notebook:
        def __init__(self, *args, **kwargs):
            pass

        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    mod = types.ModuleType("otter")
    mod.Notebook = Notebook
    sys.modules["otter"] = mod


def _message(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}".strip()
    return text.splitlines()[0][:300] if text else type(err).__name__


def _limit(limits: dict) -> None:
    """Cap this process and its children (soft = hard: the submission cannot raise them)."""
    caps = {resource.RLIMIT_AS: limits["memory_mb"] << 20, resource.RLIMIT_CPU: limits["cpu_s"],
            resource.RLIMIT_FSIZE: limits["file_mb"] << 20, resource.RLIMIT_CORE: 0}
    if limits.get("sandboxed"):  # counted per user: only inside the sandbox is the user the submission's own
        caps[resource.RLIMIT_NPROC] = limits["processes"]
    for which, value in caps.items():
        resource.setrlimit(which, (value, value))


def main() -> int:
    events = int(sys.argv[sys.argv.index("--events-fd") + 1])
    job = json.loads(sys.stdin.readline())
    _limit(job["limits"])
    recorder = Recorder(events)
    os.environ.setdefault("MPLBACKEND", "Agg")
    _stub_otter()

    import gancourse.grading as grading  # the hook `expect` looks for

    grading._recorder = recorder
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.showtraceback = lambda *a, **k: None  # errors are recorded, not printed
    for i, source in enumerate(job.pop("cells")):
        error = None
        try:
            _alarm(job["cell_timeout"])
            result = shell.run_cell(source, store_history=False)
            _disarm()
            err = result.error_in_exec or result.error_before_exec
            if err is not None:
                error = _message(err)
        except BaseException as err:  # a timeout landing outside the cell's own code
            _disarm()
            error = _message(err)
        recorder.write(event="cell", index=i, error=error)
    recorder.test = None
    recorder.write(event="cells")

    namespace = shell.user_ns
    while line := sys.stdin.readline():
        test = json.loads(line)
        recorder.test = test["id"]
        error, missing = None, [a for a in test["args"] if a not in namespace]
        try:
            _alarm(job["test_timeout"])
            if not missing:
                scope: dict = {}
                exec(marshal.loads(base64.b64decode(test.pop("code"))), scope)
                scope[test["function"]](*[namespace[a] for a in test["args"]])
            _disarm()
        except BaseException as err:
            _disarm()
            error = _message(err)
            if job.get("mode") == "reference":
                error += "\n" + traceback.format_exc(limit=-3)
        scope = test = None  # nothing of the test stays behind
        grading._recorder = recorder  # a submission may have replaced it; its own values only
        recorder.write(event="test", test=recorder.test, error=error, missing=missing)
    recorder.write(event="done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
