"""Per-kernel limits: memory, CPU time, death with the grader; set by a launcher before the kernel starts.

The launcher runs as ``python -I -S kernel_limits.py MEMORY_BYTES CPU_SECONDS CGROUP_PARENT
COMMAND...`` and then becomes ``COMMAND`` (bwrap, or the kernel itself). It uses the standard
library only.

Memory is bounded twice:

* a memory cgroup of its own (``memory.max`` in cgroup v2, ``memory.limit_in_bytes`` in v1)
  where the grader may create one: the kernel counts every page charged to it and kills the
  biggest process of the group beyond the limit. It holds for every kind of allocation
  (private, shared and file-backed mappings, tmpfs files) and for every process the kernel
  starts, together;
* ``RLIMIT_DATA``, always: an ordinary allocation beyond the limit fails with ``MemoryError``
  and the notebook goes on. It does not count shared mappings, so without a cgroup a shared
  ``mmap`` escapes the limit. ``RLIMIT_AS`` would count them, but PyTorch maps more than 3 GiB
  of libraries before any tensor exists, so it cannot be the limit.
"""
from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

GROUP_PREFIX = "coursetool-kernel-"
PR_SET_PDEATHSIG = 1
PROBE_LIMIT = 48 * 2**20
PROBE_TOUCH = 256 * 2**20
PROBE = f"""\
import mmap
area = mmap.mmap(-1, {PROBE_TOUCH}, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
for offset in range(0, {PROBE_TOUCH}, mmap.PAGESIZE):
    area[offset] = 1
"""


def mounts() -> list[tuple[str, str, Path, set[str]]]:
    """Each mounted cgroup file system: type, the root it shows, where it is mounted, its options."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        tail = fields[fields.index("-") + 1:]
        if tail[0] in ("cgroup", "cgroup2"):
            found.append((tail[0], fields[3], Path(fields[4]), set(tail[2].split(","))))
    return found


def memberships() -> dict[str, str]:
    """This process's cgroup path per hierarchy: ``"v2"`` for the unified one, ``"memory"`` for v1's."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            paths["v2"] = path
        elif "memory" in controllers.split(","):
            paths["memory"] = path
    return paths


def inside(mount_root: str, mount_point: Path, path: str) -> Path | None:
    """Where the cgroup ``path`` lies in a mount that shows ``mount_root``, if it shows it."""
    if path != mount_root and not path.startswith(mount_root.rstrip("/") + "/"):
        return None
    folder = mount_point / path[len(mount_root):].lstrip("/")
    return folder if folder.is_dir() else None


def own_cgroups() -> list[Path]:
    """This process's own cgroup folders that have a memory controller: cgroup v2 first, then v1."""
    paths = memberships()
    folders = []
    for kind, root, point, options in mounts():
        if kind == "cgroup2" and "v2" in paths:
            folder = inside(root, point, paths["v2"])
            if folder and "memory" in (folder / "cgroup.controllers").read_text().split():
                folders.insert(0, folder)
        elif kind == "cgroup" and "memory" in options and "memory" in paths:
            folder = inside(root, point, paths["memory"])
            if folder:
                folders.append(folder)
    return folders


def delegate_memory(folder: Path) -> bool:
    """cgroup v2: let child groups of ``folder`` have memory limits (refused where it holds processes)."""
    control = folder / "cgroup.subtree_control"
    if not control.exists() or "memory" in control.read_text().split():
        return True
    try:
        control.write_text("+memory")
    except OSError:
        return False
    return True


def enforces(parent: Path) -> bool:
    """Whether a kernel group under ``parent`` really stops a process: a shared mapping beyond a small limit must die."""
    probe = [sys.executable, "-I", "-S", __file__, str(PROBE_LIMIT), "30", str(parent), sys.executable, "-I", "-S", "-c", PROBE]
    try:
        finished = subprocess.run(probe, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return False
    finally:
        remove_finished_groups(parent)
    return finished.returncode == -signal.SIGKILL


@lru_cache(maxsize=1)
def cgroup_parent() -> Path | None:
    """The cgroup folder under which each kernel gets a memory group of its own, or None where none works."""
    try:
        folders = own_cgroups()
    except OSError:  # no /proc, or a cgroup file system that cannot be read
        return None
    for folder in folders:
        if os.access(folder, os.W_OK) and delegate_memory(folder) and enforces(folder):
            return folder
    return None


def describe(parent: Path | None) -> str:
    """Which memory limit applies, in words for the person grading."""
    if parent is None:
        return "RLIMIT_DATA only (no memory cgroup can be created here): shared memory is not bounded"
    return f"a memory cgroup per kernel under {parent}, and RLIMIT_DATA"


# --- the launcher: standard library only, runs before the kernel ---


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_finished_groups(parent: Path) -> None:
    """Remove the groups of kernels whose launcher is gone (a group with processes cannot be removed)."""
    for group in parent.glob(f"{GROUP_PREFIX}*"):
        pid = group.name[len(GROUP_PREFIX):]
        if pid.isdigit() and not alive(int(pid)):
            try:
                group.rmdir()
            except OSError:
                pass


def set_group_limit(group: Path, memory: int) -> None:
    """The group's memory limit, swap included, in whichever cgroup version it is."""
    if (group / "memory.max").exists():
        (group / "memory.max").write_text(str(memory))
        if (group / "memory.swap.max").exists():
            (group / "memory.swap.max").write_text("0")
    elif (group / "memory.limit_in_bytes").exists():
        (group / "memory.limit_in_bytes").write_text(str(memory))
        if (group / "memory.memsw.limit_in_bytes").exists():
            (group / "memory.memsw.limit_in_bytes").write_text(str(memory))
    else:
        raise OSError(f"no memory controller in {group}")


def group_of(parent: Path, launcher_pid: int) -> Path:
    """The memory group the launcher with ``launcher_pid`` made."""
    return parent / f"{GROUP_PREFIX}{launcher_pid}"


def group_usage(group: Path) -> int:
    """Bytes charged to the group now, in whichever cgroup version it is."""
    for name in ("memory.current", "memory.usage_in_bytes"):
        if (group / name).exists():
            return int((group / name).read_text())
    raise OSError(f"no memory controller in {group}")


def join_new_group(parent: Path, memory: int) -> None:
    """Put this process in a memory group of its own under ``parent``, limited to ``memory`` bytes."""
    remove_finished_groups(parent)
    group = group_of(parent, os.getpid())
    group.mkdir(exist_ok=True)
    set_group_limit(group, memory)
    (group / "cgroup.procs").write_text(str(os.getpid()))


def launch(memory: int, cpu_seconds: int, parent: str, command: list[str]) -> None:
    """Apply the limits, then become ``command``."""
    if parent != "-":
        join_new_group(Path(parent), memory)
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # die with the grading process
    os.execvp(command[0], command)


if __name__ == "__main__":
    launch(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:])
