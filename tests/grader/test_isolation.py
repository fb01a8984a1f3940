"""Isolation between students: what one kernel signals reaches nothing of the grader's and no other kernel, and a
kernel that signals itself gets what it would get on the student's own machine."""
from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import pytest

from coursetool.grade.notebook import pipeline
from tests.grader import corpus
from tests.grader.support import grade, grade_rows, needs_sandbox

pytestmark = [pytest.mark.kernels, needs_sandbox]  # starts kernels in the sandbox

LAB = "gradelab"
OPTIONS = ("--jobs", "2", "--cell-timeout", "20", "--memory", "1024")
SIGNALS = "import os, signal\n"

# Student -> (code put before the answer of a solution cell, total points running it gives, status).
HOSTILE = {
    "a-kills-its-process-group": ("solution-1", "os.kill(0, signal.SIGKILL)", "0", "kernel died"),
    # nothing else to signal in its namespace (kill(-1) spares the caller and pid 1): ProcessLookupError, square undefined
    "b-kills-every-process-it-can": ("solution-1", "os.kill(-1, signal.SIGKILL)", "2", "graded"),
    "c-kills-its-parent": ("solution-1", "os.kill(os.getppid(), signal.SIGKILL)", "4", "graded"),  # pid 1: ignored
    "d-kills-itself-halfway": ("solution-3", "os.kill(os.getpid(), signal.SIGKILL)", "3", "kernel died"),
    "e-terminates-itself-halfway": ("solution-3", "os.kill(os.getpid(), signal.SIGTERM)", "3", "kernel died"),
    "f-interrupts-itself": ("solution-3", "os.kill(os.getpid(), signal.SIGINT)\nimport time\ntime.sleep(5)", "3", "graded"),
    "g-kills-pid-1": ("solution-1", "os.kill(1, signal.SIGKILL)", "4", "graded"),
    "h-leaves-a-new-session": ("solution-1", "os.setsid() if os.getsid(0) != os.getpid() else None\n"
                               "os.killpg(os.getpgid(0), signal.SIGKILL)", "0", "kernel died"),
}
HONEST = [f"z-honest-{number}" for number in range(6)]


def write_class(course: Path, submissions: Path) -> None:
    for student, (cell, code, _, _) in HOSTILE.items():
        corpus.write(corpus.with_prefix(course, LAB, cell, SIGNALS + code), submissions / student / f"{LAB}.ipynb")
    for student in HONEST:
        corpus.write(corpus.solved(course, LAB), submissions / student / f"{LAB}.ipynb")


def grades(course: Path) -> dict[str, dict[str, str]]:
    return grade_rows(course, LAB)


@pytest.mark.parametrize("mode", [(), ("--cold",)], ids=["warm", "cold"])
def test_a_hostile_student_harms_no_classmate_and_gets_what_running_the_notebook_gives(
        course: Path, tmp_path: Path, mode: tuple[str, ...]) -> None:
    submissions = tmp_path / "submissions"
    write_class(course, submissions)
    assert grade(submissions, course, LAB, *OPTIONS, *mode) == 0, "no grader error"
    rows = grades(course)
    assert {student: rows[student]["total"] for student in HONEST} == dict.fromkeys(HONEST, "4")
    assert {student: rows[student]["status"] for student in HONEST} == dict.fromkeys(HONEST, "graded")
    expected = {student: (total, status) for student, (_, _, total, status) in HOSTILE.items()}
    assert {student: (rows[student]["total"], rows[student]["status"]) for student in HOSTILE} == expected


def test_a_server_seen_as_a_zombie_is_not_running() -> None:
    from coursetool.grade.kernel.warm import process_running

    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        deadline = time.monotonic() + 10
        while process_running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not process_running(pid), "an ended process that nobody reaped yet"
        assert process_running(os.getpid())
    finally:
        os.waitpid(pid, 0)


def test_a_submission_the_warm_kernel_failed_is_graded_again_on_a_cold_one(course: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    real = pipeline.grade_file

    def warm_fails(submission, settings):
        if settings.warm:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return real(submission, settings)

    monkeypatch.setattr(pipeline, "grade_file", warm_fails)
    submissions = tmp_path / "submissions"
    corpus.write(corpus.solved(course, LAB), submissions / "ana" / f"{LAB}.ipynb")
    assert grade(submissions, course, LAB, *OPTIONS) == 0
    assert (grades(course)["ana"]["total"], grades(course)["ana"]["status"]) == ("4", "graded")


def test_a_grader_error_is_said_and_graded_again_on_the_next_run(course: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    real = pipeline.grade_file
    monkeypatch.setattr(pipeline, "grade_file", lambda submission, settings: (_ for _ in ()).throw(OSError("no kernel")))
    submissions = tmp_path / "submissions"
    corpus.write(corpus.solved(course, LAB), submissions / "ana" / f"{LAB}.ipynb")
    assert grade(submissions, course, LAB, *OPTIONS) == 1
    assert "could not be graded because the grader failed" in capsys.readouterr().err
    assert grades(course)["ana"]["status"] == "grader error"
    monkeypatch.setattr(pipeline, "grade_file", real)
    assert grade(submissions, course, LAB, *OPTIONS) == 0
    assert "1 to grade" in capsys.readouterr().out
    assert (grades(course)["ana"]["total"], grades(course)["ana"]["status"]) == ("4", "graded")


HANGS_WHEN_PROBED = {  # correct on the visible test, endless on the probe with a zero mean
    "spins": "while True:\n            pass",
    "sleeps": "import time\n        time.sleep(10_000)",
    "floods-output": "while True:\n            print('x' * 100_000)",
    "floods-the-file-descriptor": "import os\n        while True:\n            os.write(1, b'x' * 100_000)",
    "floods-through-the-class": "import sys\n        while True:\n            type(sys.stdout).write(sys.stdout, 'x' * 100_000)",
}


@pytest.mark.parametrize("mode", [(), ("--cold",)], ids=["warm", "cold"])
def test_a_hidden_check_that_hangs_costs_its_own_cell_only(course: Path, tmp_path: Path, mode: tuple[str, ...]) -> None:
    lab = "honestlab"
    submissions = tmp_path / "submissions"
    for student, hang in HANGS_WHEN_PROBED.items():
        reparameterise = ("def reparameterise(mu, logvar):\n    if mu.numel() == 20000 and float(mu.abs().sum()) == 0.0:\n"
                          f"        {hang}\n    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)\n")
        nb = corpus.solved(course, lab, **{"solution-2": reparameterise})
        corpus.write(nb, submissions / student / f"{lab}.ipynb")
    assert grade(submissions, course, lab, "--cell-timeout", "6", "--jobs", "2", *mode) == 0
    rows = grade_rows(course, lab)
    for student in HANGS_WHEN_PROBED:
        assert (rows[student]["t-kl"], rows[student]["t-reparam"], rows[student]["status"]) == ("2", "0", "graded"), student
    nb = nbformat.read(course / "autograder" / "autograded" / "spins" / lab / f"{lab}.ipynb", as_version=4)
    figure = next(c for c in nb.cells if "plt.subplots" in c.source)
    # its figure is not shown (nothing written after a probe is), but the cell ran: the kernel lived on
    assert figure.execution_count is not None and figure.outputs == [], "the cells after it ran"


CRASHES_WHEN_PROBED = {  # correct on the visible test (float32), fatal to the kernel on the float64 probe
    "exits": "import os\n        os._exit(1)",
    "kills-itself": "import os, signal\n        os.kill(os.getpid(), signal.SIGKILL)",
    "segfaults": "import ctypes\n        ctypes.string_at(0)",
    "aborts": "import os\n        os.abort()",
}


def kl_that_crashes_when_probed(crash: str) -> str:
    return ("def gaussian_kl(mu, logvar):\n    if mu.dtype == torch.float64:\n"
            f"        {crash}\n    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=-1)\n")


@pytest.mark.parametrize("mode", [(), ("--cold",)], ids=["warm", "cold"])
def test_a_hidden_check_that_kills_the_kernel_costs_its_own_cell_only(course: Path, tmp_path: Path,
                                                                        mode: tuple[str, ...]) -> None:
    lab = "honestlab"
    submissions = tmp_path / "submissions"
    for student, crash in CRASHES_WHEN_PROBED.items():
        nb = corpus.solved(course, lab, **{"solution-1": kl_that_crashes_when_probed(crash)})
        corpus.write(nb, submissions / student / f"{lab}.ipynb")
    assert grade(submissions, course, lab, "--jobs", "2", *mode) == 0
    rows = grade_rows(course, lab)
    for student in CRASHES_WHEN_PROBED:
        row = rows[student]
        assert (row["t-kl"], row["t-reparam"], row["status"]) == ("0", "1", "graded"), (student, row)
        assert "started again" in row["reason"], row["reason"]
    nb = nbformat.read(course / "autograder" / "autograded" / "exits" / lab / f"{lab}.ipynb", as_version=4)
    figure = next(c for c in nb.cells if "plt.subplots" in c.source)
    assert figure.execution_count is not None, "the cells after the crash ran in the restarted kernel"


def test_what_a_killed_kernel_saw_changed_while_probed_is_still_listed(course: Path, tmp_path: Path) -> None:
    lab = "honestlab"
    patches_while_probed = ("_numpy = torch.Tensor.numpy\ndef gaussian_kl(mu, logvar):\n"
                            "    torch.Tensor.numpy = lambda self, *a, **k: _numpy(self, *a, **k)\n"
                            "    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=-1)\n")
    crashes_when_probed = ("def reparameterise(mu, logvar):\n    if mu.numel() == 20000 and float(mu.abs().sum()) == 0.0:\n"
                           "        import os\n        os._exit(1)\n"
                           "    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)\n")
    nb = corpus.solved(course, lab, **{"solution-1": patches_while_probed, "solution-2": crashes_when_probed})
    corpus.write(nb, tmp_path / "submissions" / "ana" / f"{lab}.ipynb")
    assert grade(tmp_path / "submissions", course, lab) == 0
    row = grade_rows(course, lab)["ana"]
    assert (row["t-kl"], row["t-reparam"], row["status"]) == ("0", "0", "graded"), row
    report = (course / "autograder" / "results" / lab / "report.html").read_text(encoding="utf-8")
    assert "while a hidden check ran" in report.split("Submissions to look at")[1].split("<td>ana</td>")[1]


def test_probes_that_kill_kernels_again_and_again_end_the_run_after_the_last_restart(
        course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from coursetool.grade.kernel import runner

    monkeypatch.setattr(runner, "MAX_PROBE_RESTARTS", 0)
    lab = "honestlab"
    nb = corpus.solved(course, lab, **{"solution-1": kl_that_crashes_when_probed(CRASHES_WHEN_PROBED["exits"])})
    corpus.write(nb, tmp_path / "submissions" / "ana" / f"{lab}.ipynb")
    assert grade(tmp_path / "submissions", course, lab) == 0
    row = grade_rows(course, lab)["ana"]
    assert (row["t-kl"], row["t-reparam"], row["status"]) == ("0", "0", "kernel died"), row
