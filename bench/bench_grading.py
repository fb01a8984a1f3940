"""Grading speed, lab by lab: ``coursetool grade`` against plain execution and ``nbgrader autograde``.

    python bench/bench_grading.py                          # the five labs of source/, 4 submissions each
    python bench/bench_grading.py -n 2 --lab lab1_autoencoders --lab lab4_elbo
    python bench/bench_grading.py --source tests/grader/fixtures --lab gradelab

For each lab, N copies of its solved notebook (``solutions/<lab>.ipynb`` as built, one folder
per student) are graded on the same machine, one way after the other: plain execution
(nbclient, one notebook after the other, then as many at once as the grader runs: the floor any
grader pays), ``python -m coursetool grade`` with warm kernels as the first class of the lab
and as a second class (each run computes its reference first: it draws its own probe seed, so no
run finds another's values usable; the second class measures the same work again), with
``--cold`` (a new process per kernel), and ``nbgrader autograde`` (serial). Every kernel, in
all runs, computes on one thread (as ``coursetool grade`` gives each of its parallel kernels),
so that all compare the same work per core; every timed ``coursetool grade`` finds the course's
gradebook made, as ``generate_assignment`` makes it before nbgrader's.

Per lab, per submission: the wall times; the grader's own CPU (its processes, no kernel's: the
line ``coursetool grade`` logs); the ratios warm (second class) / plain at once (target at most
0.95) and nbgrader / warm (target at least 2.5); then the five labs together. Where a target is
missed, the lab's own compute per submission (plain serial) stands beside the grader's cost.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from coursetool.build import build_files  # noqa: E402
from coursetool.grade.course import gradebook as book  # noqa: E402
from coursetool.grade.lab import AutograderLab  # noqa: E402
from coursetool.write import replace_outputs  # noqa: E402

LABS = ("lab1_autoencoders", "lab2_transposed_convolutions", "lab3_kl_and_vae", "lab4_elbo",
        "lab5_variational_inference")
GRADER_CPU = re.compile(r"grader's own CPU: ([0-9.]+) s per submission .*, and ([0-9.]+) s once for the run")
WARM_TARGET, NBGRADER_TARGET = 0.95, 2.5  # warm at most this times plain at once; nbgrader at least this times warm


@dataclass
class LabTimes:
    """One lab's seconds per submission, each way, and the grader's own CPU per submission."""

    lab: str
    n: int
    jobs: int
    plain: float
    plain_at_once: float
    nbgrader: float
    first: float
    second: float
    cold: float
    first_cpu: float
    second_cpu: float
    cold_cpu: float
    first_once: float  # the run's own CPU besides its submissions (start-up, gradebook, reference solution, reports)
    second_once: float
    cold_once: float
    graded: int  # submissions with full marks in the second class's grades.csv

    @property
    def warm_vs_plain(self) -> float:
        return self.second / self.plain_at_once

    @property
    def nbgrader_vs_warm(self) -> float:
        return self.nbgrader / self.second


def environment() -> dict[str, str]:
    # no MPLBACKEND: kernels draw their figures inline, as in Jupyter (Agg would leave every figure out)
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env |= {"VAELAB_QUICK": "1", "VAELAB_OFFLINE": "1", "PYTHONPATH": str(REPO),
            "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    shared = REPO.parent / "shared" / "data" / "mnist-t10k-shuffled"
    if (shared / "MNIST").is_dir():
        env.setdefault("VAELAB_DATA", str(shared))
    return env


def write_submissions(course: Path, lab: str, count: int, folder: Path) -> list[Path]:
    """``count`` distinct copies of the lab's solved notebook, one folder per student."""
    paths = []
    for number in range(count):
        nb = nbformat.read(course / "solutions" / f"{lab}.ipynb", as_version=4)
        nb.cells[0].source += f"\n<!-- student {number} -->"
        path = folder / f"student{number:02d}" / f"{lab}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        paths.append(path)
    return paths


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def execute_plainly(path: Path, workdir: Path) -> None:
    """Execute one notebook the way nbconvert --execute does."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=1800,
                   resources={"metadata": {"path": str(workdir)}}).execute()


def plain_execution(paths: list[Path], env: dict[str, str], workdir: Path, jobs: int = 1) -> float:
    """Execute every notebook once, ``jobs`` at a time (1: one after the other)."""
    os.environ.update({k: v for k, v in env.items() if k.startswith(("VAELAB_", "OMP_", "MKL_", "OPENBLAS_"))})
    os.environ.pop("MPLBACKEND", None)

    def run() -> None:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(execute_plainly, paths, [workdir] * len(paths)))
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


def prepare_gradebook(course: Path, lab: str) -> None:
    """Create the course's gradebook with the lab in it, untimed, as ``generate_assignment`` does for nbgrader's run."""
    autograder = course / "autograder"
    url = f"sqlite:///{(autograder / 'gradebook.db').resolve()}"
    book.prepare_lab(url, book.course_id(autograder), AutograderLab(lab, autograder / "source" / lab))


def coursetool_grade(course: Path, lab: str, submissions: Path, env: dict[str, str],
                     *options: str) -> tuple[float, float, float]:
    """Wall seconds of grading the class, and the grader's own CPU as it logs it: per submission, and once for the run."""
    prepare_gradebook(course, lab)
    command = [sys.executable, "-m", "coursetool", "grade", str(submissions), "--lab", lab,
               "--autograder", str(course / "autograder"), *options]
    finished: list[subprocess.CompletedProcess] = []
    wall = timed(lambda: finished.append(subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True,
                                                        text=True)))
    cpu = GRADER_CPU.search(finished[0].stderr)
    if cpu is None:
        raise RuntimeError(f"coursetool grade logged no CPU time:\n{finished[0].stderr[-2000:]}")
    return wall, float(cpu.group(1)), float(cpu.group(2))


def full_marks(course: Path, lab: str) -> int:
    lines = (course / "autograder" / "results" / lab / "grades.csv").read_text().splitlines()
    return sum(1 for line in lines[1:] if ",graded," in line)


def measure_lab(built: Path, lab: str, n: int, jobs: int, env: dict[str, str], root: Path) -> LabTimes:
    """Every way of grading N copies of the lab, in one run, on fresh copies of the built course."""
    pristine = root / "pristine"
    shutil.copytree(built, pristine)
    submissions = root / "submissions"
    paths = write_submissions(pristine, lab, n, submissions)
    (root / "work").mkdir()
    plain = plain_execution(paths, env, root / "work")
    plain_at_once = plain_execution(paths, env, root / "work", jobs)
    first_course, cold_course = root / "first", root / "cold"
    shutil.copytree(pristine, first_course)
    shutil.copytree(pristine, cold_course)
    first, first_cpu, first_once = coursetool_grade(first_course, lab, submissions, env, "--jobs", str(jobs))
    second_course = root / "second"
    shutil.copytree(pristine, second_course)
    second, second_cpu, second_once = coursetool_grade(second_course, lab, submissions, env, "--jobs", str(jobs))
    cold, cold_cpu, cold_once = coursetool_grade(cold_course, lab, submissions, env, "--jobs", str(jobs), "--cold")
    # after a course grader's run, as the docs say: nbgrader's hidden checks read its probes.json
    nbgrader = nbgrader_autograde(first_course, lab, submissions, env, root / "nbgrader")
    return LabTimes(lab, n, jobs, plain / n, plain_at_once / n, nbgrader / n, first / n, second / n, cold / n,
                    first_cpu, second_cpu, cold_cpu, first_once, second_once, cold_once, full_marks(second_course, lab))


def verdict(value: float, target: float, at_most: bool) -> str:
    met = value <= target if at_most else value >= target
    return "met" if met else "MISSED"


def lab_table(times: LabTimes) -> list[str]:
    """One lab's rows: seconds per submission, then the ratios against the targets."""
    t = times
    rows = [
        f"### {t.lab}: {t.n} submissions, {t.jobs} at once ({t.graded}/{t.n} full marks)",
        "",
        "| per submission | wall (s) | grader's own CPU (s) | and once per run (s) |",
        "|---|---:|---:|---:|",
        f"| plain execution, serial (the lab's own compute) | {t.plain:.2f} | | |",
        f"| plain execution, {t.jobs} at once | {t.plain_at_once:.2f} | | |",
        f"| `nbgrader autograde` (serial) | {t.nbgrader:.2f} | | |",
        f"| `coursetool grade`, warm, first class (reference solution run too) | {t.first:.2f} | {t.first_cpu:.2f} "
        f"| {t.first_once:.2f} |",
        f"| `coursetool grade`, warm, second class (the reference again: a new probe seed) | {t.second:.2f} "
        f"| {t.second_cpu:.2f} | {t.second_once:.2f} |",
        f"| `coursetool grade --cold` | {t.cold:.2f} | {t.cold_cpu:.2f} | {t.cold_once:.2f} |",
        "",
        f"warm / plain at once: **{t.warm_vs_plain:.2f}x** (target <= {WARM_TARGET}: "
        f"{verdict(t.warm_vs_plain, WARM_TARGET, True)}); nbgrader / warm: **{t.nbgrader_vs_warm:.2f}x** "
        f"(target >= {NBGRADER_TARGET}: {verdict(t.nbgrader_vs_warm, NBGRADER_TARGET, False)}); "
        f"grader's own CPU {t.second_cpu:.2f} s per submission (target <= 0.3: {verdict(t.second_cpu, 0.3, True)}) "
        f"beside the lab's own compute of {t.plain:.2f} s",
        "",
        f"the lab's own compute on {t.jobs} cores: at best {t.plain / t.jobs:.2f} s per submission, so at most "
        f"{t.nbgrader * t.jobs / t.plain:.2f}x nbgrader and {t.plain / t.jobs / t.plain_at_once:.2f}x plain at once "
        "for any grader that runs the notebook",
        "",
    ]
    return rows


def together_table(all_times: list[LabTimes]) -> list[str]:
    """The labs together: the same classes one after the other."""
    def total(field: str) -> float:
        return sum(getattr(t, field) * t.n for t in all_times)
    plain_at_once, second, nbgrader = total("plain_at_once"), total("second"), total("nbgrader")
    cpu = sum(t.second_cpu * t.n for t in all_times) / sum(t.n for t in all_times)
    return [
        f"### the {len(all_times)} labs together",
        "",
        f"plain at once {plain_at_once:.1f} s, `coursetool grade` warm (second class) {second:.1f} s, "
        f"`nbgrader autograde` {nbgrader:.1f} s: warm / plain at once **{second / plain_at_once:.2f}x** "
        f"({verdict(second / plain_at_once, WARM_TARGET, True)}), nbgrader / warm **{nbgrader / second:.2f}x** "
        f"({verdict(nbgrader / second, NBGRADER_TARGET, False)}); grader's own CPU {cpu:.2f} s per submission",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=4, help="submissions per lab")
    parser.add_argument("--source", type=Path, default=REPO / "source", help="lab sources to build")
    parser.add_argument("--lab", action="append", help="a lab to measure (repeatable; default: the five labs)")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--json", type=Path, default=None, help="also write each lab's times here as it is measured")
    args = parser.parse_args()
    env = environment()
    os.environ["PATH"] = env["PATH"]  # nbgrader makes the gradebook with the alembic beside this Python
    measured: list[LabTimes] = []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        built = Path(tmp) / "course"
        replace_outputs(built, build_files(args.source.resolve()))
        for lab in args.lab or LABS:
            measured.append(measure_lab(built, lab, args.n, args.jobs, env, Path(tmp) / lab))
            print("\n".join(lab_table(measured[-1])), flush=True)
            if args.json:
                args.json.write_text(json.dumps([asdict(t) for t in measured], indent=1))
    print(f"measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores, quick mode\n")
    if len(measured) > 1:
        print("\n".join(together_table(measured)))


if __name__ == "__main__":
    main()
