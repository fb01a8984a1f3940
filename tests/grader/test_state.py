"""What a re-run reuses: a student's saved result, only for the same notebook and the same grading key (no kernel)."""
from __future__ import annotations

from pathlib import Path

import pytest

from coursetool.grade.course.state import StateStore
from coursetool.grade.intake.submissions import Submission
from coursetool.grade.result import Status, SubmissionResult

KEY = "grading-key-1"


@pytest.fixture
def submission(tmp_path: Path) -> Submission:
    notebook = tmp_path / "handed-in" / "ana.ipynb"
    notebook.parent.mkdir()
    notebook.write_text('{"cells": []}')
    return Submission("ana", notebook)


def result_for(submission: Submission, status: Status = Status.GRADED) -> SubmissionResult:
    return SubmissionResult(submission.student, submission.key, status, "restored t-mean",
                            {"t-square": 2.0, "t-mean": 0.0}, {"q-why": True}, seconds=1.5, flags=["cell 3, line 1: x"])


def test_nothing_saved_means_grade_it(tmp_path: Path, submission: Submission):
    store = StateStore(tmp_path / "state", KEY)
    assert store.load(submission) is None and store.needs_grading(submission)


def test_a_saved_result_comes_back_whole_for_the_same_notebook_and_key(tmp_path: Path, submission: Submission):
    (tmp_path / "state").mkdir()
    store = StateStore(tmp_path / "state", KEY)
    saved = result_for(submission)
    store.save(saved)
    assert store.load(submission) == saved and not store.needs_grading(submission)
    assert [path.name for path in (tmp_path / "state").iterdir()] == ["ana.json"]  # nothing half-written left


def test_a_changed_notebook_is_graded_again(tmp_path: Path, submission: Submission):
    (tmp_path / "state").mkdir()
    store = StateStore(tmp_path / "state", KEY)
    store.save(result_for(submission))
    submission.notebook.write_text('{"cells": [1]}')
    assert store.load(submission) is None and store.needs_grading(submission)


def test_other_grading_settings_grade_again(tmp_path: Path, submission: Submission):
    (tmp_path / "state").mkdir()
    StateStore(tmp_path / "state", KEY).save(result_for(submission))
    assert StateStore(tmp_path / "state", "grading-key-2").needs_grading(submission)


def test_a_result_the_grader_failed_to_compute_is_graded_again(tmp_path: Path, submission: Submission):
    (tmp_path / "state").mkdir()
    store = StateStore(tmp_path / "state", KEY)
    store.save(result_for(submission, Status.GRADER_ERROR))
    assert store.load(submission).status is Status.GRADER_ERROR and store.needs_grading(submission)


def test_an_unreadable_state_file_is_taken_for_none(tmp_path: Path, submission: Submission):
    (tmp_path / "state").mkdir()
    store = StateStore(tmp_path / "state", KEY)
    store.path("ana").write_text('{"grading_key": "grading-key-1", "result": ')
    assert store.load(submission) is None and store.needs_grading(submission)


def test_clear_forgets_every_student(tmp_path: Path, submission: Submission):
    (tmp_path / "state").mkdir()
    store = StateStore(tmp_path / "state", KEY)
    store.save(result_for(submission))
    store.clear()
    assert store.needs_grading(submission) and list((tmp_path / "state").iterdir()) == []
