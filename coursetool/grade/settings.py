"""What a grading run needs to know, fixed once per run, and what one kernel run is given."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from coursetool.grade.folders import AutograderFolders


@dataclass(frozen=True)
class Limits:
    """Per-kernel limits: seconds per cell, seconds per notebook, memory in MiB, output in chars, processes
    and threads together."""

    cell_timeout: float = 120.0
    notebook_timeout: float = 600.0
    memory_mb: int = 3072
    output_chars: int = 1_000_000
    notebook_output_chars: int = 20_000_000
    processes: int = 512


@dataclass(frozen=True)
class RunSpec:
    """How one notebook runs: its limits and environment, what its sandbox shows, which cells it skips.

    ``readable`` is the sandbox's allow-list (read-only); ``hidden`` paths are emptied even where
    they lie inside a readable one. ``sandbox`` False runs the kernel as a plain process.
    """

    limits: Limits
    env: dict[str, str]
    sandbox: bool
    readable: tuple[Path, ...] = ()
    hidden: tuple[Path, ...] = ()
    threads: int = 1
    skip: frozenset[str] = frozenset()  # ids of cells not to run
    devices: tuple[Path, ...] = ()  # device nodes the sandbox shows (a GPU's)
    warm: bool = True  # fork the kernel from a server that has imported the lab's modules (never with a GPU)
    probe_seed: int = 0  # every generator is seeded with it for each probe; the kernel sees it only with the probe
    compare_seeds: bool = False  # reference runs: evaluate each probe under a second seed too (the course check)


@dataclass(frozen=True)
class Settings(AutograderFolders):
    """A grading run: which lab, where results go (``lab`` and ``autograder``, with the folders under it), how
    kernels run.

    No kernel may read the submissions, the autograder folder, the course's solutions and
    sources, or the ``hidden_paths`` (``--hide``), even where they lie inside an allowed path.
    """

    limits: Limits = field(default_factory=Limits)
    jobs: int = 1
    threads_per_kernel: int = 1
    quick: bool = True
    data_root: Path | None = None
    sandbox: bool = True
    hidden_paths: tuple[Path, ...] = ()
    submissions: Path | None = None
    gpu: str | None = None  # the GPU one kernel may use (CUDA_VISIBLE_DEVICES), given per submission in full mode
    warm: bool = True  # kernels forked from a server that has imported the lab's modules
    probe_seed: int = 0  # drawn for each grading run (never part of the grading key); the reference uses it too

    def all_hidden(self) -> tuple[Path, ...]:
        """The autograder folder, the course's solutions, sources and history, the submissions, the extra hidden paths."""
        course = self.autograder.resolve().parent
        around = [course / name for name in ("solutions", "source", ".git")]
        submissions = [self.submissions] if self.submissions else []
        return tuple(dict.fromkeys([self.autograder.resolve(), *around, *submissions, *self.hidden_paths]))


def default_data_root() -> Path | None:
    """``$VAELAB_DATA``, else the helpers' default folder where it exists."""
    if os.environ.get("VAELAB_DATA"):
        return Path(os.environ["VAELAB_DATA"]).resolve()
    default = Path.home() / ".cache" / "vaelab" / "data"
    return default if default.exists() else None
