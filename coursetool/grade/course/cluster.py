"""Grading on an existing Dask cluster: tasks carry bytes, the client writes every file.

``coursetool grade ... --scheduler tcp://HOST:8786`` makes ``DaskCluster`` the batch's grader.
The lab's autograder folder (source notebook, support files, course config) goes to each
worker once, as a ``LabBundle`` that every grading task depends on (a task result the workers
fetch from each other, and the scheduler computes again should every copy be lost); each task
carries one submission's notebook bytes and
returns an ``Outcome`` (plain data: scores, the autograded notebook and feedback as bytes).
A worker writes the lab once into a private temporary folder, grades each submission in its
own scratch folder and sandbox, and writes nothing of the course: the client alone writes the
files, the gradebook and the state files, as each result arrives. Workers need no shared file
system, only the course's Python environment (and bwrap, unless ``--no-sandbox``).

Tasks are pure, named after the submission and the grading settings: a task of a lost worker
runs again elsewhere and the client records every student once.
"""
from __future__ import annotations

import hashlib
import importlib.util
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from coursetool.grade.kernel import workdirs
from coursetool.grade.course.local import grade_here, reference_here
from coursetool.grade.lab import AutograderLab
from coursetool.grade.notebook.pipeline import ReferenceSolutionError, zero_outcome
from coursetool.grade.notebook.runspec import grading_key, run_spec
from coursetool.grade.result import Outcome, Status
from coursetool.grade.kernel.sandbox import bwrap_works, environment_problem, why_no_sandbox
from coursetool.grade.settings import Settings
from coursetool.grade.intake.submissions import Submission

WORKERS = Path(tempfile.gettempdir()) / "coursetool-dask-workers"  # what worker folders are marked as belonging to


class ClusterError(Exception):
    """The cluster cannot grade: no scheduler at the address, or a worker cannot run kernels."""


@dataclass(frozen=True)
class LabBundle:
    """A lab's autograder folder as bytes, by path relative to it: the source folder and the course config."""

    lab: str
    files: dict[str, bytes]

    @classmethod
    def read(cls, settings: Settings) -> LabBundle:
        root = settings.autograder
        paths = [p for p in settings.source_dir.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts]
        paths += [root / "nbgrader_config.py"] if (root / "nbgrader_config.py").is_file() else []
        return cls(settings.lab, {str(p.relative_to(root)): p.read_bytes() for p in sorted(paths)})

    @property
    def digest(self) -> str:
        hashed = hashlib.sha256(self.lab.encode())
        for name, data in sorted(self.files.items()):
            hashed.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        return hashed.hexdigest()

    def write(self, autograder: Path) -> None:
        for name, data in self.files.items():
            target = autograder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


@dataclass(frozen=True)
class Task:
    """One submission as a worker receives it: the discovery's record without the client's path, and the notebook's bytes.

    ``content`` is None where there is nothing to grade (the record says why).
    """

    submission: Submission
    content: bytes | None

    @classmethod
    def of(cls, submission: Submission) -> Task:
        content = submission.notebook.read_bytes() if submission.notebook else None
        return cls(replace(submission, notebook=None), content)


@dataclass
class WorkerLabs:
    """The labs this worker process has written out, by bundle digest; kept until the process ends."""

    folders: dict[str, Path] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    keep: ExitStack = field(default_factory=ExitStack)

    def folder(self, bundle: LabBundle) -> Path:
        """The autograder folder of ``bundle`` on this worker, written on first use."""
        with self.lock:
            if not self.folders:
                claim_worker_folders()
            if bundle.digest not in self.folders:
                folder = self.keep.enter_context(workdirs.marked_folder("coursetool-lab-")) / "autograder"
                bundle.write(folder)
                self.folders[bundle.digest] = folder
            return self.folders[bundle.digest]


_labs = WorkerLabs()


def claim_worker_folders() -> None:
    """Mark this worker's temporary folders as a grading worker's; remove those of killed workers on this machine."""
    workdirs.belong_to(WORKERS)
    workdirs.remove_left_behind(WORKERS)


@lru_cache(maxsize=8)
def check_sandbox(settings: Settings) -> None:
    """Refuse, on this worker, to run student code without a sandbox, or in one its Python cannot start in."""
    if not settings.sandbox:
        return
    if not bwrap_works():
        raise ClusterError(f"worker {socket.gethostname()} refuses to run student code without a sandbox: "
                           f"{why_no_sandbox()}; or grade with --no-sandbox")
    problem = environment_problem(run_spec(settings))
    if problem:
        raise ClusterError(f"worker {socket.gethostname()}: {problem}")


@contextmanager
def on_this_worker(bundle: LabBundle, settings: Settings) -> Iterator[tuple[Settings, Path]]:
    """The settings with the worker's copy of the lab, and a staging folder of the task's own."""
    check_sandbox(settings)
    autograder = _labs.folder(bundle)
    with workdirs.marked_folder("coursetool-task-") as staging:
        yield replace(settings, autograder=autograder, submissions=staging), staging


def grade_task(bundle: LabBundle, task: Task, settings: Settings) -> Outcome:
    """Run on a worker: grade one submission against the worker's copy of the lab; write nothing of the course."""
    with on_this_worker(bundle, settings) as (here, staging):
        submission = task.submission
        if task.content is not None:
            notebook = staging / "submitted.ipynb"
            notebook.write_bytes(task.content)
            submission = replace(submission, notebook=notebook)
        return grade_here(submission, here)


def reference_task(bundle: LabBundle, settings: Settings) -> dict[str, str]:
    """Run on a worker: the lab's reference values, from its own notebook run as a submission is."""
    with on_this_worker(bundle, settings) as (here, _):
        return reference_here(here, AutograderLab(here.lab, here.source_dir))


def hand_out(bundle: LabBundle) -> LabBundle:
    """The task whose result is the lab for every grading task."""
    return bundle


def task_key(submission: Submission, grading_key: str) -> str:
    """A name that is the same exactly when the task would compute the same outcome."""
    digest = hashlib.sha256(f"{submission.student}\0{submission.key}\0{grading_key}".encode()).hexdigest()[:24]
    return f"coursetool-grade-{digest}"


@dataclass(frozen=True)
class DaskCluster:
    """The workers of the Dask scheduler at ``address``; at most ``ahead`` tasks per worker thread in flight."""

    address: str
    connect_seconds: float = 30.0
    ahead: int = 2

    def where(self) -> str:
        return f"on the Dask cluster at {self.address}"

    def connect(self) -> Any:
        """A client of the scheduler whose workers can all grade."""
        from distributed import Client

        try:
            client = Client(self.address, timeout=self.connect_seconds)
        except (OSError, TimeoutError) as error:
            raise ClusterError(f"no Dask scheduler answers at {self.address}: {error}") from None
        try:
            check_workers(client)
        except BaseException:
            client.close()
            raise
        return client

    def get_ready(self, settings: Settings) -> None:
        """Nothing to start here: the workers run every kernel."""

    def reference(self, settings: Settings, lab: AutograderLab) -> dict[str, str]:
        """Run the lab's own notebook on a worker, where the submissions will run (with a GPU in full mode)."""
        from distributed import KilledWorker

        bundle = LabBundle.read(settings)
        with self.connect() as client:
            future = client.submit(reference_task, bundle, settings,
                                   key=f"coursetool-reference-{bundle.digest[:24]}-{grading_key(settings)[:24]}")
            try:
                return future.result()
            except KilledWorker:
                raise ReferenceSolutionError(f"every worker that ran the reference solution of {lab.name} died") from None

    def grade(self, pending: list[Submission], settings: Settings) -> Iterator[tuple[Submission, Outcome]]:
        with self.connect() as client:
            yield from self.grade_with(client, pending, settings)

    def grade_with(self, client: Any, pending: list[Submission],
                   settings: Settings) -> Iterator[tuple[Submission, Outcome]]:
        """Submit a window of tasks, yield each as it completes, and keep the window full."""
        from distributed import as_completed

        lab = LabBundle.read(settings)
        bundle = client.submit(hand_out, lab, key=f"coursetool-lab-{lab.digest}")
        run_key = grading_key(settings)
        waiting = iter(pending)
        running: dict[Any, Submission] = {}
        completed = as_completed()

        def submit_more() -> None:
            window = self.ahead * max(1, sum(client.nthreads().values()))
            while len(running) < window and (submission := next(waiting, None)) is not None:
                future = client.submit(grade_task, bundle, Task.of(submission), settings,
                                       key=task_key(submission, run_key))
                running[future] = submission
                completed.add(future)

        submit_more()
        for future in completed:
            submission = running.pop(future)
            yield submission, outcome_of(future, submission, settings)
            submit_more()


def check_workers(client: Any) -> None:
    """Every worker can import the grading code: a worker without it would die unpickling its first task."""
    missing = [worker for worker, spec in client.run(importlib.util.find_spec, "coursetool").items() if spec is None]
    if missing:
        raise ClusterError(f"the Dask worker(s) {', '.join(missing)} cannot import coursetool: start them from the "
                           "course folder, or with it on PYTHONPATH, in the course's Python environment")


def outcome_of(future: Any, submission: Submission, settings: Settings) -> Outcome:
    """The task's outcome; a submission that keeps killing its workers gets a zero row saying so."""
    from distributed import KilledWorker

    try:
        return future.result()
    except KilledWorker:
        return zero_outcome(submission, settings, Status.GRADER_ERROR,
                            "every worker that graded this submission died (the grader's limits did not hold it)")
