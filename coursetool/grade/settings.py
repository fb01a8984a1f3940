"""What a grading run needs to know, fixed once per run."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Limits:
    """Per-kernel limits: seconds per cell, seconds per notebook, memory in MiB, output in chars."""

    cell_timeout: float = 120.0
    notebook_timeout: float = 600.0
    memory_mb: int = 3072
    output_chars: int = 1_000_000


@dataclass(frozen=True)
class Settings:
    """A grading run: which lab, where results go, how kernels run."""

    lab: str
    autograder: Path
    limits: Limits = field(default_factory=Limits)
    jobs: int = 1
    threads_per_kernel: int = 1
    quick: bool = True
    data_root: Path | None = None
    sandbox: bool = True
    hidden_paths: tuple[Path, ...] = ()

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

    def grading_key(self) -> str:
        """Hash of everything besides the submission that changes a grade."""
        described = {
            "source": hashlib.sha256(self.source_notebook.read_bytes()).hexdigest(),
            "limits": asdict(self.limits),
            "quick": self.quick,
            "data_root": str(self.data_root),
        }
        return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()
