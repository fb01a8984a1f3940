"""The course itself: committed notebooks are fresh; every lab's solution passes and its blank fails,
and the grader, run as a grader runs it, finds the same verdicts as the check."""
import shutil
from pathlib import Path

import nbformat
import pytest

from coursetool.build import build_files, find_sources, parse_course
from coursetool.verify import stale_outputs, verify_lab
from coursetool.write import read_outputs, replace_outputs
from tests.grader.support import grade, grade_rows

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "source"
LABS = [p.stem for p in find_sources(SOURCE)] if SOURCE.is_dir() else []


def test_committed_notebooks_match_a_fresh_build():
    if not LABS:
        pytest.skip("no labs in source/ yet")
    assert stale_outputs(build_files(SOURCE), read_outputs(REPO)) == []


def graded_by_the_grader(files: dict[str, bytes], name: str, tmp_path: Path) -> dict[str, dict[str, float]]:
    """Points per test cell for the solution and the blank notebook, from ``coursetool grade``."""
    course, submissions = tmp_path / "course", tmp_path / "submissions"
    replace_outputs(course, files)
    for student, folder in (("solution", "solutions"), ("blank", "release")):
        (submissions / student).mkdir(parents=True)
        shutil.copy(course / folder / f"{name}.ipynb", submissions / student / f"{name}.ipynb")
    assert grade(submissions, course, name, "--jobs", "2") == 0
    autograded = (course / "autograder" / "autograded" / "solution" / name / f"{name}.ipynb").read_text()
    assert "application/vnd.jupyter.widget-view+json" not in autograded, "a dead progress widget was recorded"
    rows = grade_rows(course, name)
    return {student: {key: float(value) for key, value in row.items() if key in graded_ids(files, name)}
            for student, row in rows.items()}


def graded_ids(files: dict[str, bytes], name: str) -> set[str]:
    nb = nbformat.reads(files[f"autograder/source/{name}/{name}.ipynb"].decode(), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"] for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")}


@pytest.mark.labs
@pytest.mark.parametrize("name", LABS)
def test_check_and_grader_agree_solution_passes_blank_fails(name, tmp_path):
    files = build_files(SOURCE)
    lab = next(lab for lab in parse_course(SOURCE) if lab.name == name)
    verdicts = verify_lab(lab, files)
    assert verdicts.problems == []
    assert all(points > 0 for points in verdicts.solution.values()) and set(verdicts.blank.values()) == {0.0}
    by_grader = graded_by_the_grader(files, name, tmp_path)
    assert by_grader == {"solution": verdicts.solution, "blank": verdicts.blank}
