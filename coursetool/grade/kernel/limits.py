"""Per-kernel limits: memory, processes, CPU, death with the grader; set by a launcher before the kernel starts.

The launcher runs as ``python -I -S kernel_limits.py MEMORY_BYTES CPU_SECONDS PROCESSES GROUPS
COMMAND...`` and then becomes ``COMMAND`` (bwrap, or the kernel itself). ``GROUPS`` is a JSON
object naming, per cgroup controller, the folder under which the kernel gets a group of its own
(``-``: none). It uses the standard library only.

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

Where the grader may create them, two more groups of its own keep one kernel from harming the
others: a ``pids`` group caps its processes and threads together (``pids.max``: a fork bomb
gets ``BlockingIOError`` instead of filling the machine's process table), and a ``cpu`` group
of the default weight gives it the same share of a busy machine as every other kernel, however
many threads or processes it runs.
"""
from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

GROUP_PREFIX = "coursetool-kernel-"
CONTROLLERS = ("memory", "pids", "cpu")
PR_SET_PDEATHSIG = 1
PROBE_LIMIT = 48 * 2**20
PROBE_TOUCH = 256 * 2**20
PROBE_PROCESSES = 16
PROBES = {  # code that a group of the controller must stop, under PROBE_LIMIT bytes and PROBE_PROCESSES tasks
    "memory": f"""\
import mmap
area = mmap.mmap(-1, {PROBE_TOUCH}, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
for offset in range(0, {PROBE_TOUCH}, mmap.PAGESIZE):
    area[offset] = 1
""",
    "pids": f"""\
import os, signal, sys, time
children = []
try:
    for _ in range({2 * PROBE_PROCESSES}):
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        children.append(pid)
except OSError:
    sys.exit(3)
finally:
    for pid in children:
        os.kill(pid, signal.SIGKILL)
""",
    "cpu": "pass",
}
STOPPED = {"memory": -signal.SIGKILL, "pids": 3, "cpu": 0}  # how each probe ends where its group works


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
    """This process's cgroup path per hierarchy: ``"v2"`` for the unified one, each v1 controller by name."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            paths["v2"] = path
        for controller in controllers.split(","):
            if controller in CONTROLLERS:
                paths[controller] = path
    return paths


def inside(mount_root: str, mount_point: Path, path: str) -> Path | None:
    """Where the cgroup ``path`` lies in a mount that shows ``mount_root``, if it shows it."""
    if path != mount_root and not path.startswith(mount_root.rstrip("/") + "/"):
        return None
    folder = mount_point / path[len(mount_root):].lstrip("/")
    return folder if folder.is_dir() else None


def own_cgroups(controller: str) -> list[Path]:
    """This process's own cgroup folders that have ``controller``: cgroup v2 first, then v1."""
    paths = memberships()
    folders = []
    for kind, root, point, options in mounts():
        if kind == "cgroup2" and "v2" in paths:
            folder = inside(root, point, paths["v2"])
            if folder and controller in (folder / "cgroup.controllers").read_text().split():
                folders.insert(0, folder)
        elif kind == "cgroup" and controller in options and controller in paths:
            folder = inside(root, point, paths[controller])
            if folder:
                folders.append(folder)
    return folders


def delegate(folder: Path, controller: str) -> bool:
    """cgroup v2: let child groups of ``folder`` use ``controller`` (refused where it holds processes)."""
    control = folder / "cgroup.subtree_control"
    if not control.exists() or controller in control.read_text().split():
        return True
    try:
        control.write_text(f"+{controller}")
    except OSError:
        return False
    return True


def enforces(parent: Path, controller: str) -> bool:
    """Whether a kernel group under ``parent`` really holds: the controller's probe must be stopped."""
    probe = [sys.executable, "-I", "-S", __file__, str(PROBE_LIMIT), "30", str(PROBE_PROCESSES),
             json.dumps({controller: str(parent)}), sys.executable, "-I", "-S", "-c", PROBES[controller]]
    try:
        finished = subprocess.run(probe, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return False
    finally:
        remove_finished_groups(parent)
    return finished.returncode == STOPPED[controller]


@lru_cache(maxsize=1)
def group_parents() -> dict[str, Path]:
    """Per controller, the cgroup folder under which each kernel gets a group of its own; none where none works."""
    parents = {}
    for controller in CONTROLLERS:
        try:
            folders = own_cgroups(controller)
        except OSError:  # no /proc, or a cgroup file system that cannot be read
            continue
        found = next((folder for folder in folders if os.access(folder, os.W_OK) and delegate(folder, controller)
                      and enforces(folder, controller)), None)
        if found is not None:
            parents[controller] = found
    return parents


def groups_argument(parents: dict[str, Path]) -> str:
    """``parents`` as the launcher's GROUPS argument."""
    return json.dumps({controller: str(folder) for controller, folder in parents.items()}) if parents else "-"


def limits_not_held(parents: dict[str, Path]) -> list[str]:
    """The limits that hold only with a group of their own and have none here, in words for the person grading."""
    missing = {
        "memory": "the memory limit is RLIMIT_DATA only (no memory cgroup can be created here): shared memory is "
                  "not bounded",
        "pids": "no pids cgroup can be created here: a kernel's processes and threads are not counted, and a fork "
                "bomb can fill the machine's process table",
        "cpu": "no cpu cgroup can be created here: a kernel with many threads or processes takes more than its "
               "share of the processors",
    }
    return [text for controller, text in missing.items() if controller not in parents]


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


def group_of(parent: Path, owner_pid: int) -> Path:
    """The group the launcher (or warm kernel client) with ``owner_pid`` made under ``parent``."""
    return parent / f"{GROUP_PREFIX}{owner_pid}"


def group_usage(group: Path) -> int:
    """Bytes charged to the group now, in whichever cgroup version it is."""
    for name in ("memory.current", "memory.usage_in_bytes"):
        if (group / name).exists():
            return int((group / name).read_text())
    raise OSError(f"no memory controller in {group}")


def place_in_new_groups(parents: dict[str, str], owner_pid: int, member_pid: int, memory: int, processes: int) -> None:
    """Put ``member_pid`` in groups of its own, named after ``owner_pid``: one per folder of ``parents``
    (cgroup v2 has one folder for every controller, v1 one per controller), each with its limits."""
    by_folder: dict[str, list[str]] = {}
    for controller, folder in parents.items():
        by_folder.setdefault(folder, []).append(controller)
    for folder, controllers in by_folder.items():
        remove_finished_groups(Path(folder))
        group = group_of(Path(folder), owner_pid)
        group.mkdir(exist_ok=True)
        if "memory" in controllers:
            set_group_limit(group, memory)
        if "pids" in controllers:
            (group / "pids.max").write_text(str(processes))
        (group / "cgroup.procs").write_text(str(member_pid))


def launch(memory: int, cpu_seconds: int, processes: int, groups: str, command: list[str]) -> None:
    """Apply the limits, then become ``command``."""
    if groups != "-":
        place_in_new_groups(json.loads(groups), os.getpid(), os.getpid(), memory, processes)
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # die with the grading process
    os.execvp(command[0], command)


if __name__ == "__main__":
    launch(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5:])
