"""Grading on this machine: worker processes, ``jobs`` at a time, sharing one fork server."""
from __future__ import annotations

import ctypes
import multiprocessing
import signal
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from coursetool.grade.intake.submissions import Submission
from coursetool.grade.kernel import limits as kernel_limits
from coursetool.grade.kernel.gpus import gpu_for
from coursetool.grade.kernel.runner import warm_server
from coursetool.grade.kernel.sandbox import KernelEnvironmentError, environment_problem
from coursetool.grade.lab import AutograderLab
from coursetool.grade.notebook.pipeline import grade_submission, load_lab, reference_values, warm_up
from coursetool.grade.notebook.runspec import run_spec
from coursetool.grade.result import Outcome
from coursetool.grade.settings import Settings


def die_with_parent() -> None:
    """Worker initializer: a killed grader takes its workers (and so their kernels) with it."""
    ctypes.CDLL(None).prctl(kernel_limits.PR_SET_PDEATHSIG, signal.SIGKILL)


def grade_here(submission: Submission, settings: Settings) -> Outcome:
    """Grade one submission in this process; in full mode on a GPU of this machine where it has any."""
    with gpu_for(settings) as assigned:
        return grade_submission(submission, assigned)


def reference_here(settings: Settings, lab: AutograderLab) -> dict[str, str]:
    """The lab's reference values, run in this process as a submission is: on a GPU of its own in full mode."""
    with gpu_for(settings) as assigned:
        return reference_values(assigned, lab)


@dataclass(frozen=True)
class LocalPool:
    """Worker processes on this machine, ``jobs`` at a time."""

    jobs: int

    def where(self) -> str:
        return f"{self.jobs} at a time"

    def get_ready(self, settings: Settings) -> None:
        """Start the fork server (it imports the lab's modules while the gradebook is prepared) and meanwhile check
        that the kernel's Python starts in the sandbox: KernelEnvironmentError if not, before any notebook runs."""
        spec = run_spec(settings)
        warm_server(load_lab(settings.lab, settings.source_dir), spec, wait=False)
        problem = environment_problem(spec)
        if problem:
            raise KernelEnvironmentError(problem)

    def reference(self, settings: Settings, lab: AutograderLab) -> dict[str, str]:
        return reference_here(settings, lab)

    def grade(self, pending: list[Submission], settings: Settings) -> Iterator[tuple[Submission, Outcome]]:
        lab = load_lab(settings.lab, settings.source_dir)  # the workers find it read
        warm_server(lab, run_spec(settings))  # the workers share it
        warm_up(lab)
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=self.jobs, mp_context=context, initializer=die_with_parent) as pool:
            futures = {pool.submit(grade_here, submission, settings): submission for submission in pending}
            for future in as_completed(futures):
                yield futures[future], future.result()
