"""The nbgrader gradebook: the lab's cells once per run, then one student at a time from one process.

nbgrader's gradebook and preprocessors (with SQLAlchemy: a second to import) are imported where
they are first used, after a run has started its kernels.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from traitlets.config.loader import PyFileConfigLoader

from coursetool.grade.lab import AutograderLab
from coursetool.grade.intake.late import Lateness, penalty
from coursetool.grade.result import SubmissionResult
from coursetool.grade.intake.submissions import Submission

if TYPE_CHECKING:
    from nbgrader.api import Gradebook


def course_id(autograder: Path) -> str:
    """The course id the build wrote into nbgrader_config.py, as formgrader will read it."""
    config_file = autograder / "nbgrader_config.py"
    if not config_file.exists():
        return "default_course"
    config = PyFileConfigLoader(config_file.name, path=str(autograder)).load_config()
    return config.CourseDirectory.get("course_id", "default_course")


@contextmanager
def open_gradebook(url: str, course: str) -> Iterator[Gradebook]:
    """nbgrader's gradebook at ``url``, closed afterwards."""
    from nbgrader.api import Gradebook

    with Gradebook(url, course) as gradebook:
        yield gradebook


def assignment_notebook(lab: AutograderLab) -> nbformat.NotebookNode:
    """The notebook as ``nbgrader generate_assignment`` saves it: locked, solutions stubbed, checksums set.

    Hidden tests stay in: generate_assignment removes them only after saving the cells.
    """
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, ClearSolutions, ComputeChecksums, LockCells

    nb, resources = nbformat.from_dict(lab.notebook), {}
    # generate_assignment's steps before SaveCells (header, footer and AUTOTEST cells are not used here)
    for step in (LockCells, ClearSolutions, ClearOutput, CheckCellMetadata, ComputeChecksums):
        nb, resources = step().preprocess(nb, resources)
    return nb


def prepare_lab(url: str, course: str, lab: AutograderLab) -> None:
    """Create the assignment and save its cells exactly as generate_assignment does."""
    from nbgrader.preprocessors import SaveCells

    with open_gradebook(url, course) as gradebook:
        gradebook.update_or_create_assignment(lab.name)
    resources = {"nbgrader": {"notebook": lab.name, "assignment": lab.name, "db_url": url}}
    SaveCells().preprocess(assignment_notebook(lab), resources)


def record(gradebook: Gradebook, lab: AutograderLab, result: SubmissionResult) -> None:
    """Save one student's automatic scores, keeping any manual score a grader gave (as SaveAutoGrades)."""
    from sqlalchemy.exc import SAWarning

    gradebook.update_or_create_student(result.student)
    with warnings.catch_warnings():
        # nbgrader's add_submission trips SQLAlchemy 2's autoflush warnings; the rows are written correctly
        warnings.filterwarnings("ignore", category=SAWarning)
        gradebook.update_or_create_submission(lab.name, result.student)
    for test in lab.tests:
        grade = gradebook.find_grade(test.grade_id, lab.name, lab.name, result.student)
        grade.auto_score = result.scores.get(test.grade_id, 0.0)
        grade.needs_manual_grade = grade.manual_score is not None
    for answer in lab.answers:
        answered = result.answered.get(answer.grade_id, False)
        grade = gradebook.find_grade(answer.grade_id, lab.name, lab.name, result.student)
        grade.auto_score = None if answered else 0.0
        grade.needs_manual_grade = answered or grade.manual_score is not None
        comment = gradebook.find_comment(answer.grade_id, lab.name, lab.name, result.student)
        comment.auto_comment = None if answered else "No response."
    gradebook.db.commit()


def cell_scores(gradebook: Gradebook, lab: AutograderLab, student: str) -> dict[str, float | None]:
    """Every graded cell's score: a grader's manual score where given, else the automatic one (None: pending)."""
    scores: dict[str, float | None] = {}
    for cell in lab.tests + lab.answers:
        grade = gradebook.find_grade(cell.grade_id, lab.name, lab.name, student)
        scores[cell.grade_id] = grade.manual_score if grade.manual_score is not None else grade.auto_score
    return scores


def due_date(url: str, course: str, lab: str, due: datetime | None = None) -> datetime | None:
    """The assignment's due date (naive UTC), after setting it to ``due`` when given."""
    with open_gradebook(url, course) as gradebook:
        if due is not None:
            gradebook.update_or_create_assignment(lab, duedate=due)
        return gradebook.find_assignment(lab).duedate


def record_lateness(gradebook: Gradebook, lab: AutograderLab, submission: Submission, method: str,
                    score: float) -> tuple[Lateness, float | None]:
    """Save the submission time and the late penalty, as nbgrader's autograde and AssignLatePenalties do."""
    submitted = gradebook.find_submission(lab.name, submission.student)
    submitted.timestamp = submission.submitted
    lateness = Lateness(submitted.total_seconds_late, submission.late_per_lms and submission.submitted is None)
    points = penalty(method, score, lateness)
    gradebook.find_submission_notebook(lab.name, lab.name, submission.student).late_submission_penalty = points
    gradebook.db.commit()
    return lateness, points
