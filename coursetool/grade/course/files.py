"""A student's files where nbgrader keeps them: the notebook as submitted, the autograded notebook, the feedback."""
from __future__ import annotations

import shutil

import nbformat

from coursetool.grade.atomic import write_atomically
from coursetool.grade.course import gradebook as book
from coursetool.grade.intake.submissions import Submission
from coursetool.grade.lab import AutograderLab
from coursetool.grade.notebook.feedback import write_feedback
from coursetool.grade.result import Outcome
from coursetool.grade.settings import Settings


def write_files(submission: Submission, outcome: Outcome, settings: Settings) -> None:
    """Where nbgrader keeps them: the notebook as submitted, the autograded notebook (if any), the feedback."""
    submitted = settings.submitted_notebook(submission.student)
    if submission.notebook is not None:
        submitted.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(submission.notebook, submitted)
    autograded = settings.autograded_notebook(submission.student)
    if outcome.autograded is None:
        autograded.unlink(missing_ok=True)
    else:
        write_atomically(autograded, outcome.autograded)
    write_atomically(settings.feedback_file(submission.student), outcome.feedback)


def refresh_feedback(settings: Settings, lab: AutograderLab, students: list[str], course: str) -> int:
    """Render feedback again from the autograded notebooks with the gradebook's scores and comments.

    For after written answers were graded in formgrader: the pages then show the manual scores
    and comments. No notebook runs again. Returns how many pages were written.
    """
    written = 0
    with book.open_gradebook(settings.gradebook_url, course) as gradebook:
        for student in students:
            path = settings.autograded_notebook(student)
            if not path.exists():
                continue  # rejected: its page gives the reason
            nb = nbformat.read(path, as_version=4)
            comments = {c.grade_id: gradebook.find_comment(c.grade_id, lab.name, lab.name, student).comment
                        for c in lab.answers}  # nbgrader keeps comments on answer cells only
            write_feedback(nb, lab, book.cell_scores(gradebook, lab, student), comments, settings.feedback_file(student))
            written += 1
    return written
