"""The memory limit holds from inside a graded kernel, for every kind of allocation, and leaves normal work alone."""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from coursetool.grade.kernel import limits as kernel_limits
from tests.grader import corpus
from tests.grader.support import grade, grade_rows

LAB = "torchlab"
MEMORY_MB = 1024
HOGS = {  # each asks for twice the limit
    "shared-mmap": ("import mmap\nhog = mmap.mmap(-1, 2 * 1024**3, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)\n"
                    "for offset in range(0, len(hog), mmap.PAGESIZE):\n    hog[offset] = 1"),
    "numpy": "import numpy\nhog = numpy.ones(2 * 1024**3 // 8)",
    "torch": "hog = torch.ones(2 * 1024**3 // 4)",
}
TRAINING = """\
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 16),
                            torch.nn.Linear(16, 128), torch.nn.ReLU(), torch.nn.Linear(128, 784))
optimiser = torch.optim.Adam(model.parameters())
images = torch.rand(256, 784)
for step in range(20):
    loss = ((model(images) - images) ** 2).mean()
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
assert loss.item() < 0.5
"""
ALLOCATION_FAILED = ("MemoryError", "can't allocate memory")

needs_cgroup = pytest.mark.needs_cgroup("memory", reason="no memory cgroup can be created here")


def rows(course: Path) -> dict[str, dict[str, str]]:
    return grade_rows(course, LAB)


def outputs(course: Path, student: str) -> str:
    nb = nbformat.read(course / "autograder" / "autograded" / student / LAB / f"{LAB}.ipynb", as_version=4)
    return nbformat.writes(nb)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, built_course: Path) -> Path:
    """Three memory hogs and a submission that trains a small model, graded under a 1 GiB limit."""
    root = tmp_path_factory.mktemp("memory")
    course, submissions = root / "course", root / "submissions"
    shutil.copytree(built_course, course)
    for student, code in HOGS.items():
        corpus.write(corpus.with_prefix(course, LAB, "solution-1", code), submissions / student / f"{LAB}.ipynb")
    corpus.write(corpus.with_suffix(course, LAB, "solution-1", TRAINING), submissions / "trainer" / f"{LAB}.ipynb")
    assert grade(submissions, course, LAB, "--jobs", "1", "--memory", str(MEMORY_MB)) == 0
    return course


@pytest.mark.kernels
@needs_cgroup
def test_a_shared_mapping_beyond_the_limit_kills_the_kernel(graded: Path) -> None:
    row = rows(graded)["shared-mmap"]
    assert row["t-scale"] == "0" and row["status"] == "kernel died"


@pytest.mark.kernels
@pytest.mark.parametrize("student", ["numpy", "torch"])
def test_numpy_and_torch_allocations_beyond_the_limit_fail(graded: Path, student: str) -> None:
    row = rows(graded)[student]
    assert row["t-scale"] == "0"
    assert row["status"] == "kernel died" or any(sign in outputs(graded, student) for sign in ALLOCATION_FAILED)


@pytest.mark.kernels
def test_training_a_small_model_keeps_full_marks_after_the_hogs(graded: Path) -> None:
    row = rows(graded)["trainer"]
    assert row["t-scale"] == "1" and row["status"] == "graded"


@pytest.mark.kernels
def test_without_a_cgroup_torch_still_trains_under_the_default_limit(course: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernel_limits, "group_parents", lambda: {})
    submissions = tmp_path / "submissions"
    corpus.write(corpus.with_suffix(course, LAB, "solution-1", TRAINING), submissions / "trainer" / f"{LAB}.ipynb")
    assert grade(submissions, course, LAB, "--jobs", "1") == 0
    assert rows(course)["trainer"]["t-scale"] == "1"
