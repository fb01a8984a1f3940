"""Grading a class: submissions in parallel workers, the gradebook written by this process only.

A ``Grader`` grades submissions somewhere (worker processes on this machine: ``local.LocalPool``, or a Dask
cluster: ``cluster.DaskCluster``) and yields each outcome as plain data as soon as it is ready.
This process alone writes the files of each finished submission, commits it to the gradebook,
then writes its state file; a re-run skips every student whose state matches the same notebook
and the same grading settings, so a run killed half-way resumes where it stopped and ends with
the same grades.
"""
from __future__ import annotations

import logging
import os
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from coursetool.grade.course import gradebook as book
from coursetool.grade.course import lms
from coursetool.grade.course.files import refresh_feedback, write_files
from coursetool.grade.course.local import LocalPool
from coursetool.grade.course.report import Row, write_reports
from coursetool.grade.course.state import StateStore
from coursetool.grade.intake import late
from coursetool.grade.intake.discovery import discover
from coursetool.grade.intake.submissions import Submission, SubmissionsError
from coursetool.grade.kernel import warm, workdirs
from coursetool.grade.lab import AutograderLab
from coursetool.grade.notebook.pipeline import ensure_reference, load_lab
from coursetool.grade.notebook.runspec import grading_key
from coursetool.grade.result import Outcome, Status, SubmissionResult
from coursetool.grade.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Summary:
    """What a run did: students found, graded now, reused from an earlier run, and those the grader failed
    (graded again on the next run)."""

    students: int
    graded: int
    reused: int
    grader_errors: int = 0


class Grader(Protocol):
    """Where submissions are graded: each is yielded with its outcome once, as soon as it is graded, in any order."""

    def where(self) -> str:
        """How the grading is spread, for the progress line."""
        ...

    def get_ready(self, settings: Settings) -> None:
        """Start what grading needs, so that it is ready by the first submission."""
        ...

    def reference(self, settings: Settings, lab: AutograderLab) -> dict[str, str]:
        """The lab's probe values from its own notebook, run where the submissions run (``reference_values``)."""
        ...

    def grade(self, pending: list[Submission], settings: Settings) -> Iterator[tuple[Submission, Outcome]]:
        ...


def grade_class(submissions_path: Path, settings: Settings, regrade: bool = False,
                feedback_from_gradebook: bool = False, due: datetime | None = None,
                late_penalty: str | None = None, grader: Grader | None = None,
                only: frozenset[str] = frozenset(), lms_options: lms.LmsOptions = lms.LmsOptions()) -> Summary:
    """Grade every submission at ``submissions_path``; write grades.csv, the report, similarity and LMS files.

    ``due`` (naive UTC) is stored as the assignment's due date; ``late_penalty`` overrides the
    course's ``LateSubmissionPlugin.penalty_method``. ``grader`` defaults to worker processes
    on this machine, ``settings.jobs`` at a time. ``only`` (``--student``): grade these students
    again and no other; every output is still written for the whole class.
    """
    lab = load_lab(settings.lab, settings.source_dir)
    grader = grader or LocalPool(settings.jobs)
    course = book.course_id(settings.autograder)
    states = saved_states(settings, regrade)
    clear_left_behind(settings.autograder)
    with workdirs.marked_folder("coursetool-submissions-") as staging, stopping_fork_servers():
        # what was handed in, and what of it no earlier run graded under the same key
        submissions = discover(submissions_path, settings.lab, staging)
        pending = chosen(submissions, only) if only else [s for s in submissions if states.needs_grading(s)]
        if pending:
            grader.get_ready(settings)
        print(f"{settings.lab}: {len(submissions)} submission(s), {len(pending)} to grade, "
              f"{grader.where()}", flush=True)
        announce_ids(submissions)
        # the gradebook, the reference solution's probe values, the due date
        book.prepare_lab(settings.gradebook_url, course, lab)
        if pending and lab.probes:
            print(f"reference solution: {len(ensure_reference(settings, lab, grader.reference))} probe value(s)", flush=True)
        penalty_method = late_penalty or late.configured_method(settings.autograder)
        announce_lateness(book.due_date(settings.gradebook_url, course, lab.name, due), penalty_method)
        # grade, recording each student as the outcome arrives; then every student's row, late penalty included
        if pending:
            cpu = grade_in_parallel(pending, settings, lab, states, course, grader)
        rows = rows_for(submissions, states, settings, lab, course, penalty_method)
        # similar submissions, while a zip's staged notebooks are still there
        from coursetool.grade.course import similarity  # copydetect, matplotlib: imported once the grading is done

        analysis = similarity.analyse_class(lab, submissions, settings.autograder)
    # feedback again where written answers were graded since; the class's grades.csv, report, similarity and LMS files
    if feedback_from_gradebook:
        pages = refresh_feedback(settings, lab, [row.student for row in rows], course)
        print(f"feedback rendered again from the gradebook for {pages} student(s)", flush=True)
    write_reports(lab, rows, settings.results_dir, similarity.report_section(analysis))
    similarity.write_results(analysis, settings.results_dir)
    announce_class_files(lms.write_files(lab, rows, settings.results_dir, lms_options), len(analysis.flagged))
    if pending:
        announce_grader_cpu(len(pending), cpu)
    failed = sum(1 for row in rows if row.status is Status.GRADER_ERROR)
    return Summary(len(submissions), len(pending), len(submissions) - len(pending), failed)


def chosen(submissions: list[Submission], only: frozenset[str]) -> list[Submission]:
    """The submissions of the ``--student`` ids, to grade again whatever an earlier run stored."""
    unknown = only - {s.student for s in submissions}
    if unknown:
        raise SubmissionsError(f"no submission for --student {', '.join(sorted(unknown))} "
                               f"(ids in this class: {', '.join(s.student for s in submissions[:10])}"
                               f"{', ...' if len(submissions) > 10 else ''})")
    return [s for s in submissions if s.student in only]


def announce_class_files(files: lms.LmsFiles, flagged: int) -> None:
    """Say what the class-level files found: similar pairs, and the roster's loose ends."""
    print(f"similar submissions: {flagged} pair(s) flagged to look at (similarity.csv, report.html)", flush=True)
    for student in files.unmatched:
        print(f"  canvas: submission {student} matches no roster row (not in canvas.csv)", flush=True)
    if files.missing:
        print(f"  canvas: {len(files.missing)} roster student(s) without a submission", flush=True)
    if files.not_final:
        print(f"  canvas: {len(files.not_final)} total(s) not final, awaiting hand grading (canvas-not-final.txt)",
              flush=True)


def saved_states(settings: Settings, regrade: bool) -> StateStore:
    """The states of earlier runs under the same grading key, none where asked to grade again or the gradebook is new."""
    states = StateStore(settings.results_dir / "state", grading_key(settings))
    if regrade or not (settings.autograder / "gradebook.db").exists():
        states.clear()
    return states


def clear_left_behind(autograder: Path) -> None:
    """Mark this run's temporary folders as the course's; remove those a killed run of the course left."""
    workdirs.belong_to(autograder)
    removed = workdirs.remove_left_behind(autograder)
    if removed:
        log.info("removed %d temporary folder(s) left by an earlier run that was stopped", len(removed))


@contextmanager
def stopping_fork_servers() -> Iterator[None]:
    """A grading run stops the fork servers it started when it ends."""
    try:
        yield
    finally:
        warm.close_all()


def announce_ids(submissions: list[Submission]) -> None:
    """Say which students got an id other than their name, and why."""
    for submission in submissions:
        if submission.id_note:
            print(f"  {submission.id_note}", flush=True)


def announce_lateness(due: datetime | None, method: str) -> None:
    if due is not None or method != "none":
        print(f"due {late.format_time(due) or 'date not set'}; late penalty: {method}", flush=True)


@dataclass
class GraderCpu:
    """CPU seconds the grader spent on the submissions themselves: grading them (its grading processes, no kernel's)
    and recording them here."""

    grading: float = 0.0
    recording: float = 0.0


def grade_in_parallel(pending: list[Submission], settings: Settings, lab: AutograderLab, states: StateStore, course: str,
                      grader: Grader) -> GraderCpu:
    """Grade with ``grader``; record each student once, as soon as the outcome arrives: files, gradebook, then state."""
    recorded: set[str] = set()
    cpu = GraderCpu()
    with book.open_gradebook(settings.gradebook_url, course) as gradebook:
        for submission, outcome in grader.grade(pending, settings):
            result = outcome.result
            cpu.grading += outcome.grader_cpu
            if result.student in recorded:
                continue
            started = time.process_time()
            write_files(submission, outcome, settings)
            book.record(gradebook, lab, result)
            states.save(result)
            cpu.recording += time.process_time() - started
            recorded.add(result.student)
            progress(len(recorded), len(pending), result)
    return cpu


def announce_grader_cpu(graded: int, cpu: GraderCpu) -> None:
    """The grader's own CPU time (no kernel's), as a diagnostic: per submission, and what the run spent once (start-up,
    the gradebook's lab, the reference solution, the class's files)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    once = usage.ru_utime + usage.ru_stime - cpu.recording
    log.info("grader's own CPU: %.2f s per submission (grading %.2f, recording %.2f), and %.2f s once for the run",
             (cpu.grading + cpu.recording) / graded, cpu.grading / graded, cpu.recording / graded, once)


def progress(done: int, total: int, result: SubmissionResult) -> None:
    points = sum(result.scores.values())
    detail = f" - {result.reason}" if result.status is not Status.GRADED and result.reason else ""
    print(f"[{done}/{total}] {result.student}: {points:g} points, {result.status.value} ({result.seconds:g} s){detail}", flush=True)


def rows_for(submissions: list[Submission], states: StateStore, settings: Settings, lab: AutograderLab, course: str,
             penalty_method: str) -> list[Row]:
    """Each graded student's row; the submission time and late penalty go to the gradebook on the way."""
    rows = []
    with book.open_gradebook(settings.gradebook_url, course) as gradebook:
        for submission in submissions:
            result = states.load(submission)
            if result is None:
                continue
            scores = book.cell_scores(gradebook, lab, result.student)
            lateness, points = book.record_lateness(gradebook, lab, submission, penalty_method,
                                                    sum(score or 0.0 for score in scores.values()))
            reason = "; ".join(part for part in (result.reason, late.lateness_note(lateness, points)) if part)
            rows.append(Row(result.student, scores, result.status, reason, submission.submitted, points or 0.0,
                            tuple(result.flags)))
    return rows


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
