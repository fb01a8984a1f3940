"""No student is lost, merged or left with a misleading reason, and a killed run leaves nothing behind."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from coursetool.grade.kernel import workdirs
from tests.grader import corpus
from tests.grader.support import grade, grade_rows, needs_sandbox

LAB = "gradelab"
ROOT = Path(__file__).resolve().parents[2]
SLEEPER = "import time\ntime.sleep(600)"


def rows(course: Path) -> dict[str, dict[str, str]]:
    return grade_rows(course, LAB)


@pytest.mark.kernels
def test_two_students_whose_names_clean_alike_are_both_graded(course: Path, tmp_path: Path, capsys) -> None:
    submissions = tmp_path / "submissions"
    corpus.write(corpus.solved(course, LAB), submissions / "Ana Lima" / f"{LAB}.ipynb")
    corpus.write(corpus.release(course, LAB), submissions / "Ana_Lima" / f"{LAB}.ipynb")
    assert grade(submissions, course, LAB, "--jobs", "2") == 0
    printed = capsys.readouterr().out
    found = rows(course)
    (spaced,) = [student for student in found if student.startswith("Ana_Lima-")]
    assert found[spaced]["total"] == "4" and found["Ana_Lima"]["total"] == "0"
    assert "'Ana Lima'" in found[spaced]["reason"] and f"id {spaced!r} for 'Ana Lima'" in printed


@pytest.mark.kernels  # the run starts its warm kernel server before it finds every submission rejected
def test_a_too_large_notebook_in_the_class_zip_is_rejected_for_its_size(course: Path, tmp_path: Path) -> None:
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("huge/gradelab.ipynb", b"{" + b" " * (60 * 2**20))
        z.writestr("nothing/notes.txt", b"see you")
    assert grade(archive, course, LAB, "--jobs", "1") == 0
    found = rows(course)
    assert found["huge"]["status"] == "rejected"
    assert found["huge"]["reason"] == ("the archive entry 'huge/gradelab.ipynb' is too large to grade "
                                       "(60.0 MB; the limit is 50.0 MB)")
    assert found["nothing"]["reason"] == "no notebook in the submission (found: notes.txt)"


def marked(temp: Path) -> set[Path]:
    return {p for p in temp.iterdir() if p.name.startswith(workdirs.PREFIX) and (p / workdirs.MARKER).exists()}


def scratch_folders(temp: Path) -> set[Path]:
    """Kernels' scratch folders: in the temporary folder, or in a fork server's folder there."""
    return {p for folder in marked(temp) for p in [folder, *folder.iterdir()]
            if p.name.startswith("coursetool-grade-") and (p / workdirs.MARKER).exists()}


def decoy(temp: Path, name: str, course: Path, pid: int, started: str | None) -> Path:
    folder = temp / name
    folder.mkdir()
    (folder / workdirs.MARKER).write_text(json.dumps({"course": str(course), "pid": pid, "started": started}))
    return folder


def dead_pid() -> int:
    finished = subprocess.Popen(["true"])
    finished.wait()
    return finished.pid


def wait_for_scratch(temp: Path, run: subprocess.Popen) -> None:
    """Until the run has made a kernel's scratch folder (or has ended, which the test then reports)."""
    while run.poll() is None and not scratch_folders(temp):
        time.sleep(0.2)


def wait_for_makers_to_end(folders: set[Path]) -> None:
    for folder in folders:
        marker = workdirs.read_marker(folder)
        while not workdirs.maker_gone(marker["pid"], marker["started"]):
            time.sleep(0.1)


@pytest.fixture
def temp() -> Iterator[Path]:
    """A temporary directory with a short path: kernel sockets live below it, and socket paths are short."""
    folder = Path(tempfile.mkdtemp(prefix="ct-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.kernels
@needs_sandbox
def test_a_killed_run_leaves_folders_that_the_next_run_removes(course: Path, tmp_path: Path, temp: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    autograder = (course / "autograder").resolve()
    submissions = tmp_path / "submissions"
    corpus.write(corpus.with_prefix(course, LAB, "solution-1", SLEEPER), submissions / "a-sleeper" / f"{LAB}.ipynb")
    corpus.write(corpus.solved(course, LAB), submissions / "correct" / f"{LAB}.ipynb")
    command = [sys.executable, "-m", "coursetool", "grade", str(submissions), "--lab", LAB, "--autograder", str(autograder),
               "--jobs", "1"]
    log = tmp_path / "killed-run.log"
    with open(log, "wb") as output:
        run = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "TMPDIR": str(temp)}, stdout=output, stderr=output)
        try:
            wait_for_scratch(temp, run)
        finally:
            run.send_signal(signal.SIGKILL)
            run.wait()
    left = marked(temp)
    assert {p.name.split("-")[1] for p in left} == {"submissions", "warm"}, log.read_text()
    assert scratch_folders(temp), "the kernel's scratch folder, in the fork server's"
    wait_for_makers_to_end(left)  # the workers die with the run, a moment after it

    unmarked = temp / "coursetool-grade-unmarked"
    unmarked.mkdir()
    live = decoy(temp, "coursetool-grade-live", autograder, os.getpid(), workdirs.start_time(os.getpid()))
    other_course = decoy(temp, "coursetool-grade-other", tmp_path / "elsewhere", dead_pid(), None)
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    corpus.write(corpus.solved(course, LAB), submissions / "a-sleeper" / f"{LAB}.ipynb")  # handed in anew
    assert grade(submissions, course, LAB, "--jobs", "1") == 0

    assert not any(p.exists() for p in left)
    assert unmarked.exists() and live.exists() and other_course.exists()
    assert marked(temp) == {live, other_course}
    found = rows(course)
    assert {student: row["total"] for student, row in found.items()} == {"a-sleeper": "4", "correct": "4"}


def test_submissions_that_are_a_single_notebook_stop_the_command_with_a_message(course: Path, tmp_path: Path, capsys) -> None:
    single = corpus.write(corpus.solved(course, LAB), tmp_path / f"alice_{LAB}.ipynb")
    assert grade(single, course, LAB) == 2
    assert "neither a folder nor a readable zip archive" in capsys.readouterr().err
