"""Grading speed: ``coursetool grade`` against ``nbgrader autograde`` and plain execution.

    python bench/bench_grading.py                       # 8 submissions of the grading fixture lab
    python bench/bench_grading.py -n 6 --source source --lab lab1_autoencoders

N copies of the lab's solution are graded three ways on the same machine, in one run:
plain execution (nbclient, one notebook after the other: the floor any grader pays),
``nbgrader autograde`` (serial), and ``python -m coursetool grade`` (parallel, sandboxed).
Prints wall times, the speed-up over nbgrader, and the cost per submission against plain
execution (core-seconds: wall time times parallel jobs, divided by N). Every kernel, in all
three, computes on one thread (as ``coursetool grade`` gives each of its parallel kernels),
so that the three compare the same work per core.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from coursetool.build import build_files  # noqa: E402
from coursetool.write import replace_outputs  # noqa: E402
from tests.grader import corpus  # noqa: E402


def environment() -> dict[str, str]:
    env = {**os.environ, "VAELAB_QUICK": "1", "VAELAB_OFFLINE": "1", "MPLBACKEND": "Agg", "PYTHONPATH": str(REPO),
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    shared = REPO.parent / "shared" / "data" / "mnist-t10k-split"
    if (shared / "MNIST").is_dir():
        env.setdefault("VAELAB_DATA", str(shared))
    return env


def write_submissions(course: Path, lab: str, count: int, folder: Path) -> list[Path]:
    """``count`` distinct copies of the solved notebook, one folder per student."""
    paths = []
    for number in range(count):
        nb = corpus.solved(course, lab)
        nb.cells[0].source += f"\n<!-- student {number} -->"
        paths.append(corpus.write(nb, folder / f"student{number:02d}" / f"{lab}.ipynb"))
    return paths


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def plain_execution(paths: list[Path], env: dict[str, str], workdir: Path) -> float:
    """Execute every notebook once, one after the other, the way nbconvert --execute does."""
    os.environ.update({k: v for k, v in env.items() if k.startswith(("VAELAB_", "OMP_", "MKL_", "OPENBLAS_", "MPL"))})

    def run() -> None:
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            NotebookClient(nb, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(workdir)}}).execute()
    return timed(run)


def nbgrader_autograde(course: Path, lab: str, submissions: Path, env: dict[str, str], root: Path) -> float:
    """nbgrader's own pipeline on the same notebooks: generate_assignment once, then autograde (timed)."""
    shutil.copytree(course / "autograder" / "source", root / "source")
    (root / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'bench'\n")
    for student in submissions.iterdir():
        target = root / "submitted" / student.name / lab
        target.mkdir(parents=True)
        shutil.copy(student / f"{lab}.ipynb", target / f"{lab}.ipynb")
    nbgrader = [sys.executable, "-m", "nbgrader"]
    subprocess.run([*nbgrader, "generate_assignment", lab, "--force"], cwd=root, env=env, check=True, capture_output=True)
    return timed(lambda: subprocess.run([*nbgrader, "autograde", lab, "--force", "--create"],
                                        cwd=root, env=env, check=True, capture_output=True))


def coursetool_grade(course: Path, lab: str, submissions: Path, env: dict[str, str], jobs: int) -> float:
    command = [sys.executable, "-m", "coursetool", "grade", str(submissions), "--lab", lab,
               "--autograder", str(course / "autograder"), "--jobs", str(jobs)]
    return timed(lambda: subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=8, help="number of submissions")
    parser.add_argument("--source", type=Path, default=REPO / "tests" / "grader" / "fixtures", help="lab sources to build")
    parser.add_argument("--lab", default="gradelab")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    env = environment()
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp_path = Path(tmp)
        course = tmp_path / "course"
        replace_outputs(course, build_files(args.source.resolve()))
        submissions = tmp_path / "submissions"
        paths = write_submissions(course, args.lab, args.n, submissions)
        (tmp_path / "work").mkdir()
        plain = plain_execution(paths, env, tmp_path / "work")
        nbgrader = nbgrader_autograde(course, args.lab, submissions, env, tmp_path / "nbgrader")
        ours = coursetool_grade(course, args.lab, submissions, env, args.jobs)
        grades = (course / "autograder" / "results" / args.lab / "grades.csv").read_text().splitlines()
    n = args.n
    print(f"{n} submissions of {args.lab}, {args.jobs} parallel jobs on {os.cpu_count()} cores")
    print(f"plain execution (serial)   {plain:7.1f} s  {plain / n:6.2f} s per notebook")
    print(f"nbgrader autograde         {nbgrader:7.1f} s  {nbgrader / n:6.2f} s per submission")
    print(f"coursetool grade           {ours:7.1f} s  {ours / n:6.2f} s per submission (wall)")
    print(f"speed-up over nbgrader     {nbgrader / ours:7.2f}x")
    print(f"cost per submission vs plain execution (core-seconds): {ours * args.jobs / plain:.2f}x")
    print(f"full marks in grades.csv: {sum(1 for line in grades[1:] if ',graded,' in line)}/{n} graded")


if __name__ == "__main__":
    main()
