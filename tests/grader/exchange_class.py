"""A class handed in through nbgrader's own exchange: ``nbgrader submit`` per student, then ``nbgrader collect``."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

COURSE_ID = "testcourse"


def nbgrader(*args: str, cwd: Path) -> None:
    """Run nbgrader from this environment; fail loudly with its output."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def config(course: Path, exchange: Path) -> str:
    return (f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n"
            f"c.CourseDirectory.course_id = {COURSE_ID!r}\nc.Exchange.root = {str(exchange)!r}\n")


def make_exchange(root: Path, lab: str) -> Path:
    """An exchange with the lab released (its outbound folder) and an inbound folder students may write to."""
    exchange = root / "exchange"
    (exchange / COURSE_ID / "inbound").mkdir(parents=True)
    (exchange / COURSE_ID / "outbound" / lab).mkdir(parents=True)
    os.chmod(exchange / COURSE_ID / "inbound", 0o733)
    return exchange


def collect(root: Path, lab: str, notebooks: dict[str, nbformat.NotebookNode]) -> Path:
    """Each student submits their notebook with ``nbgrader submit``; the instructor runs ``nbgrader collect``.

    Returns the collect folder (``<course>/submitted``).
    """
    exchange = make_exchange(root, lab)
    course = root / "instructor"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(config(course, exchange))
    for student, nb in notebooks.items():
        work = root / "home" / student
        (work / lab).mkdir(parents=True)
        nbformat.write(nb, work / lab / f"{lab}.ipynb")
        (work / "nbgrader_config.py").write_text(config(course, exchange))
        nbgrader("submit", lab, "--course", COURSE_ID, "--student", student, cwd=work)
    nbgrader("collect", lab, cwd=course)
    return course / "submitted"
