"""Where a lab's files lie in the autograder folder, laid out as nbgrader lays out a course."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AutograderFolders:
    """One lab in an autograder folder: its source notebook, the class's results, and per student the submitted and
    autograded notebooks and the feedback page."""

    lab: str
    autograder: Path

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
