"""Where the grader's own CPU goes while it grades one submission (kernels not counted).

    python bench/profile_grading.py --lab lab1_autoencoders -n 4
    python bench/profile_grading.py --lab lab4_elbo -n 4 --top 40 --stats /tmp/lab4.prof

Copies of the lab's solved notebook (``solutions/<lab>.ipynb``) are graded one after the
other in this process, as a grading worker grades them (``grade_submission``: restore, run,
score, feedback page), warm kernels, quick mode, the lab's reference values computed first.
The first submission warms the process up and is not counted; of the others, half are timed
(``time.process_time``, the figure ``coursetool grade`` logs per submission) and half run
under cProfile timed by the process's CPU clock, whose tables (most cumulative CPU, most CPU of
their own) are printed for all the profiled submissions together.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from coursetool.grade.intake.submissions import Submission  # noqa: E402
from coursetool.grade.kernel import warm  # noqa: E402
from coursetool.grade.kernel.sandbox import bwrap_works  # noqa: E402
from coursetool.grade.notebook.pipeline import ensure_reference, grade_submission, load_lab, warm_up  # noqa: E402
from coursetool.grade.notebook.runspec import run_spec  # noqa: E402
from coursetool.grade.kernel.runner import warm_server  # noqa: E402
from coursetool.grade.settings import Settings, default_data_root  # noqa: E402


def copy_course(lab: str, root: Path) -> Settings:
    """A course folder holding the lab's autograder source, and settings to grade it here."""
    autograder = root / "autograder"
    shutil.copytree(REPO / "autograder" / "source" / lab, autograder / "source" / lab)
    return Settings(lab=lab, autograder=autograder, data_root=default_data_root(), sandbox=bwrap_works(),
                    probe_seed=secrets.randbelow(2**31))


def write_submissions(lab: str, count: int, folder: Path) -> list[Submission]:
    """``count`` copies of the lab's solved notebook, each student's solution cells their own (a comment with their
    number), so that nothing remembered from one student's code serves the next."""
    submissions = []
    for number in range(count):
        nb = nbformat.read(REPO / "solutions" / f"{lab}.ipynb", as_version=4)
        nb.cells[0].source += f"\n<!-- student {number} -->"
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source += f"\n# written by student {number}"
        path = folder / f"student{number:02d}.ipynb"
        nbformat.write(nb, path)
        submissions.append(Submission(f"student{number:02d}", path))
    return submissions


def grade_profiled(submission: Submission, settings: Settings, profile: cProfile.Profile) -> None:
    profile.enable()
    try:
        grade_submission(submission, settings)
    finally:
        profile.disable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lab", required=True)
    parser.add_argument("-n", type=int, default=4, help="submissions graded after the warm-up one")
    parser.add_argument("--top", type=int, default=30, help="rows of the profile to print")
    parser.add_argument("--stats", type=Path, default=None, help="also write the raw profile here")
    args = parser.parse_args()
    os.environ.setdefault("VAELAB_QUICK", "1")
    with tempfile.TemporaryDirectory(prefix="profile-grading-") as tmp:
        settings = copy_course(args.lab, Path(tmp))
        lab = load_lab(settings.lab, settings.source_dir)
        submissions = write_submissions(args.lab, args.n + 1, Path(tmp))
        try:
            warm_server(lab, run_spec(settings))
            print(f"reference: {len(ensure_reference(settings, lab))} probe value(s)", flush=True)
            warm_up(lab)
            grade_submission(submissions[0], settings)
            timed, profiled = submissions[1:args.n // 2 + 1], submissions[args.n // 2 + 1:]
            cpu = []
            for submission in timed:
                outcome = grade_submission(submission, settings)
                cpu.append(outcome.grader_cpu)
                print(f"{submission.student}: {outcome.result.status.value}, {outcome.grader_cpu:.3f} s of the "
                      f"grader's own CPU ({outcome.result.seconds:g} s wall)", flush=True)
            profile = cProfile.Profile(time.process_time)  # CPU, not the wall time spent waiting for the kernel
            for submission in profiled:
                grade_profiled(submission, settings, profile)
        finally:
            warm.close_all()
    print(f"\n{args.lab}: grader's own CPU per submission {sum(cpu) / max(1, len(cpu)):.3f} s "
          f"({', '.join(f'{c:.3f}' for c in cpu)}), load average {os.getloadavg()[0]:.2f}, "
          f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC\n")
    stats = pstats.Stats(profile)
    if args.stats:
        stats.dump_stats(args.stats)
    print(f"cProfile over {len(profiled)} submission(s), CPU seconds for all of them:")
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
