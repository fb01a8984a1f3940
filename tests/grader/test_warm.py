"""Warm kernels: forked from a server that imported the lab's modules, each in its own sandbox, graded as cold ones."""
from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from coursetool.grade.kernel import warm
from coursetool.grade.kernel.sandbox import bwrap_works, readable_paths
from coursetool.grade.settings import Limits, RunSpec
from tests.grader import corpus
from tests.grader.support import grade, grade_rows

pytestmark = pytest.mark.kernels  # starts kernels

LAB = "gradelab"

LOOK_AROUND = """
import json, os, random, sys
import numpy
mine = os.path.dirname(os.getcwd())
shared = os.path.dirname(mine)
with open("/dev/shm/left-by-" + os.path.basename(mine), "w") as note:
    note.write("a note for the next kernel")
try:
    open(os.path.join(shared, "planted"), "w").write("x")
    planted = True
except OSError:
    planted = False
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print("SEEN", json.dumps({
    "pid": os.getpid(), "processes": sorted(p for p in os.listdir("/proc") if p.isdigit()),
    "capabilities": status["CapEff"].strip(), "no_new_privs": status["NoNewPrivs"].strip(),
    "folders": sorted(os.listdir(shared)), "mine": os.path.basename(mine), "shm": sorted(os.listdir("/dev/shm")),
    "planted": planted, "torch_already_imported": "torch" in sys.modules,
    "random": [random.random(), float(numpy.random.random())],
}))
"""


def seen(course: Path, student: str) -> dict:
    nb = json.loads((course / "autograder" / "autograded" / student / LAB / f"{LAB}.ipynb").read_text())
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            text = "".join(output.get("text", ""))
            if text.startswith("SEEN "):
                return json.loads(text[len("SEEN "):])
    raise AssertionError(f"no report from {student}'s kernel")


def totals(course: Path) -> dict[str, str]:
    return {student: row["total"] for student, row in grade_rows(course, LAB).items()}


@pytest.mark.needs_sandbox(reason="the sandbox needs bwrap")
def test_each_warm_kernel_sees_only_its_own_folder_and_holds_no_privilege(course: Path, tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    students = ["ana", "ben", "cleo", "dev"]
    for student in students:
        corpus.write(corpus.with_prefix(course, LAB, "solution-1", LOOK_AROUND), submissions / student / f"{LAB}.ipynb")
    assert grade(submissions, course, LAB, "--jobs", "2") == 0
    assert set(totals(course).values()) == {"4"}
    draws = set()
    for student in students:
        view = seen(course, student)
        draws.update(view["random"])  # unseeded streams differ from kernel to kernel, as in new processes
        assert view["pid"] == 2 and view["processes"] == ["1", "2"], view  # its own pid namespace: a minimal init, the kernel
        assert int(view["capabilities"], 16) == 0 and view["no_new_privs"] == "1", view
        assert view["folders"] == [view["mine"]], view  # no other kernel's folder, no server socket
        assert view["shm"] == [f"left-by-{view['mine']}"], view  # nothing left by the kernel before it
        assert not view["planted"], view
    assert len(draws) == 2 * len(students), draws


def test_warm_and_cold_kernels_grade_alike(course: Path, tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    notebooks = {
        "solution": corpus.solved(course, LAB),
        "blank": corpus.release(course, LAB),
        "wrong-square": corpus.with_suffix(course, LAB, "solution-1", "def square(x):\n    return x * 3"),
        "crashes": corpus.with_prefix(course, LAB, "solution-1", "import os\nos._exit(3)"),
    }
    for student, nb in notebooks.items():
        corpus.write(nb, submissions / student / f"{LAB}.ipynb")
    assert grade(submissions, course, LAB, "--jobs", "2") == 0
    warm_rows = (course / "autograder" / "results" / LAB / "grades.csv").read_text()
    assert grade(submissions, course, LAB, "--jobs", "2", "--cold", "--regrade") == 0
    assert (course / "autograder" / "results" / LAB / "grades.csv").read_text() == warm_rows
    found = totals(course)
    assert found["solution"] == "4" and found["blank"] == "0" and found["crashes"] == "0"
    assert 0 < float(found["wrong-square"]) < 4


def test_a_fork_server_that_died_is_started_again(tmp_path: Path) -> None:
    spec = RunSpec(Limits(), {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, bwrap_works(),
                   readable_paths(None) if bwrap_works() else ())
    try:
        first = warm.fork_server(spec, ["json"])
        assert first.alive()
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait()
        second = warm.fork_server(spec, ["json"])
        assert second is not first and second.alive()
        assert warm.fork_server(spec, ["json"]) is second  # a live server is used again
    finally:
        warm.close_all()
    assert not second.alive() and not second.root.exists()
