"""What judging hidden checks outside the student's kernel costs: probes against in-kernel hidden asserts.

    python bench/bench_probes.py                 # 8 submissions of the honest-work fixture lab
    python bench/bench_probes.py -n 12 --jobs 2

The fixture lab is built twice from one source: as written (its hidden checks are probes,
judged by the grader against a reference run of the solution) and with every probe turned
into a hidden assert that computes the same expression inside the student's kernel, as
hidden tests ran before probes. N copies of the solution are graded both ways in one run,
each twice: the second run (``--regrade``) grades every submission again and keeps the stored
reference values, so the two compare the cost per submission; the first probe run includes
the reference run. Prints the wall times, the reference run alone, and the ratio.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_grading import environment, write_submissions  # noqa: E402
from coursetool.build import build_files  # noqa: E402
from coursetool.write import replace_outputs  # noqa: E402

LAB = "honestlab"
FIXTURES = REPO / "tests" / "grader" / "fixtures"


def in_kernel_source(text: str) -> str:
    """The lab with each ``#!PROBE expr, "message"`` as a hidden assert computed in the kernel."""
    def hidden(match: re.Match[str]) -> str:
        return f"#!TAG HIDDENBEGIN\nassert ({match['body']}) is not None\n#!TAG HIDDENEND"
    return re.sub(r"^#!PROBE (?:\[[^\]]*\] )?(?P<body>.*)$", hidden, text, flags=re.MULTILINE)


def graded_seconds(source: Path, root: Path, count: int, jobs: int) -> tuple[float, float, float]:
    """Wall seconds of grading the class, then of grading it again (``--regrade``: the reference values are
    kept), and the mean of the seconds the second run reports per submission."""
    course = root / "course"
    replace_outputs(course, build_files(source))
    submissions = write_submissions(course, LAB, count, root / "submissions")[0].parents[1]
    command = [sys.executable, "-m", "coursetool", "grade", str(submissions), "--lab", LAB,
               "--autograder", str(course / "autograder"), "--jobs", str(jobs)]
    seconds, each = [], []
    for again in ([], ["--regrade"]):
        started = time.perf_counter()
        run = subprocess.run(command + again, env=environment(), check=True, capture_output=True, text=True, cwd=REPO)
        seconds.append(time.perf_counter() - started)
        each = [float(found) for found in re.findall(r"graded \(([\d.]+) s\)", run.stdout)]
    return seconds[0], seconds[1], sum(each) / len(each)


def reference_seconds(root: Path) -> float:
    """The reference run alone: grade an empty class after removing the stored values."""
    course = root / "course"
    (course / "autograder" / "source" / LAB / "probes.json").unlink()
    empty = root / "empty"
    (empty / "nobody").mkdir(parents=True)
    shutil.copy(course / "solutions" / f"{LAB}.ipynb", empty / "nobody" / f"{LAB}.ipynb")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
                    "from coursetool.grade.notebook.pipeline import ensure_reference, load_lab;"
                    "from coursetool.grade.settings import Settings, default_data_root;"
                    "s = Settings(lab=sys.argv[2], autograder=Path(sys.argv[3]), data_root=default_data_root());"
                    "ensure_reference(s, load_lab(s.lab, s.source_dir))", str(REPO), LAB, str(course / "autograder")],
                   env=environment(), check=True, capture_output=True)
    return time.perf_counter() - started


def probe_costs(n: int, jobs: int) -> list[str]:
    """Grade ``n`` submissions both ways and time the reference run alone; the lines to print."""
    with tempfile.TemporaryDirectory(prefix="bench-probes-") as tmp:
        root = Path(tmp)
        in_kernel = root / "in-kernel-source"
        in_kernel.mkdir()
        (in_kernel / f"{LAB}.md").write_text(in_kernel_source((FIXTURES / f"{LAB}.md").read_text()))
        _, before, before_each = graded_seconds(in_kernel, root / "in-kernel", n, jobs)
        first, after, after_each = graded_seconds(FIXTURES, root / "probes", n, jobs)
        reference = reference_seconds(root / "probes")
    return [f"{n} submissions of {LAB}, {jobs} at a time; wall time of a second run (--regrade), and the mean "
            "time one submission took in it",
            f"hidden asserts in the kernel              {before:7.1f} s  {before_each:6.2f} s per submission",
            f"probes judged by the grader               {after:7.1f} s  {after_each:6.2f} s per submission",
            f"probes, first run (reference run in it)   {first:7.1f} s",
            f"the reference run alone (new process)     {reference:7.1f} s",
            f"per submission, probes / in-kernel        {after_each / before_each:7.2f}x "
            f"(wall of the second runs: {after / before:.2f}x)"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=8, help="submissions")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    print("\n".join(probe_costs(args.n, args.jobs)))


if __name__ == "__main__":
    main()
