"""What each student's grading left, one JSON file per student, so that a re-run grades only what changed.

A state is written after the student's files and gradebook entry: a run killed half-way
resumes where it stopped and ends with the same grades.
"""
from __future__ import annotations

import json
from pathlib import Path

from coursetool.grade.atomic import write_atomically
from coursetool.grade.intake.submissions import Submission
from coursetool.grade.result import Status, SubmissionResult


class StateStore:
    """One JSON file per student: the result and the keys it was computed from."""

    def __init__(self, folder: Path, grading_key: str):
        self.folder = folder
        self.grading_key = grading_key

    def path(self, student: str) -> Path:
        return self.folder / f"{student}.json"

    def needs_grading(self, submission: Submission) -> bool:
        """No result for this notebook and these settings, or one the grader itself failed to compute."""
        saved = self.load(submission)
        return saved is None or saved.status is Status.GRADER_ERROR

    def load(self, submission: Submission) -> SubmissionResult | None:
        """The saved result if it was computed from this very notebook and these settings."""
        try:
            saved = json.loads(self.path(submission.student).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if saved.get("grading_key") != self.grading_key or saved["result"]["key"] != submission.key:
            return None
        return SubmissionResult.from_dict(saved["result"])

    def save(self, result: SubmissionResult) -> None:
        state = {"grading_key": self.grading_key, "result": result.to_dict()}
        write_atomically(self.path(result.student), json.dumps(state, indent=1, sort_keys=True).encode())

    def clear(self) -> None:
        for path in self.folder.glob("*.json"):
            path.unlink()
