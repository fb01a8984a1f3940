"""Grading one notebook: nbgrader's autograde steps, without the gradebook.

``STEPS``: restore -> execute (runner) -> take the reference -> show nothing written after a
probe -> limit output (nbgrader's LimitOutput) -> score -> scrutinise -> redact hidden text ->
note overrides, each a function of
a ``Grading``, declared in order as nbgrader declares its preprocessors. The
course check runs exactly these steps on each lab's solution and blank notebooks; a grading
worker runs them on a submission and returns an ``Outcome``: the result, the autograded
notebook and the feedback page as bytes. It writes no file of the course: the process that
grades the class writes them, and the gradebook.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_output
from vaelab import probes as probe_judge  # numpy only: the package loads its torch modules on first use

from coursetool.grade.kernel import runner
from coursetool.grade.notebook.feedback import feedback_html, rejection_html, warm_up_feedback
from coursetool.grade.lab import AutograderLab, Role, SourceCell
from coursetool.grade.notebook.reference import load_reference, store_reference
from coursetool.grade.notebook.restore import restore
from coursetool.grade.notebook.runspec import run_spec
from coursetool.grade.notebook.scrutiny import hidden_lines, redact_outputs, suspicious_lines
from coursetool.grade.result import Outcome, Rejected, Status, SubmissionResult
from coursetool.grade.settings import RunSpec, Settings
from coursetool.grade.intake.submissions import Submission
from coursetool.probes import ProbeRecord, records_of
from coursetool.write import notebook_bytes


@dataclass
class Graded:
    """A notebook after the grading steps: what ran, what each graded cell earned, what was repaired."""

    notebook: NotebookNode
    origins: list[SourceCell | None]
    execution: runner.Execution
    scores: dict[str, float]
    answered: dict[str, bool]
    notes: list[str]
    reference: dict[str, str]  # probe id -> the value the probe is compared with
    flags: list[str]  # what a grader should look at: code reaching for internals, hidden text removed
    reference_problems: list[str] = field(default_factory=list)  # of a reference run: probes without a steady value

    @property
    def status(self) -> Status:
        if self.execution.stopped is None:
            return Status.GRADED
        died = any(run.status == runner.CellStatus.DIED for run in self.execution.cells.values())
        return Status.DIED if died else Status.TIMEOUT

    def cell_runs(self) -> dict[str, runner.CellRun]:
        """How each of the lab's test cells ended, by grade id."""
        return {source.grade_id: self.execution.cells.get(index, runner.CellRun(runner.CellStatus.NOT_RUN, "not executed"))
                for index, source in enumerate(self.origins) if source is not None and source.role is Role.TEST}


def load_lab(name: str, source_dir: Path) -> AutograderLab:
    """The lab, read once per process while its notebook stays the same file (a grading worker forked after the
    class's process read it finds it read)."""
    notebook = (source_dir / f"{name}.ipynb").stat()
    return lab_as_read(name, source_dir, (notebook.st_mtime_ns, notebook.st_size, notebook.st_ino))


@lru_cache(maxsize=4)
def lab_as_read(name: str, source_dir: Path, version: tuple[int, int, int]) -> AutograderLab:
    """``version`` (the notebook file's time, size and inode) is part of the cache's key only."""
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


def probe_failures(records: list[ProbeRecord], execution: runner.Execution, reference: dict[str, str]) -> list[str]:
    """The messages of a test cell's probes whose value differs from the reference, judged here."""
    if not records:
        return []
    failures = []
    for record in records:
        if record.id not in reference:
            raise RuntimeError(f"no reference value for probe {record.id}: compute the reference values again")
        problem = probe_judge.judge(reference[record.id], execution.probes.get(record.id, ""), record.atol, record.rtol)
        if problem:
            failures.append(f"{record.message} ({problem})")
    return failures


def score(nb: NotebookNode, origins: list[SourceCell | None], execution: runner.Execution,
          reference: dict[str, str]) -> tuple[dict[str, float], dict[str, bool]]:
    """Points per test cell and which answers are written.

    A test cell earns its points when its code ran without error (stderr never costs points)
    and every probe's value matches the reference; each failed probe adds its message to the
    cell's outputs.
    """
    scores, answered = {}, {}
    for index, source in enumerate(origins):
        if source is None:
            continue
        if source.role is Role.TEST:
            run = execution.cells.get(index, runner.CellRun(runner.CellStatus.NOT_RUN, "not executed"))
            failures = probe_failures(records_of(source.cell), execution, reference) if run.status != runner.CellStatus.NOT_RUN else []
            for failure in failures:
                nb.cells[index].outputs.append(new_output("error", ename="AssertionError", evalue=failure, traceback=[]))
            scores[source.grade_id] = source.points if run.status == runner.CellStatus.OK and not failures else 0.0
        elif source.role is Role.ANSWER:
            answered[source.grade_id] = nb.cells[index].source.strip() not in ("", source.released.source.strip())
    return scores, answered


def reference_problems(lab: AutograderLab, execution: runner.Execution) -> list[str]:
    """Probes of the reference solution that give no usable value, or not the same one twice."""
    problems = []
    for probe_id, record in lab.probes.items():
        value = json.loads(execution.probes.get(probe_id) or '{"kind": "error", "type": "no answer"}')
        if value["kind"] in ("error", "unsupported"):
            problems.append(f"probe {probe_id} ({record.expression}) gives {probe_judge.describe(value)} on the reference solution")
        elif probe_id in execution.unsteady:
            problems.append(f"probe {probe_id} ({record.expression}) gives another value each time: "
                            "make it deterministic (seeded inputs, a statistic of many samples)")
    return problems


@dataclass
class Grading:
    """One notebook on its way through the grading steps; each step fills in or changes what it is about."""

    lab: AutograderLab
    spec: RunSpec
    notebook: NotebookNode
    reference: dict[str, str] | None  # None: the notebook is the reference solution
    origins: list[SourceCell | None] = field(default_factory=list)
    execution: runner.Execution = field(default_factory=runner.Execution)
    scores: dict[str, float] = field(default_factory=dict)
    answered: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    submitted: list[list | None] = field(default_factory=list)  # outputs as handed in, per restored cell
    reference_run: bool = False  # the lab's own notebook, whose probe values become the reference
    reference_problems: list[str] = field(default_factory=list)


def restore_cells(grading: Grading) -> None:
    """The instructor's cells back in place around the student's (``restore``); Rejected if not this lab's."""
    restoration = restore(grading.lab, grading.notebook)
    grading.notebook, grading.origins = restoration.notebook, restoration.origins
    grading.submitted = restoration.submitted
    grading.notes += restoration.notes


def show_nothing_written_after_a_probe(grading: Grading) -> None:
    """What the student sees of a graded run holds nothing that code could write once it had seen a hidden check.

    Student code may record a probe as the kernel compiles it (an audit hook, a tracer) and
    print it later, in any encoding: no redaction can recognise that. So from the first test
    cell with probes on, each of the student's cells shows the outputs it had when handed in
    (the student's own run), and each of the lab's cells only what the lab itself wrote: the
    messages of its failed checks. The reference solution's run keeps every output.
    """
    if grading.reference_run:
        return
    first = next((index for index, source in enumerate(grading.origins)
                  if source is not None and source.role is Role.TEST and records_of(source.cell)), None)
    if first is None:
        return
    for index in range(first + 1, len(grading.notebook.cells)):
        cell, source = grading.notebook.cells[index], grading.origins[index]
        if cell.cell_type != "code":
            continue
        if source is not None and source.role in (Role.TEST, Role.FIXED):
            cell.outputs = [lab_message(output, source) for output in cell.outputs if output.output_type == "error"]
        else:
            handed_in = grading.submitted[index] if index < len(grading.submitted) else None
            cell.outputs = handed_in or []


def lab_message(error: NotebookNode, source: SourceCell) -> NotebookNode:
    """A lab cell's error as the lab wrote it: its message where the cell's source holds it word for word
    (a visible test's own text), else only its kind."""
    message = str(error.get("evalue", ""))
    if not message or message not in source.cell.source:
        message = "(its message is shown when you run the cell yourself)"
    return new_output("error", ename=str(error.get("ename", "Error"))[:100], evalue=message, traceback=[])


def execute(grading: Grading) -> None:
    """Run it in a fresh kernel; the reference solution's probes twice."""
    grading.execution = runner.execute(grading.notebook, grading.lab, grading.spec, twice=grading.reference is None)


def take_reference(grading: Grading) -> None:
    """The reference solution's probe values become the reference; those without a usable value are its problems."""
    if grading.reference is None:
        grading.reference = dict(grading.execution.probes)
        grading.reference_problems = reference_problems(grading.lab, grading.execution)


def limit_output(grading: Grading) -> None:
    """nbgrader's ``LimitOutput``: no cell keeps more than its share of output."""
    from nbgrader.preprocessors import LimitOutput  # nbgrader: a second to import, not before the first kernel

    grading.notebook, _ = LimitOutput().preprocess(grading.notebook, {})


def score_cells(grading: Grading) -> None:
    grading.scores, grading.answered = score(grading.notebook, grading.origins, grading.execution, grading.reference)


def scrutinise(grading: Grading) -> None:
    """Flag student code that reaches for kernel or grader internals, and the audit events cells raised."""
    grading.flags += suspicious_lines(grading.notebook, grading.origins, grading.lab)
    grading.flags += [f"cell {index + 1} raised the audit event {event}" for index, event in dict.fromkeys(grading.execution.audit)]
    grading.flags += [f"changed {name} while a hidden check ran (that check failed)" for name in grading.execution.tampered]


def redact_hidden_text(grading: Grading) -> None:
    """Hidden test text that reached an output is removed, and flagged."""
    removed = redact_outputs(grading.notebook, hidden_lines(grading.lab))
    if removed:
        grading.flags.append(f"hidden test text appeared in outputs {removed} time(s): removed")


def note_overrides(grading: Grading) -> None:
    if grading.execution.overridden:
        grading.notes.append("tests used the lab's originals of what the notebook had changed: "
                             + ", ".join(grading.execution.overridden))


def note_restarts(grading: Grading) -> None:
    grading.notes += [f"a hidden check of cell {index + 1} killed the kernel or would not stop: the kernel was "
                      "started again, the cells up to it run again, and that check failed"
                      for index in grading.execution.restarts]


STEPS: tuple[Callable[[Grading], None], ...] = (
    restore_cells, execute, take_reference, show_nothing_written_after_a_probe, limit_output, score_cells, scrutinise,
    redact_hidden_text, note_overrides, note_restarts)


def grade_notebook(nb: NotebookNode, lab: AutograderLab, spec: RunSpec, reference: dict[str, str] | None = None) -> Graded:
    """Restore, execute, limit output and score one notebook (``STEPS``, in order); Rejected if it is not this lab's.

    Without ``reference`` the notebook is the reference solution: its probes are evaluated
    twice, become the reference, and any that gives no usable or steady value is a reference problem.
    """
    grading = Grading(lab, spec, nb, reference, reference_run=reference is None)
    for step in STEPS:
        step(grading)
    return Graded(grading.notebook, grading.origins, grading.execution, grading.scores, grading.answered, grading.notes,
                  grading.reference, grading.flags, grading.reference_problems)


class ReferenceSolutionError(RuntimeError):
    """The reference solution does not give a usable value for every probe."""


def reference_values(settings: Settings, lab: AutograderLab) -> dict[str, str]:
    """The lab's own notebook run once, every probe evaluated twice: its values, or ReferenceSolutionError."""
    graded = grade_notebook(lab.notebook, lab, run_spec(settings))
    problems = ([graded.execution.stopped] if graded.execution.stopped else []) + graded.reference_problems
    if problems:
        raise ReferenceSolutionError(f"the reference solution of {lab.name} cannot grade: " + "; ".join(problems))
    return graded.reference


def ensure_reference(settings: Settings, lab: AutograderLab,
                     compute: Callable[[Settings, AutograderLab], dict[str, str]] = reference_values) -> dict[str, str]:
    """The lab's reference values: stored ones, or ``compute``'s, stored now."""
    stored = load_reference(settings)
    if stored is not None:
        return stored
    values = compute(settings, lab) if lab.probes else {}
    store_reference(settings, values)
    return values


def feedback_scores(lab: AutograderLab, result: SubmissionResult) -> dict[str, float | None]:
    """Scores as feedback shows them right after grading: written answers await a grader (None) or scored 0."""
    scores: dict[str, float | None] = {t.grade_id: result.scores.get(t.grade_id, 0.0) for t in lab.tests}
    return scores | {a.grade_id: None if result.answered.get(a.grade_id) else 0.0 for a in lab.answers}


def grade_file(submission: Submission, settings: Settings) -> Outcome:
    """Grade a submission that has a notebook: its result, autograded notebook and feedback."""
    lab = load_lab(settings.lab, settings.source_dir)
    reference = load_reference(settings, fresh_only=False) if lab.probes else {}
    if reference is None:
        raise RuntimeError("the reference values are missing: the grading run computes them first")
    graded = grade_notebook(read_submission(submission.notebook), lab, run_spec(settings), reference)
    notes = ([submission.note] if submission.note else []) + graded.notes
    reason = "; ".join(([graded.execution.stopped] if graded.execution.stopped else []) + notes)
    result = SubmissionResult(submission.student, submission.key, graded.status, reason, graded.scores, graded.answered,
                              flags=graded.flags)
    feedback = feedback_html(graded.notebook, lab, feedback_scores(lab, result), {})
    return Outcome(result, notebook_bytes(graded.notebook), feedback.encode("utf-8"))


def zero_result(submission: Submission, settings: Settings, status: Status, reason: str) -> SubmissionResult:
    lab = load_lab(settings.lab, settings.source_dir)
    return SubmissionResult(submission.student, submission.key, status, reason,
                            {t.grade_id: 0.0 for t in lab.tests}, {a.grade_id: False for a in lab.answers})


def zero_outcome(submission: Submission, settings: Settings, status: Status, reason: str) -> Outcome:
    """No points, no autograded notebook, a page with the reason."""
    result = zero_result(submission, settings, status, reason)
    return Outcome(result, None, rejection_html(settings.lab, reason).encode("utf-8"))


def warm_up(lab: AutograderLab) -> None:
    """Load what grading a submission needs once, so that worker processes forked after this start ready:
    the feedback templates."""
    warm_up_feedback(lab)


def grade_submission(submission: Submission, settings: Settings) -> Outcome:
    """Grade one submission; never raises: problems become a zero row with the reason. Writes no file.

    Where the grader itself fails with a warm kernel (its fork server gone, a kernel that never
    started), the submission is graded once more on a kernel started anew.
    """
    started, cpu_started = time.monotonic(), time.process_time()
    try:
        if submission.problem:
            raise Rejected(submission.problem)
        try:
            outcome = grade_file(submission, settings)
        except Rejected:
            raise
        except Exception:  # noqa: BLE001 - retried once, cold; a second failure is the grader's error
            if not settings.warm:
                raise
            outcome = grade_file(submission, replace(settings, warm=False))
    except Rejected as problem:
        outcome = zero_outcome(submission, settings, Status.REJECTED, str(problem))
    except Exception as error:  # noqa: BLE001 - one broken submission must not stop the class
        outcome = zero_outcome(submission, settings, Status.GRADER_ERROR, f"{type(error).__name__}: {error}")
    outcome.result.seconds = round(time.monotonic() - started, 2)
    outcome.grader_cpu = time.process_time() - cpu_started
    return outcome
