"""One kernel cannot take the others' processes or processors: a pids and a cpu group of its own."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from tests.grader import corpus
from tests.grader.support import grade, grade_rows

LAB = "gradelab"
PROCESSES = 64
# Bounded on purpose (1,000 children at most), so that the test cannot harm the machine even where no limit holds.
FORKS = """\
import os, time
children, refused = [], 0
for _ in range(1000):
    try:
        pid = os.fork()
    except OSError:
        refused += 1
        continue
    if pid == 0:
        time.sleep(600)
        os._exit(0)
    children.append(pid)
print("FORKED", json.dumps({"children": len(children), "refused": refused}))
"""
SPINNERS = """\
import os
for _ in range(200):
    if os.fork() == 0:
        while True:
            pass
"""
WORK = "work = sum(i * i for i in range(60_000_000))"

pytestmark = [
    pytest.mark.kernels,  # starts kernels
    pytest.mark.needs_sandbox(reason="the forked processes end with the sandbox's pid namespace"),
    pytest.mark.needs_cgroup("pids", reason="no pids cgroup can be created here"),
]


def totals(course: Path) -> dict[str, dict[str, str]]:
    return grade_rows(course, LAB)


def forked(course: Path, student: str) -> dict[str, int]:
    nb = nbformat.read(course / "autograder" / "autograded" / student / LAB / f"{LAB}.ipynb", as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("text", "").startswith("FORKED "):
                return json.loads(output["text"][len("FORKED "):])
    raise AssertionError(f"no report from {student}'s kernel")


@pytest.mark.parametrize("start", ["warm", "cold"])
def test_a_kernel_cannot_start_more_processes_than_its_limit(course: Path, tmp_path: Path, start: str) -> None:
    submissions = tmp_path / "submissions"
    corpus.write(corpus.with_prefix(course, LAB, "solution-1", "import json\n" + FORKS), submissions / "forker" / f"{LAB}.ipynb")
    corpus.write(corpus.solved(course, LAB), submissions / "honest" / f"{LAB}.ipynb")
    options = ["--jobs", "2", "--processes", str(PROCESSES)] + (["--cold"] if start == "cold" else [])
    assert grade(submissions, course, LAB, *options) == 0
    report = forked(course, "forker")
    assert report["children"] < PROCESSES and report["refused"] > 0, report  # its threads count too
    assert totals(course)["honest"]["total"] == "4"


def test_a_kernel_full_of_busy_processes_leaves_the_others_their_share(course: Path, tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    corpus.write(corpus.with_prefix(course, LAB, "solution-1", SPINNERS + "import time\ntime.sleep(600)"),
                 submissions / "busy" / f"{LAB}.ipynb")
    for number in range(2):  # each computes for a few seconds
        corpus.write(corpus.with_prefix(course, LAB, "solution-1", WORK), submissions / f"honest-{number}" / f"{LAB}.ipynb")
    # "busy" is graded first, its cell runs out of time; meanwhile an honest kernel, graded while 200 processes spin, gets a
    # processor's share of its own: without it, its few seconds of work would take many minutes
    assert grade(submissions, course, LAB, "--jobs", "2", "--cell-timeout", "30") == 0
    rows = totals(course)
    assert rows["busy"]["status"] == "timeout" and rows["busy"]["total"] == "0", rows["busy"]
    assert rows["honest-0"]["total"] == rows["honest-1"]["total"] == "4", rows
