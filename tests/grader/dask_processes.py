"""A real Dask cluster on this machine: ``dask scheduler`` and ``dask worker`` as separate processes.

For the cluster tests and the grading benchmark. Every process runs in its own session, so
that killing one kills its nanny, worker and kernels together; ``stop`` always ends them all.
With ``hidden`` folders (bwrap needed) each worker sees them empty, and writable for itself
alone, as a worker on another machine would: the tests hide the temporary folder and pytest's,
where the client's course folder, staging folder and submissions lie.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from coursetool.grade.kernel.sandbox import bwrap_command

REPO = Path(__file__).resolve().parents[2]
DASK = str(Path(sys.executable).parent / "dask")
START_SECONDS = 120


def wait_until(ready: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {seconds:g} s")
        time.sleep(0.2)


@dataclass
class LocalDask:
    """A scheduler on a free local port and its workers, one single-threaded worker process each."""

    folder: Path
    hidden: tuple[Path, ...] = ()
    scheduler: subprocess.Popen | None = None
    workers: list[subprocess.Popen] = field(default_factory=list)
    address: str = ""

    def launch(self, command: list[str], log: str) -> subprocess.Popen:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with open(self.folder / log, "ab") as output:
            return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    cwd=self.folder, env=env, start_new_session=True)

    def start(self, workers: int) -> LocalDask:
        """Start the scheduler and ``workers`` workers; return once all have joined."""
        scheduler_file = self.folder / "scheduler.json"
        self.scheduler = self.launch([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                      "--scheduler-file", str(scheduler_file)], log="scheduler.log")
        wait_until(scheduler_file.exists, START_SECONDS, "the Dask scheduler")
        self.address = json.loads(scheduler_file.read_text())["address"]
        for number in range(workers):
            self.add_worker(number)
        wait_until(lambda: self.worker_count() == workers, START_SECONDS, f"{workers} Dask worker(s)")
        return self

    def add_worker(self, number: int) -> None:
        worker = [DASK, "worker", self.address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                  "--host", "127.0.0.1", "--name", f"worker-{number}"]
        self.workers.append(self.launch(self.isolation() + worker, log=f"worker-{number}.log"))

    def isolation(self) -> list[str]:
        """bwrap showing the whole machine but an empty folder of its own in place of each hidden one."""
        if not self.hidden:
            return []
        empty = [arg for path in sorted(self.hidden, key=lambda p: len(p.parts)) for arg in ("--tmpfs", str(path))]
        return [bwrap_command(), "--dev-bind", "/", "/", *empty, "--chdir", "/", "--die-with-parent", "--"]

    def worker_count(self) -> int:
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            return len(client.nthreads())

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL a process with everything it started in its session."""
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)

    def stop(self) -> None:
        for process in [*self.workers, *([self.scheduler] if self.scheduler else [])]:
            self.kill(process)
