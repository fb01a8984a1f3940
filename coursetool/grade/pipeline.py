"""Grading one notebook: nbgrader's autograde steps, without the gradebook.

``restore -> execute (runner) -> limit output (nbgrader's LimitOutput) -> score``. The
course check runs exactly these steps on each lab's solution and blank notebooks; a grading
worker runs them on a submission, then writes the autograded notebook and the feedback and
returns a ``SubmissionResult``. Only the parent process writes the gradebook.
"""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader.preprocessors import LimitOutput

from coursetool.grade import runner
from coursetool.grade.feedback import write_feedback, write_rejection
from coursetool.grade.lab import AutograderLab, Role, SourceCell
from coursetool.grade.restore import restore
from coursetool.grade.result import Rejected, Status, SubmissionResult
from coursetool.grade.settings import RunSpec, Settings
from coursetool.grade.submissions import Submission


@dataclass
class Graded:
    """A notebook after the grading steps: what ran, what each graded cell earned, what was repaired."""

    notebook: NotebookNode
    origins: list[SourceCell | None]
    execution: runner.Execution
    scores: dict[str, float]
    answered: dict[str, bool]
    notes: list[str]

    @property
    def status(self) -> Status:
        if self.execution.stopped is None:
            return Status.GRADED
        died = any(run.status == "died" for run in self.execution.cells.values())
        return Status.DIED if died else Status.TIMEOUT

    def cell_runs(self) -> dict[str, runner.CellRun]:
        """How each of the lab's test cells ended, by grade id."""
        return {source.grade_id: self.execution.cells.get(index, runner.CellRun("not run", "not executed"))
                for index, source in enumerate(self.origins) if source is not None and source.role is Role.TEST}


@lru_cache(maxsize=4)
def load_lab(name: str, source_dir: Path) -> AutograderLab:
    return AutograderLab(name, source_dir)


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


def score(nb: NotebookNode, origins: list[SourceCell | None],
          execution: runner.Execution) -> tuple[dict[str, float], dict[str, bool]]:
    """Points per test cell (full when it ran without error; stderr never costs points) and which answers are written."""
    scores, answered = {}, {}
    for index, source in enumerate(origins):
        if source is None:
            continue
        if source.role is Role.TEST:
            run = execution.cells.get(index, runner.CellRun("not run", "not executed"))
            scores[source.grade_id] = source.points if run.status == "ok" else 0.0
        elif source.role is Role.ANSWER:
            answered[source.grade_id] = nb.cells[index].source.strip() not in ("", source.released.source.strip())
    return scores, answered


def grade_notebook(nb: NotebookNode, lab: AutograderLab, spec: RunSpec) -> Graded:
    """Restore, execute, limit output and score one notebook; Rejected if it is not this lab's."""
    restoration = restore(lab, nb)
    execution = runner.execute(restoration.notebook, lab, spec)
    notebook, _ = LimitOutput().preprocess(restoration.notebook, {})
    scores, answered = score(notebook, restoration.origins, execution)
    notes = list(restoration.notes)
    if execution.overridden:
        notes.append("tests used the lab's originals of what the notebook had changed: " + ", ".join(execution.overridden))
    return Graded(notebook, restoration.origins, execution, scores, answered, notes)


def write_notebook(nb: NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def feedback_scores(lab: AutograderLab, result: SubmissionResult) -> dict[str, float | None]:
    """Scores as feedback shows them right after grading: written answers await a grader (None) or scored 0."""
    scores: dict[str, float | None] = {t.grade_id: result.scores.get(t.grade_id, 0.0) for t in lab.tests}
    return scores | {a.grade_id: None if result.answered.get(a.grade_id) else 0.0 for a in lab.answers}


def grade_file(submission: Submission, settings: Settings) -> SubmissionResult:
    """Grade a submission that has a notebook; write the autograded notebook and its feedback."""
    lab = load_lab(settings.lab, settings.source_dir)
    graded = grade_notebook(read_submission(submission.notebook), lab, settings.run_spec())
    write_notebook(graded.notebook, settings.autograded_notebook(submission.student))
    notes = ([submission.note] if submission.note else []) + graded.notes
    reason = "; ".join(([graded.execution.stopped] if graded.execution.stopped else []) + notes)
    result = SubmissionResult(submission.student, submission.key, graded.status, reason, graded.scores, graded.answered)
    write_feedback(graded.notebook, lab, feedback_scores(lab, result), {}, settings.feedback_file(submission.student))
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


def grade_submission(submission: Submission, settings: Settings) -> SubmissionResult:
    """Grade one submission; never raises: problems become a zero row with the reason."""
    started = time.monotonic()
    try:
        keep_submitted(submission, settings)
        if submission.problem:
            raise Rejected(submission.problem)
        result = grade_file(submission, settings)
    except Rejected as problem:
        result = zero_result(submission, settings, Status.REJECTED, str(problem))
    except Exception as error:  # noqa: BLE001 - one broken submission must not stop the class
        result = zero_result(submission, settings, Status.GRADER_ERROR, f"{type(error).__name__}: {error}")
    if result.status in (Status.REJECTED, Status.GRADER_ERROR):
        settings.autograded_notebook(submission.student).unlink(missing_ok=True)
        write_rejection(settings.lab, result.reason, settings.feedback_file(submission.student))
    result.seconds = round(time.monotonic() - started, 2)
    return result
