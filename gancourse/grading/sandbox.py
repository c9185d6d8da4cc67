"""Where a submission runs: a fresh bubblewrap (``bwrap``) sandbox per notebook, on Linux.

Inside, the submission

* sees the system's ``/usr``, the Python environment (``sys.base_prefix``, ``sys.prefix``) and the
  ``gancourse`` package (the copy with off-limits names stubbed), all read-only, and nothing else
  of the machine's disk: not the masters, not ``instructor/``, not the other submissions, not
  ``$HOME``;
* writes only to its private work folder (``/submission``: its home and working directory) and
  a private ``/tmp``, size-limited tmpfs mounts that vanish with the sandbox;
* has no network (a network namespace of its own, loopback only), a PID namespace of its own
  (bwrap's reaper is PID 1: when the worker ends, every process the submission started ends
  with it), dies with the grader (``--die-with-parent``) and cannot make user namespaces
  (``--disable-userns``, so no tmpfs of its own without a size limit);
* runs as an unprivileged user. The kernel never counts root's processes against a process
  limit, so when the grader is root an outer bwrap builds the same file view and ``setpriv``
  drops to ``nobody`` before the inner, unprivileged bwrap starts.

The worker sets the limits of :class:`Limits` on itself (``resource.setrlimit``) before it
reads any submitted code: address space, CPU seconds, processes and file size.
"""
from __future__ import annotations

import functools
import os
import pwd
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # the gancourse package
PYTHON = os.path.abspath(sys.executable)  # as the sandbox finds it (no "..": the folders around are not there)
HOME = "/submission"
UNSAFE_FLAG = "--no-sandbox-i-trust-these-submissions"
INSTALL = (f"install bubblewrap 0.8 or newer (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf "
           f"install bubblewrap), or grade without a sandbox with {UNSAFE_FLAG}")


@dataclass(frozen=True)
class Limits:
    """What one submission may use. CPU seconds follow from the notebook's time limit."""

    memory_mb: int = 4096  # address space of each process (a 6 GiB request is refused)
    processes: int = 64  # processes and threads
    file_mb: int = 64  # largest file it may write
    disk_mb: int = 256  # each of /tmp and /submission (memory-backed)

    def for_worker(self, seconds: float) -> dict:
        return {**asdict(self), "cpu_s": int(seconds) + 5}


def _ro_binds(package_source: Path) -> list[tuple[str, str]]:
    """(source, destination) of every read-only bind, parents before children."""
    tops = ["/usr"] + [p for p in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32") if os.path.isdir(p)
                       and not os.path.islink(p)]
    binds = {p: p for p in tops}
    for f in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/localtime"):
        if os.path.exists(f):
            binds[f] = f
    for prefix in {sys.base_prefix, sys.prefix, sys.base_exec_prefix, sys.exec_prefix}:
        for p in {os.path.abspath(prefix), os.path.realpath(prefix)}:
            if not any(p == t or p.startswith(t + "/") for t in tops):
                binds[p] = p
    binds[str(package_source)] = str(PACKAGE)
    return sorted(binds.items(), key=lambda sd: sd[1].count("/"))


def _view(binds: list[tuple[str, str]], same_paths: bool) -> list[str]:
    """bwrap options for the file view: parents made searchable, links of a merged /usr, the binds."""
    args, made = [], set()
    for _, dest in binds:
        for parent in list(Path(dest).parents)[::-1][1:]:
            p = str(parent)
            if p not in made and not any(p == d or p.startswith(d + "/") for _, d in binds):
                args += ["--perms", "0755", "--dir", p]
                made.add(p)
    for link in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
    for source, dest in binds:
        args += ["--ro-bind", dest if same_paths else source, dest]
    return args


def _inner(binds: list[tuple[str, str]], limits: Limits, same_paths: bool) -> list[str]:
    return [
        _bwrap(), "--unshare-user", "--disable-userns", "--unshare-pid", "--unshare-net", "--unshare-ipc",
        "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session",
        # the private /tmp first: binds of an environment that lives under /tmp then land on top of it
        "--size", str(limits.disk_mb << 20), "--tmpfs", "/tmp",
        *_view(binds, same_paths), "--proc", "/proc", "--dev", "/dev", "--size", str(limits.disk_mb << 20), "--tmpfs", HOME,
        "--chdir", HOME, "--clearenv", *_env(),
    ]


def _env() -> list[str]:
    env = {"HOME": HOME, "USER": "student", "PATH": "/usr/bin:/bin", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib", "GANCOURSE_OFFLINE": "1", "PYTHONDONTWRITEBYTECODE": "1",
           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    if "OMP_WAIT_POLICY" in os.environ:
        env["OMP_WAIT_POLICY"] = os.environ["OMP_WAIT_POLICY"]
    return [a for k, v in env.items() for a in ("--setenv", k, v)]


def command(argv: list[str], package_source: Path = PACKAGE, limits: Limits = Limits()) -> list[str]:
    """The command line that runs ``argv`` in a fresh sandbox whose ``gancourse`` is ``package_source``."""
    binds = _ro_binds(package_source)
    if os.geteuid() != 0:
        return [*_inner(binds, limits, same_paths=False), "--", *argv]
    nobody = _nobody()
    outer = [_bwrap(), "--die-with-parent", "--unshare-net", "--cap-drop", "ALL", "--cap-add", "CAP_SETUID",
             "--cap-add", "CAP_SETGID", "--tmpfs", "/tmp", *_view(binds, same_paths=False), "--dev-bind", "/proc", "/proc",
             "--dev", "/dev"]
    drop = [shutil.which("setpriv") or "setpriv", f"--reuid={nobody}", f"--regid={nobody}", "--clear-groups"]
    return [*outer, "--", *drop, "--", *_inner(binds, limits, same_paths=True), "--", *argv]


def _nobody() -> int:
    try:
        return pwd.getpwnam("nobody").pw_uid
    except KeyError:
        return 65534


def _bwrap() -> str:
    return shutil.which("bwrap") or "bwrap"


@functools.lru_cache(maxsize=None)
def unavailable() -> str | None:
    """None when a sandbox can be made here, else one line saying why not and what to do."""
    if not sys.platform.startswith("linux"):
        return f"no sandbox on {sys.platform}: grading untrusted notebooks needs Linux with bubblewrap; {INSTALL}"
    if not shutil.which("bwrap"):
        return f"no sandbox: bwrap is not installed; {INSTALL}"
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        return f"no sandbox: setpriv (util-linux) is needed to drop root in the sandbox; {INSTALL}"
    version = subprocess.run([_bwrap(), "--version"], capture_output=True, text=True).stdout
    found = tuple(int(n) for n in re.findall(r"\d+", version)[:2])
    if found < (0, 8):
        return f"no sandbox: {version.strip() or 'bwrap'} is older than 0.8; {INSTALL}"
    probe = subprocess.run(command([PYTHON, "-c", "import gancourse.grading.worker"]),
                           capture_output=True, text=True, timeout=120)
    if probe.returncode != 0:
        why = (probe.stderr.strip().splitlines() or ["exit code %d" % probe.returncode])[-1]
        return f"no sandbox: bwrap cannot start one here ({why}); {INSTALL}"
    return None
