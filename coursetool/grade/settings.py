"""What a grading run needs to know, fixed once per run, and what one kernel run is given."""
from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"  # figures become cell outputs, as in Jupyter


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


@dataclass(frozen=True)
class Settings:
    """A grading run: which lab, where results go, how kernels run.

    No kernel may read the submissions, the autograder folder, the course's solutions and
    sources, or the ``hidden_paths`` (``--hide``), even where they lie inside an allowed path.
    """

    lab: str
    autograder: Path
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

    @property
    def source_dir(self) -> Path:
        return self.autograder / "source" / self.lab

    @property
    def source_notebook(self) -> Path:
        return self.source_dir / f"{self.lab}.ipynb"

    @property
    def results_dir(self) -> Path:
        return self.autograder / "results" / self.lab

    @property
    def gradebook_url(self) -> str:
        return f"sqlite:///{(self.autograder / 'gradebook.db').resolve()}"

    def autograded_notebook(self, student: str) -> Path:
        return self.autograder / "autograded" / student / self.lab / f"{self.lab}.ipynb"

    def submitted_notebook(self, student: str) -> Path:
        return self.autograder / "submitted" / student / self.lab / f"{self.lab}.ipynb"

    def feedback_file(self, student: str) -> Path:
        return self.autograder / "feedback" / student / self.lab / f"{self.lab}.html"

    def all_hidden(self) -> tuple[Path, ...]:
        """The autograder folder, the course's solutions, sources and history, the submissions, the extra hidden paths."""
        course = self.autograder.resolve().parent
        around = [course / name for name in ("solutions", "source", ".git")]
        submissions = [self.submissions] if self.submissions else []
        return tuple(dict.fromkeys([self.autograder.resolve(), *around, *submissions, *self.hidden_paths]))

    def run_spec(self, skip: frozenset[str] = frozenset()) -> RunSpec:
        from coursetool.grade.kernel.gpus import device_nodes
        from coursetool.grade.kernel.sandbox import readable_paths

        readable = readable_paths(self.data_root) if self.sandbox else ()
        devices = device_nodes() if self.gpu is not None else ()
        return RunSpec(self.limits, kernel_environment(self), self.sandbox, readable, self.all_hidden(),
                       self.threads_per_kernel, skip, devices, self.warm and not devices)

    def grading_key(self) -> str:
        """Hash of everything besides the submission that can change a grade or what a kernel sees."""
        spec = replace(self, gpu=None).run_spec()  # which GPU a kernel gets changes no grade
        described = {
            "source": hashlib.sha256(self.source_notebook.read_bytes()).hexdigest(),
            "limits": asdict(self.limits),
            "quick": self.quick,
            "data_root": str(self.data_root),
            "sandbox": self.sandbox,
            "readable": sorted(map(str, spec.readable)),
            "hidden": sorted(map(str, self.hidden_paths)),  # not the submissions: a class may be handed in anew
            "env": spec.env,
        }
        return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


def kernel_environment(settings: Settings) -> dict[str, str]:
    """The kernel's environment, nothing of the grader's own; the runner adds the scratch folder's paths."""
    threads = str(settings.threads_per_kernel)
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "MPLBACKEND": INLINE_BACKEND,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "NBGRADER_EXECUTION": "autograde",
        "VAELAB_OFFLINE": "1",
        "VAELAB_PROGRESS": "plain",  # no front end shows live bars: one final line per epoch
    }
    if settings.quick:
        env["VAELAB_QUICK"] = "1"
    if settings.data_root:
        env["VAELAB_DATA"] = str(settings.data_root)
    if settings.gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = settings.gpu
    return env


def default_data_root() -> Path | None:
    """``$VAELAB_DATA``, else the helpers' default folder where it exists."""
    if os.environ.get("VAELAB_DATA"):
        return Path(os.environ["VAELAB_DATA"]).resolve()
    default = Path.home() / ".cache" / "vaelab" / "data"
    return default if default.exists() else None
