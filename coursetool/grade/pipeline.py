"""Grading one submission: nbgrader's autograde steps, run in a worker, without the gradebook.

``read -> RestoreCells -> ExecuteInSandbox -> LimitOutput (nbgrader) -> ScoreCells``, then the
autograded notebook and the feedback are written. The worker returns a ``SubmissionResult``;
only the parent process writes it to the gradebook.
"""
from __future__ import annotations

import copy
import shutil
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbgrader.preprocessors import LimitOutput

from coursetool.grade import runner
from coursetool.grade.feedback import render_feedback, render_rejection
from coursetool.grade.lab import Lab, Role
from coursetool.grade.restore import RECOGNISED, restore
from coursetool.grade.result import Rejected, Status, SubmissionResult
from coursetool.grade.settings import Settings
from coursetool.grade.submissions import Submission

@lru_cache(maxsize=4)
def load_lab(name: str, source_dir: Path) -> Lab:
    return Lab(name, source_dir)


def read_submission(path: Path) -> NotebookNode:
    """The submitted notebook, or Rejected saying what is wrong with the file."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Rejected(f"the notebook is not UTF-8 text ({error.reason} at byte {error.start})") from None
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as error:  # noqa: BLE001 - nbformat raises many kinds for broken files
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise Rejected(f"the file is not a readable notebook (invalid JSON or format: {first_line[:200]})") from None
    if not isinstance(notebook.get("cells"), list):
        raise Rejected("the file is not a readable notebook (no cells)")
    return notebook


class RestoreCells(Preprocessor):
    """Put the submission on the lab's skeleton (nbgrader's OverwriteCells and DeduplicateIds, by matching)."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        lab: Lab = resources["lab"]
        restoration = restore(lab, nb)
        if restoration.recognised < RECOGNISED:
            raise Rejected(f"the notebook does not look like {lab.name} (only {restoration.recognised:.0%} "
                           "of its cells were found): wrong lab or renamed notebook?")
        resources["restoration"] = restoration
        resources["notes"] = list(restoration.notes)
        return restoration.notebook, resources


class ExecuteInSandbox(Preprocessor):
    """Run every code cell in a sandboxed kernel, test cells under the guard."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        lab: Lab = resources["lab"]
        settings: Settings = resources["settings"]
        execution = runner.execute(nb, resources["restoration"].plans, settings, resources["submissions_root"],
                                   lab.imported_modules(), lab.import_bindings(), lab.support_files())
        resources["execution"] = execution
        if execution.repaired:
            resources["notes"].append("overridden before the tests, put back: " + ", ".join(execution.repaired))
        return nb, resources


class ScoreCells(Preprocessor):
    """Points per test cell: full when it ran without error, none otherwise (stderr never costs points)."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        execution: runner.Execution = resources["execution"]
        scores, answered = {}, {}
        for index, source in enumerate(resources["restoration"].origins):
            if source is None:
                continue
            if source.role is Role.TEST:
                run = execution.cells.get(index, runner.CellRun("not run", "not executed"))
                scores[source.grade_id] = source.points if run.status == "ok" else 0.0
            elif source.role is Role.ANSWER:
                answered[source.grade_id] = nb.cells[index].source.strip() not in ("", source.released.source.strip())
        resources.update(scores=scores, answered=answered)
        return nb, resources


def outcome(execution: runner.Execution) -> Status:
    if execution.stopped is None:
        return Status.GRADED
    died = any(run.status == "died" for run in execution.cells.values())
    return Status.DIED if died else Status.TIMEOUT


def grading_steps() -> list[Preprocessor]:
    return [RestoreCells(), ExecuteInSandbox(), LimitOutput(), ScoreCells()]


def write_notebook(nb: NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def grade_notebook(submission: Submission, settings: Settings, submissions_root: Path) -> SubmissionResult:
    """Run the steps on a submission that has a notebook; write the autograded notebook and feedback."""
    lab = load_lab(settings.lab, settings.source_dir)
    nb = read_submission(submission.notebook)
    resources: dict[str, Any] = {"lab": lab, "settings": settings, "submissions_root": submissions_root}
    for step in grading_steps():
        nb, resources = step.preprocess(nb, resources)
    write_notebook(nb, settings.autograded_notebook(submission.student))
    execution: runner.Execution = resources["execution"]
    status = outcome(execution)
    notes = ([submission.note] if submission.note else []) + resources["notes"]
    reason = "; ".join(([execution.stopped] if execution.stopped else []) + notes)
    result = SubmissionResult(submission.student, submission.key, status, reason,
                              resources["scores"], resources["answered"])
    render_feedback(copy.deepcopy(nb), resources, result, settings)
    return result


def zero_result(submission: Submission, settings: Settings, status: Status, reason: str) -> SubmissionResult:
    lab = load_lab(settings.lab, settings.source_dir)
    return SubmissionResult(submission.student, submission.key, status, reason,
                            {t.grade_id: 0.0 for t in lab.tests}, {a.grade_id: False for a in lab.answers})


def keep_submitted(submission: Submission, settings: Settings) -> None:
    """A copy of the file as submitted, where nbgrader keeps submissions."""
    if submission.notebook is not None:
        target = settings.submitted_notebook(submission.student)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(submission.notebook, target)


def grade_submission(submission: Submission, settings: Settings, submissions_root: Path) -> SubmissionResult:
    """Grade one submission; never raises: problems become a zero row with the reason."""
    started = time.monotonic()
    try:
        keep_submitted(submission, settings)
        if submission.problem:
            raise Rejected(submission.problem)
        result = grade_notebook(submission, settings, submissions_root)
    except Rejected as problem:
        result = zero_result(submission, settings, Status.REJECTED, str(problem))
    except Exception as error:  # noqa: BLE001 - one broken submission must not stop the class
        result = zero_result(submission, settings, Status.GRADER_ERROR, f"{type(error).__name__}: {error}")
    if result.status in (Status.REJECTED, Status.GRADER_ERROR):
        settings.autograded_notebook(submission.student).unlink(missing_ok=True)
        render_rejection(result, settings)
    result.seconds = round(time.monotonic() - started, 2)
    return result
