"""Students' and instructors' package sets: pip and conda name the same, everything is pinned,
and students never get nbgrader's instructor tools."""
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
STUDENTS, INSTRUCTORS = REPO / "requirements.txt", REPO / "requirements-instructor.txt"
# Course tools students have no use for; nbgrader would add its Formgrader to their JupyterLab.
INSTRUCTOR_ONLY = {"nbgrader", "jupytext", "nbval", "pytest", "nbclient", "nbformat", "pyyaml", "dask", "copydetect"}


def requirement_lines(path: Path) -> list[str]:
    """The file's requirements in order, with the files it includes (``-r``) in their place."""
    lines: list[str] = []
    for line in (line.strip() for line in path.read_text().splitlines()):
        if line.startswith("-r "):
            lines += requirement_lines(path.parent / line.removeprefix("-r ").strip())
        elif line and not line.startswith("#"):
            lines.append(line)
    return lines


def package(requirement: str) -> str | None:
    """The distribution name of a requirement line; None for the editable helpers."""
    if requirement.startswith("-e "):
        return None
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower()


def conda_pip_list(name: str) -> list[str]:
    environment = yaml.safe_load((REPO / name).read_text())
    return next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))


def test_conda_environments_equal_the_pip_requirements():
    assert conda_pip_list("environment.yml") == requirement_lines(STUDENTS)
    assert conda_pip_list("environment-instructor.yml") == requirement_lines(INSTRUCTORS)


def test_both_sets_install_the_helpers():
    assert "-e ./helpers" in requirement_lines(STUDENTS)
    assert requirement_lines(INSTRUCTORS)[:len(requirement_lines(STUDENTS))] == requirement_lines(STUDENTS)


def test_students_get_jupyter_and_the_lab_packages_but_no_course_tools():
    students = {package(line) for line in requirement_lines(STUDENTS)} - {None}
    assert {"torch", "torchvision", "numpy", "matplotlib", "tqdm", "jupyter"} <= students
    assert not students & INSTRUCTOR_ONLY
    instructors = {package(line) for line in requirement_lines(INSTRUCTORS)} - {None}
    assert INSTRUCTOR_ONLY <= instructors


def test_constraints_pin_every_requirement_exactly():
    pins = {line.split("==")[0].lower() for line in requirement_lines(REPO / "constraints.txt")}
    for name in {package(line) for line in requirement_lines(INSTRUCTORS)} - {None}:
        assert name in pins, f"{name} is not pinned in constraints.txt"
