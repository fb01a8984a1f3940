"""The grader's side of warm kernels: one fork server per kind of kernel, shared by a grading run's workers.

A server starts behind the same limits launcher and sandbox as a kernel (with its
capabilities kept inside, so that each kernel it forks can make its own view), imports the
lab's modules, and then forks kernels (``forkserver``). Each kernel gets groups of its own,
memory, pids and cpu, where they can be made (what it allocates is its own; the pages it shares
with the server stay the server's) and ``RLIMIT_DATA``. Every kernel's folder lies under the server's marked folder; each kernel sees
its own folder there and nothing else of it.

A run starts its server before it forks its worker processes, which use it as their own.
"""
from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

from coursetool.grade.kernel import forkserver, limits as kernel_limits, workdirs
from coursetool.grade.kernel.sandbox import bwrap_prefix, cpu_seconds, limits_prefix
from coursetool.grade.settings import RunSpec

IMPORT_ALLOWANCE = 8 * 2**30  # the server's limit while it imports; then what it holds and KEEPERS_ALLOWANCE
KEEPERS_ALLOWANCE = 2**30  # what the server's forks allocate before they are moved to their kernel's group
READY_SECONDS = 180.0
MOST_SERVERS = 3  # per process; starting another stops the one used least recently


class ForkServer:
    """A running fork server and the folder its kernels' folders go in."""

    def __init__(self, spec: RunSpec, modules: list[str]):
        self.spec = spec
        self.owner = os.getpid()
        self.folders = ExitStack()
        self.root = self.folders.enter_context(workdirs.marked_folder("coursetool-warm-"))
        self.address = str(self.root / "server.sock")
        command = limits_prefix(IMPORT_ALLOWANCE, cpu_seconds(spec.limits, spec.threads), spec.limits.processes)
        if spec.sandbox:
            command += bwrap_prefix(spec, (self.root,), capabilities=True)
        command += [sys.executable, "-c", Path(forkserver.__file__).read_text(), "serve", self.address,
                    str(self.root), "1" if spec.sandbox else "0", *modules]
        env = {**spec.env, "HOME": str(self.root), "MPLCONFIGDIR": str(self.root / ".matplotlib")}
        self.process = subprocess.Popen(command, env=env, cwd=self.root, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.ready = False

    def wait_until_ready(self) -> None:
        """Wait for the server's imports (once), then limit its memory group."""
        if self.ready:
            return
        ready, _, _ = select.select([self.process.stdout], [], [], READY_SECONDS)
        if not ready or self.process.stdout.readline().strip() != b"ready":
            self.close()
            raise RuntimeError("the fork server did not start")
        self.limit_memory()
        self.ready = True

    def limit_memory(self) -> None:
        """The server's group: what it holds now, and room for its forks until they move to their own groups."""
        parent = kernel_limits.group_parents().get("memory")
        if parent is not None:
            group = kernel_limits.group_of(parent, self.process.pid)
            kernel_limits.set_group_limit(group, kernel_limits.group_usage(group) + KEEPERS_ALLOWANCE)

    def alive(self) -> bool:
        """The server still runs: not ended, and (seen from a forked worker, which cannot reap it) not a zombie."""
        if self.owner == os.getpid():
            return self.process.poll() is None
        return process_running(self.process.pid) and Path(self.address).exists()

    def client_command(self, folder: Path, scratch: Path, connection_file: Path, env: dict[str, str]) -> list[str]:
        """What the kernel manager starts in place of a kernel: a client asking this server for one."""
        memory = self.spec.limits.memory_mb * 2**20
        request = {"folder": str(folder), "cwd": str(scratch), "connection_file": str(connection_file), "env": env,
                   "memory": memory, "cpu_seconds": cpu_seconds(self.spec.limits, self.spec.threads)}
        return [sys.executable, "-I", "-S", forkserver.__file__, self.address, json.dumps(request),
                kernel_limits.groups_argument(kernel_limits.group_parents()), str(memory), str(self.spec.limits.processes)]

    def close(self) -> None:
        if self.owner != os.getpid():
            return
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        self.folders.close()


def process_running(pid: int) -> bool:
    """``pid`` is a process that has not ended (a zombie has ended: it only waits for its parent to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


_servers: dict[str, ForkServer] = {}
_failed: set[str] = set()  # kinds whose server did not start: their kernels start cold, without trying again
_lock = threading.Lock()


def server_key(spec: RunSpec, modules: list[str]) -> str:
    """What makes kernels of one kind: view, limits, environment, the lab's modules (not the cells to skip)."""
    return json.dumps({**asdict(spec), "skip": None, "modules": modules}, sort_keys=True, default=str)


def fork_server(spec: RunSpec, modules: list[str], wait: bool = True) -> ForkServer:
    """The server for this kind of kernel, started on first use (and again if it died); ``wait``: until it is
    ready. Start it from a thread that lives as long as the server is used: it dies with that thread."""
    key = server_key(spec, modules)
    with _lock:
        if key in _failed:
            raise RuntimeError("the fork server did not start earlier in this run")
        server = _servers.pop(key, None)
        if server is None or not server.alive():
            if server is not None:
                server.close()
            while len(_servers) >= MOST_SERVERS:
                _servers.pop(next(iter(_servers))).close()
            server = ForkServer(spec, modules)
        try:
            if wait:
                server.wait_until_ready()
        except (OSError, RuntimeError):
            _failed.add(key)
            raise
        _servers[key] = server  # the most recently used last
    return server


@atexit.register
def close_all() -> None:
    """Stop the servers this process started (a forked worker leaves its parent's alone); the next kernel of a
    kind starts a new one."""
    with _lock:
        servers = list(_servers.values())
        _servers.clear()
        _failed.clear()
    for server in servers:
        server.close()
