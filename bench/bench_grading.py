"""Grading speed: ``coursetool grade`` against ``nbgrader autograde`` and plain execution.

    python bench/bench_grading.py                       # 8 submissions of the grading fixture lab
    python bench/bench_grading.py -n 6 --source source --lab lab1_autoencoders
    python bench/bench_grading.py --workers ""          # without the Dask scaling table
    python bench/bench_grading.py --no-probes           # without the cost of probes

N copies of the lab's solution are graded four ways on the same machine, in one run: plain
execution (nbclient, one notebook after the other, then as many at once as the grader runs:
the floor any grader pays), ``nbgrader autograde`` (serial), and ``python -m coursetool grade``
(parallel, sandboxed), with warm kernels (forked from a server that has imported the lab's
modules) and with ``--cold`` (a new process per kernel); the warm run once more as a second class of the same
lab is graded, with the probes' reference values stored by the first. Every timed run finds
the course's gradebook made, as ``generate_assignment`` makes it before nbgrader's.
Prints wall times, the speed-up over nbgrader, and the cost per submission against plain
execution: serial (core-seconds: wall time times parallel jobs, divided by N), and run as
many at once as the grader does (wall time against wall time: the same cores, equally
shared). Every kernel, in all runs, computes on one thread (as ``coursetool grade`` gives
each of its parallel kernels), so that all compare the same work per core.

Then the scaling table: the same N graded with ``--scheduler`` on a Dask cluster of 1, 2 and 4
single-threaded workers started on this machine (``dask scheduler`` and ``dask worker``
processes; their start-up is not timed, the client's is), in submissions per minute, with the
estimate it implies for 10,000 submissions on 50 workers and the assumptions behind it.

Last, what probes cost (``bench_probes.py``): a fixture lab graded with its hidden checks as
probes judged by the grader, reference run included, and as hidden asserts in the kernel.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nbgrader.api import Gradebook  # noqa: E402

from coursetool.build import build_files  # noqa: E402
from coursetool.grade.course import gradebook as book  # noqa: E402
from coursetool.grade.lab import AutograderLab  # noqa: E402
from coursetool.grade.result import SubmissionResult  # noqa: E402
from coursetool.write import replace_outputs  # noqa: E402
from tests.grader import corpus  # noqa: E402
from tests.grader.dask_processes import LocalDask  # noqa: E402

CLASS, CLUSTER = 10_000, 50  # the class size and cluster the scaling estimate is for


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


def execute_plainly(path: Path, workdir: Path) -> None:
    """Execute one notebook the way nbconvert --execute does."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(workdir)}}).execute()


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


def coursetool_grade(course: Path, lab: str, submissions: Path, env: dict[str, str], *options: str) -> float:
    prepare_gradebook(course, lab)
    command = [sys.executable, "-m", "coursetool", "grade", str(submissions), "--lab", lab,
               "--autograder", str(course / "autograder"), *options]
    return timed(lambda: subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True))


def with_stored_reference(pristine: Path, graded: Path, lab: str, target: Path) -> Path:
    """A fresh course folder holding the probes' reference values of an earlier run, as a second class finds it."""
    shutil.copytree(pristine, target)
    stored = graded / "autograder" / "source" / lab / "probes.json"
    if stored.exists():
        shutil.copy(stored, target / "autograder" / "source" / lab / "probes.json")
    return target


def dask_scaling(pristine: Path, lab: str, submissions: Path, env: dict[str, str], counts: list[int],
                 root: Path) -> dict[int, float]:
    """Wall seconds of grading the class on a fresh local Dask cluster of each number of workers."""
    seconds = {}
    for workers in counts:
        course, folder = root / f"course-{workers}", root / f"dask-{workers}"
        shutil.copytree(pristine, course)
        folder.mkdir()
        cluster = LocalDask(folder)
        try:
            cluster.start(workers)
            seconds[workers] = coursetool_grade(course, lab, submissions, env, "--scheduler", cluster.address)
        finally:
            cluster.stop()
    return seconds


def grades_csv(course: Path, lab: str) -> bytes:
    return (course / "autograder" / "results" / lab / "grades.csv").read_bytes()


def recording_seconds(course: Path, lab: str) -> float:
    """What the client spends recording one student in the gradebook, from a graded course's state files."""
    autograder = course / "autograder"
    states = sorted((autograder / "results" / lab / "state").glob("*.json"))
    results = [SubmissionResult.from_dict(json.loads(path.read_text())["result"]) for path in states]
    lab_view = AutograderLab(lab, autograder / "source" / lab)
    url = f"sqlite:///{(autograder / 'gradebook.db').resolve()}"
    with Gradebook(url, book.course_id(autograder)) as gradebook:
        spent = timed(lambda: [book.record(gradebook, lab_view, result) for result in results])
    return spent / max(1, len(results))


def print_scaling(n: int, seconds: dict[int, float], record: float, same: dict[int, bool]) -> None:
    print(f"\nscaling on a local Dask cluster ({n} submissions, one single-threaded worker per process, "
          f"{os.cpu_count()} cores):")
    print("workers  wall (s)  submissions/min  speed-up over 1 worker  grades.csv as the local run")
    base = seconds.get(1)
    for workers, wall in seconds.items():
        speedup = f"{base / wall:.2f}x" if base else "-"
        print(f"{workers:7d}  {wall:8.1f}  {n / wall * 60:15.1f}  {speedup:>22}  {'same' if same[workers] else 'DIFFERENT'}")
    if base:
        print_estimate(n, base, record)


def print_estimate(n: int, one_worker: float, record: float) -> None:
    """10,000 submissions on 50 workers, from one worker's rate; the client's recording rate as the other bound."""
    per_worker = n / one_worker  # submissions per second of one worker, client start-up included
    grading = CLASS / (CLUSTER * per_worker)
    recording = CLASS * record
    print(f"estimate for {CLASS:,} submissions on {CLUSTER} workers: about {max(grading, recording) / 60:.0f} min "
          f"(grading {grading / 60:.0f} min at {per_worker * 60:.1f} submissions/min per worker; the client records "
          f"one student in {record * 1000:.0f} ms, {recording / 60:.0f} min for the class, while the workers grade)")
    print("  assumptions: each worker is one core like these, on its own (the rate measured with 1 worker here,\n"
          "  this lab and this mode: quick mode, same notebooks); workers scale linearly, as Dask's scheduler hands\n"
          "  out a task in well under a millisecond and each task carries one notebook; the client's own work\n"
          "  (files, gradebook, state: one student at a time) overlaps the grading and bounds the rate; start-up of\n"
          "  the workers (their jobs in the queue) not counted. An estimate, not a measurement.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=8, help="number of submissions")
    parser.add_argument("--source", type=Path, default=REPO / "tests" / "grader" / "fixtures", help="lab sources to build")
    parser.add_argument("--lab", default="gradelab")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--no-probes", action="store_true",
                        help="leave out what judging hidden checks outside the kernel costs (bench_probes.py)")
    parser.add_argument("--workers", default="1,2,4",
                        help="numbers of Dask workers for the scaling table, comma-separated ('' for none)")
    args = parser.parse_args()
    counts = [int(count) for count in args.workers.split(",") if count.strip()]
    env = environment()
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp_path = Path(tmp)
        course = tmp_path / "course"
        replace_outputs(course, build_files(args.source.resolve()))
        pristine = tmp_path / "pristine"
        shutil.copytree(course, pristine)
        submissions = tmp_path / "submissions"
        paths = write_submissions(course, args.lab, args.n, submissions)
        (tmp_path / "work").mkdir()
        plain = plain_execution(paths, env, tmp_path / "work")
        plain_parallel = plain_execution(paths, env, tmp_path / "work", args.jobs)
        cold_course = tmp_path / "course-cold"
        shutil.copytree(course, cold_course)
        ours = coursetool_grade(course, args.lab, submissions, env, "--jobs", str(args.jobs))
        stored_course = with_stored_reference(pristine, course, args.lab, tmp_path / "course-stored")
        stored = coursetool_grade(stored_course, args.lab, submissions, env, "--jobs", str(args.jobs))
        cold = coursetool_grade(cold_course, args.lab, submissions, env, "--jobs", str(args.jobs), "--cold")
        # after a course grader's run, as the docs say: nbgrader's hidden checks read its probes.json
        nbgrader = nbgrader_autograde(course, args.lab, submissions, env, tmp_path / "nbgrader")
        grades = (course / "autograder" / "results" / args.lab / "grades.csv").read_text().splitlines()
        same_cold = grades_csv(cold_course, args.lab) == grades_csv(course, args.lab)
        record = recording_seconds(course, args.lab)
        scaling = dask_scaling(pristine, args.lab, submissions, env, counts, tmp_path)
        same = {workers: grades_csv(tmp_path / f"course-{workers}", args.lab) == grades_csv(course, args.lab)
                for workers in scaling}
    n = args.n
    print(f"{n} submissions of {args.lab}, {args.jobs} parallel jobs on {os.cpu_count()} cores")
    print(f"plain execution (serial)   {plain:7.1f} s  {plain / n:6.2f} s per notebook")
    print(f"plain execution ({args.jobs} at once) {plain_parallel:7.1f} s  {plain_parallel / n:6.2f} s per notebook (wall)")
    print(f"nbgrader autograde         {nbgrader:7.1f} s  {nbgrader / n:6.2f} s per submission")
    print(f"coursetool grade           {ours:7.1f} s  {ours / n:6.2f} s per submission (wall, warm kernels)")
    print(f"  again, reference stored  {stored:7.1f} s  {stored / n:6.2f} s per submission (a class graded after the "
          f"first: {nbgrader / stored:.2f}x nbgrader, {stored / plain_parallel:.2f}x plain at once)")
    print(f"coursetool grade --cold    {cold:7.1f} s  {cold / n:6.2f} s per submission (wall, a new process per kernel)"
          f"{'' if same_cold else '  GRADES DIFFER from the warm run'}")
    print(f"speed-up over nbgrader     {nbgrader / ours:7.2f}x (cold: {nbgrader / cold:.2f}x)")
    print(f"warm against cold          {cold / ours:7.2f}x")
    print(f"cost per submission vs plain execution (core-seconds): {ours * args.jobs / plain:.2f}x "
          f"(cold: {cold * args.jobs / plain:.2f}x) against serial; {ours / plain_parallel:.2f}x "
          f"(cold: {cold / plain_parallel:.2f}x) against {args.jobs} at once, on the same cores")
    print(f"full marks in grades.csv: {sum(1 for line in grades[1:] if ',graded,' in line)}/{n} graded")
    if scaling:
        print_scaling(n, scaling, record, same)
    if not args.no_probes:
        from bench.bench_probes import probe_costs  # it builds on this module's helpers
        print("\nprobes judged outside the kernel against hidden asserts inside it (bench_probes.py):")
        print("\n".join(probe_costs(n, args.jobs)))


if __name__ == "__main__":
    main()
