"""Grading on a real Dask cluster: a scheduler and two workers as separate processes on this machine.

A class graded through the cluster gives the very grades.csv a local run gives; with a worker
killed mid-batch, every student is still graded, and recorded exactly once. Where bwrap
works the workers see the temporary folders (the client's course folder, staging folder and
submissions) empty, as workers on other machines would.
"""
from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from coursetool.grade.kernel import runner
from coursetool.grade.kernel.sandbox import bwrap_works
from coursetool.probes import REFERENCE_FILE
from tests.grader import corpus
from tests.grader.support import grade, needs_sandbox
from tests.grader.dask_processes import REPO, LocalDask, wait_until

pytestmark = [pytest.mark.kernels, needs_sandbox]  # starts a Dask cluster and kernels, which refuse to run unsandboxed

LAB = "gradelab"
OPTIONS = ("--cell-timeout", "30", "--memory", "1024")
CLIENT_SECONDS = 600
STUDENTS = 6


def write_class(course: Path, submissions: Path) -> None:
    """Six students: two correct (each a different file), blank, overriding, unreadable, no notebook."""
    target = lambda student: submissions / student / f"{LAB}.ipynb"  # noqa: E731
    for number in range(2):
        nb = corpus.solved(course, LAB)
        nb.cells[0].source += f"\n<!-- student {number} -->"
        corpus.write(nb, target(f"correct-{number}"))
    corpus.write(corpus.release(course, LAB), target("blank"))
    cheat = "def square(x):\n    return x * x if x > 0 else 0\nimport math\nmath.isclose = lambda *a, **k: True\n"
    corpus.write(corpus.solved(course, LAB, **{"solution-1": cheat}), target("overrider"))
    corpus.write_raw(b'{"cells": [', target("unreadable"))
    corpus.write_raw(b"my answers are in my head", submissions / "no-notebook" / "answers.txt")


@pytest.fixture(scope="module")
def classroom(tmp_path_factory: pytest.TempPathFactory, built_course: Path) -> dict[str, Path]:
    """The submissions, and the grades.csv of grading them on this machine (the reference)."""
    root = tmp_path_factory.mktemp("cluster-class")
    submissions = root / "submissions"
    write_class(built_course, submissions)
    local = copy_course(built_course, root / "local")
    assert grade(submissions, local, LAB, "--jobs", "2", *OPTIONS) == 0
    return {"root": root, "submissions": submissions, "local": local}


def copy_course(built_course: Path, target: Path) -> Path:
    shutil.copytree(built_course, target)
    return target


@pytest.fixture
def dask_cluster(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalDask]:
    """A scheduler and two single-threaded workers; every process is killed afterwards, whatever happened."""
    (tmp_path / "dask").mkdir()
    hidden = {Path(tempfile.gettempdir()).resolve(), tmp_path_factory.getbasetemp().resolve()} if bwrap_works() else set()
    cluster = LocalDask(tmp_path / "dask", hidden=tuple(hidden))
    try:
        yield cluster.start(workers=2)
    finally:
        cluster.stop()


def client_command(submissions: Path, course: Path, address: str) -> list[str]:
    return [sys.executable, "-m", "coursetool", "grade", str(submissions), "--lab", LAB,
            "--autograder", str(course / "autograder"), "--scheduler", address, *OPTIONS]


def results(course: Path) -> Path:
    return course / "autograder" / "results" / LAB


def graded_students(output: str) -> list[str]:
    """The students of the client's progress lines, one line per recorded result."""
    return re.findall(r"^\[\d+/\d+\] (\S+):", output, re.MULTILINE)


def gradebook_rows(course: Path) -> tuple[int, int]:
    db = sqlite3.connect(course / "autograder" / "gradebook.db")
    try:
        return db.execute("select count(*), count(distinct student_id) from submitted_assignment").fetchone()
    finally:
        db.close()


def test_a_class_graded_on_the_cluster_gets_the_local_grades(classroom: dict, dask_cluster: LocalDask,
                                                              built_course: Path) -> None:
    course = copy_course(built_course, classroom["root"] / "on-cluster")
    run = subprocess.run(client_command(classroom["submissions"], course, dask_cluster.address), cwd=REPO,
                         capture_output=True, text=True, timeout=CLIENT_SECONDS)
    assert run.returncode == 0, run.stderr
    assert (results(course) / "grades.csv").read_bytes() == (results(classroom["local"]) / "grades.csv").read_bytes()
    assert sorted(graded_students(run.stdout)) == sorted(p.name for p in classroom["submissions"].iterdir())
    for kind in ("feedback", "autograded", "submitted"):
        here = sorted(p.relative_to(course) for p in (course / "autograder" / kind).rglob("*.*"))
        there = sorted(p.relative_to(classroom["local"]) for p in (classroom["local"] / "autograder" / kind).rglob("*.*"))
        assert here == there and here, kind
    assert not (course / "autograder" / "autograded" / "unreadable").exists()


def test_a_killed_worker_loses_no_grade_and_duplicates_none(classroom: dict, dask_cluster: LocalDask,
                                                             built_course: Path) -> None:
    course = copy_course(built_course, classroom["root"] / "worker-killed")
    log = classroom["root"] / "worker-killed.log"
    with open(log, "w") as output:
        client = subprocess.Popen(client_command(classroom["submissions"], course, dask_cluster.address), cwd=REPO,
                                  stdout=output, stderr=subprocess.STDOUT, text=True)
        try:
            wait_until(lambda: graded_students(log.read_text()) or client.poll() is not None, CLIENT_SECONDS,
                       "the first result")
            dask_cluster.kill(dask_cluster.workers[0])
            assert client.wait(timeout=CLIENT_SECONDS) == 0, log.read_text()
        finally:
            client.kill()
            client.wait(timeout=30)
    students = graded_students(log.read_text())
    assert len(students) == len(set(students)) == STUDENTS
    assert gradebook_rows(course) == (STUDENTS, STUDENTS)
    assert (results(course) / "grades.csv").read_bytes() == (results(classroom["local"]) / "grades.csv").read_bytes()


def test_probes_are_judged_against_a_reference_run_on_a_worker(dask_cluster: LocalDask, built_course: Path,
                                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lab = "probelab"
    course = copy_course(built_course, tmp_path / "course")
    submissions = tmp_path / "submissions"
    corpus.write(corpus.solved(course, lab), submissions / "right" / f"{lab}.ipynb")
    # keeps every shape the visible asserts check: only the probes find it wrong
    corpus.write(corpus.solved(course, lab, **{"solution-1": "def scale(t):\n    return 3 * t"}),
                 submissions / "triples" / f"{lab}.ipynb")

    def no_kernel_on_the_client(*args: object, **kwargs: object) -> None:
        raise AssertionError("the client ran a notebook: on a cluster every kernel runs on a worker")

    monkeypatch.setattr(runner, "execute", no_kernel_on_the_client)
    assert grade(submissions, course, lab, "--scheduler", dask_cluster.address, *OPTIONS) == 0
    rows = (course / "autograder" / "results" / lab / "grades.csv").read_text().splitlines()
    assert [row.split(",")[:3] for row in rows[1:]] == [["right", "1", "1"], ["triples", "0", "0"]], rows
    assert (course / "autograder" / "source" / lab / REFERENCE_FILE).is_file()  # stored by the client
