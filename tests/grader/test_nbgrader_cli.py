"""nbgrader's own command line works on the course folder the build and the grader write."""
from __future__ import annotations

import html
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from coursetool.build import build_files
from coursetool.grade.course.gradebook import course_id
from coursetool.write import replace_outputs
from tests.grader import corpus
from tests.grader.support import grade

REPO = Path(__file__).resolve().parents[2]
NBGRADER = [sys.executable, "-m", "nbgrader"]
LAB = "gradelab"
# A square that is right for 3 but not for -1.5: the visible test passes, the hidden one fails.
WRONG_FOR_NEGATIVES = "def square(x):\n    return abs(x) * x"


def nbgrader_env() -> dict[str, str]:
    """The grader's environment without the course settings, so nbgrader_config.py must supply them.

    nbgrader runs ``alembic`` from PATH: this environment's bin folder comes first.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("VAELAB_QUICK", "VAELAB_OFFLINE", "VAELAB_PROGRESS")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return env


def nbgrader(autograder: Path, *args: str) -> None:
    result = subprocess.run([*NBGRADER, *args], cwd=autograder, env=nbgrader_env(), capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "Removing failed" not in output, output


def scores(autograder: Path, lab: str, student: str) -> dict[str, float | None]:
    """Every graded cell's automatic score in nbgrader's gradebook."""
    with Gradebook(f"sqlite:///{autograder / 'gradebook.db'}", course_id(autograder)) as gradebook:
        submission = gradebook.find_submission_notebook(lab, lab, student)
        return {g.name: g.auto_score for g in submission.grades}


def hidden_only_lines(autograder: Path, release: Path, lab: str) -> set[str]:
    """Lines of the hidden test regions that the student's notebook never shows."""
    visible = {line.strip() for cell in nbformat.read(release, as_version=4).cells for line in cell.source.splitlines()}
    hidden: set[str] = set()
    source = nbformat.read(autograder / "source" / lab / f"{lab}.ipynb", as_version=4)
    for cell in source.cells:
        inside = False
        for line in (line.strip() for line in cell.source.splitlines()):
            if line in ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"):
                inside = line.startswith("### BEGIN")
            elif inside and line and line not in visible:
                hidden.add(line)
    return hidden


def page_text(path: Path) -> str:
    """A feedback page as text: tags (the code highlighting) removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


def feedback_page(autograder: Path, lab: str, student: str) -> str:
    return page_text(autograder / "feedback" / student / lab / f"{lab}.html")


def source_cells(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return sorted(connection.execute(
            "SELECT name, cell_type, locked, source, checksum FROM source_cell").fetchall())


@pytest.mark.kernels
def test_gradebook_cells_are_those_generate_assignment_writes(course: Path, tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    shutil.copytree(course / "autograder", theirs)
    nbgrader(theirs, "generate_assignment", LAB, "--force")
    submissions = tmp_path / "submissions"
    corpus.write(corpus.release(course, LAB), submissions / "bob" / f"{LAB}.ipynb")
    assert grade(submissions, course, LAB, "--jobs", "1") == 0
    ours = source_cells(course / "autograder" / "gradebook.db")
    assert all(checksum for *_, checksum in ours), ours
    assert ours == source_cells(theirs / "gradebook.db")


@pytest.mark.kernels
def test_nbgrader_autogrades_and_gives_feedback_after_the_course_grader(course: Path, tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    corpus.write(corpus.solved(course, LAB), submissions / "alice" / f"{LAB}.ipynb")
    corpus.write(corpus.release(course, LAB), submissions / "bob" / f"{LAB}.ipynb")
    corpus.write(corpus.solved(course, LAB, **{"solution-1": WRONG_FOR_NEGATIVES}), submissions / "carol" / f"{LAB}.ipynb")
    assert grade(submissions, course, LAB, "--jobs", "1") == 0
    autograder = course / "autograder"
    for student in ("alice", "bob", "carol"):
        nbgrader(autograder, "autograde", LAB, "--student", student, "--force")
    nbgrader(autograder, "generate_feedback", LAB, "--force")

    # alice: every test passes; her written answer waits for a grader. bob: nothing runs, no answer.
    assert scores(autograder, LAB, "alice") == {"t-square": 2, "t-mean": 1, "t-double": 1, "q-why": None}
    assert scores(autograder, LAB, "bob") == {"t-square": 0, "t-mean": 0, "t-double": 0, "q-why": 0}
    # carol: square(3) is 9, so only the hidden check of square(-1.5) fails.
    assert scores(autograder, LAB, "carol") == {"t-square": 0, "t-mean": 1, "t-double": 1, "q-why": None}

    hidden = hidden_only_lines(autograder, course / "release" / f"{LAB}.ipynb", LAB)
    assert "hidden_probe_square = square(-1.5)" in hidden
    for student in ("alice", "bob", "carol"):
        page = feedback_page(autograder, LAB, student)
        assert 'assert square(3) == 9, f"ex 9.1: square(3) is {square(3)}, expected 9"' in page
        assert not [line for line in hidden if line in page], student
    assert "ex 9.1: wrong for negative numbers" in feedback_page(autograder, LAB, "carol")


@pytest.mark.labs
@pytest.mark.skipif(not (REPO / "source" / "lab1_autoencoders.md").exists(), reason="lab 1 is not written yet")
def test_plain_nbgrader_grades_lab1_with_the_course_settings(tmp_path: Path) -> None:
    lab = "lab1_autoencoders"
    replace_outputs(tmp_path, build_files(REPO / "source"))
    autograder = tmp_path / "autograder"
    first = tmp_path / "first-class"  # the course's grader runs once first: it writes the probes' reference values
    corpus.write(corpus.solved(tmp_path, lab), first / "someone" / f"{lab}.ipynb")
    assert grade(first, tmp_path, lab) == 0
    assert (autograder / "source" / lab / "probes.json").exists()
    nbgrader(autograder, "generate_assignment", lab, "--force")
    for student, nb in (("solution", corpus.solved(tmp_path, lab)), ("blank", corpus.release(tmp_path, lab))):
        corpus.write(nb, autograder / "submitted" / student / lab / f"{lab}.ipynb")
    nbgrader(autograder, "autograde", lab)
    nbgrader(autograder, "generate_feedback", lab)

    solution, blank = scores(autograder, lab, "solution"), scores(autograder, lab, "blank")
    source = nbformat.read(autograder / "source" / lab / f"{lab}.ipynb", as_version=4)
    points = {c.metadata.nbgrader["grade_id"]: c.metadata.nbgrader["points"] for c in source.cells
              if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"}
    assert {name: solution[name] for name in points} == points
    assert set(blank.values()) == {0}

    graded = nbformat.read(autograder / "autograded" / "solution" / lab / f"{lab}.ipynb", as_version=4)
    outputs = [output for cell in graded.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not any(output.output_type == "error" for output in outputs), "no cell fails or times out"
    assert not any("application/vnd.jupyter.widget-view+json" in output.get("data", {}) for output in outputs)

    # the reference values stay in source/: not in nbgrader's release, autograded or feedback folders
    assert list(autograder.rglob("probes.json")) == [autograder / "source" / lab / "probes.json"]

    hidden = hidden_only_lines(autograder, tmp_path / "release" / f"{lab}.ipynb", lab)
    assert hidden
    for student in ("solution", "blank"):
        page = feedback_page(autograder, lab, student)
        assert not [line for line in hidden if line in page], student
