"""How a submission's kernel is started: inside bubblewrap when it works, with limits always.

With bwrap the kernel sees the whole file system read-only, an empty read-only ``/tmp``, no
network, and empty folders in place of the hidden paths (solutions, lab sources, the
autograder folder, the submissions); only its scratch folder is writable. Without bwrap it
runs as a plain process. In both cases the memory (RLIMIT_DATA) and CPU time limits apply,
the kernel dies with the process that grades it, and it gets a minimal environment.
"""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import List, Unicode

from coursetool.grade.settings import Settings

LIMITS_LAUNCHER = """\
import ctypes, os, resource, signal, sys
memory, cpu_seconds = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the grading process
os.execvp(sys.argv[3], sys.argv[3:])
"""


@lru_cache(maxsize=1)
def bwrap_works() -> bool:
    """bwrap is installed and may create the namespaces the sandbox needs."""
    if shutil.which("bwrap") is None:
        return False
    probe = ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--tmpfs", "/tmp", "true"]
    return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0


def bwrap_prefix(scratch: Path, runtime: Path, hidden: Iterable[Path], readable: Iterable[Path]) -> list[str]:
    """bwrap arguments: read-only root and /tmp, no network, hidden paths emptied, two writable folders.

    Readable paths are bound after /tmp is emptied (the Python environment may live there) and
    before the hidden paths, so that nothing hidden inside them becomes visible again.
    """
    args = ["bwrap", "--die-with-parent", "--new-session", "--unshare-all",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/dev/shm"]
    for path in readable:
        args += ["--ro-bind-try", str(path), str(path)]
    for path in hidden:
        if path.is_dir():
            args += ["--tmpfs", str(path)]
        elif path.exists():
            args += ["--ro-bind", "/dev/null", str(path)]
    args += ["--bind", str(scratch), str(scratch), "--bind", str(runtime), str(runtime), "--remount-ro", "/tmp",
             "--chdir", str(scratch)]
    return args + ["--"]


def python_paths() -> list[Path]:
    """What the kernel's Python needs to read: its environment, its import path, the course helpers."""
    paths = {Path(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    paths |= {Path(p) for p in sys.path if p and Path(p).is_dir()}
    helpers = importlib.util.find_spec("vaelab")
    if helpers is not None and helpers.origin:
        paths.add(Path(helpers.origin).resolve().parents[1])
    return sorted(p.resolve() for p in paths)


def limits_prefix(settings: Settings) -> list[str]:
    """A tiny launcher that sets the memory and CPU limits, then becomes the next command."""
    limits = settings.limits
    memory = limits.memory_mb * 1024 * 1024
    cpu_seconds = int(limits.notebook_timeout * max(1, settings.threads_per_kernel)) + 60
    return [sys.executable, "-I", "-S", "-c", LIMITS_LAUNCHER, str(memory), str(cpu_seconds)]


def hidden_paths(settings: Settings, submissions: Path) -> list[Path]:
    """What the kernel must not read: the autograder folder, solutions, lab sources, history, submissions."""
    course = settings.autograder.resolve().parent
    around = [course / name for name in ("solutions", "source", ".git")]
    return [settings.autograder.resolve(), submissions.resolve(), *around, *settings.hidden_paths]


def launch_prefix(settings: Settings, submissions: Path, scratch: Path, runtime: Path) -> list[str]:
    """Everything before the kernel command."""
    prefix = limits_prefix(settings)
    if settings.sandbox:
        readable = python_paths() + ([settings.data_root] if settings.data_root else [])
        prefix += bwrap_prefix(scratch, runtime, hidden_paths(settings, submissions), readable)
    return prefix


def kernel_environment(settings: Settings, scratch: Path) -> dict[str, str]:
    """The kernel's whole environment: nothing of the grader's own besides these settings."""
    threads = str(settings.threads_per_kernel)
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(scratch / ".matplotlib"),
        "IPYTHONDIR": str(scratch / ".ipython"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "NBGRADER_EXECUTION": "autograde",
        "VAELAB_OFFLINE": "1",
    }
    if settings.quick:
        env["VAELAB_QUICK"] = "1"
    if settings.data_root:
        env["VAELAB_DATA"] = str(settings.data_root)
    return env


class SandboxedKernelManager(AsyncKernelManager):
    """An IPython kernel of this Python, started behind ``launch_prefix``, talking over Unix sockets."""

    launch_prefix = List(Unicode())

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        # no parent poller: in the sandbox's pid namespace the parent looks gone; death is handled by the launcher
        kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file, "--IPKernelApp.parent_handle=0"]
        return [*self.launch_prefix, *kernel, *(extra_arguments or [])]
