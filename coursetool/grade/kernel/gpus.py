"""One GPU per kernel in full mode: which GPUs a machine has, and which one a kernel may take.

A machine's GPUs are those its ``CUDA_VISIBLE_DEVICES`` lists (as SLURM and Kubernetes' device
plugin set it), else one per ``/dev/nvidiaN`` node. A GPU is taken by holding an exclusive lock
on its lock file: the grading processes and threads of one machine (a process pool, several
Dask workers) never hand the same GPU to two kernels at once, and a process that dies frees
its GPU with it. The kernel gets the GPU's id in ``CUDA_VISIBLE_DEVICES`` and, in the sandbox,
the NVIDIA device nodes; a kernel without a GPU gets no device node at all.
"""
from __future__ import annotations

import fcntl
import os
import re
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from coursetool.grade.settings import Settings

GPU_NODE = re.compile(r"nvidia\d+")
LOCK_FOLDER = Path(tempfile.gettempdir()) / f"coursetool-gpu-locks-{os.getuid()}"


def visible_gpus(environ: Mapping[str, str] = os.environ, dev: Path = Path("/dev")) -> list[str]:
    """The ids of the GPUs this machine may hand out, as ``CUDA_VISIBLE_DEVICES`` names them."""
    listed = environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [gpu.strip() for gpu in listed.split(",") if gpu.strip() and not gpu.strip().startswith("-")]
    if not dev.is_dir():
        return []
    return [str(index) for index in range(sum(1 for node in dev.iterdir() if GPU_NODE.fullmatch(node.name)))]


def device_nodes(dev: Path = Path("/dev")) -> tuple[Path, ...]:
    """The NVIDIA device nodes a CUDA program opens: control, unified memory, the GPUs, capabilities."""
    return tuple(sorted(dev.glob("nvidia*")))


class GpuSlots:
    """Hands each of ``gpus`` to one holder at a time, across the processes and threads of a machine."""

    def __init__(self, gpus: Sequence[str], folder: Path = LOCK_FOLDER, poll_seconds: float = 1.0):
        self.gpus = list(gpus)
        self.folder = folder
        self.poll_seconds = poll_seconds

    def lock_file(self, gpu: str) -> Path:
        return self.folder / (re.sub(r"[^A-Za-z0-9._-]", "_", gpu) + ".lock")

    def try_take(self) -> tuple[str, IO[str]] | None:
        """A free GPU and the open lock that holds it (close it to free the GPU), or None if all are taken."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for gpu in self.gpus:
            handle = open(self.lock_file(gpu), "a")  # noqa: SIM115 - held open for as long as the GPU is taken
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            return gpu, handle
        return None

    @contextmanager
    def take(self) -> Iterator[str]:
        """Wait for a free GPU and hold it until the block ends."""
        while (taken := self.try_take()) is None:
            time.sleep(self.poll_seconds)
        gpu, handle = taken
        try:
            yield gpu
        finally:
            handle.close()


@contextmanager
def gpu_for(settings: Settings, slots: GpuSlots | None = None) -> Iterator[Settings]:
    """The settings one kernel runs with: in full mode, on a machine with GPUs, one GPU of its own.

    Waits while every GPU is taken. Quick mode and machines without GPUs keep ``settings``.
    """
    slots = slots or GpuSlots(visible_gpus())
    if settings.quick or not slots.gpus:
        yield settings
        return
    with slots.take() as gpu:
        yield replace(settings, gpu=gpu)
