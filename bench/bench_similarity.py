"""How the class similarity analysis grows with the class size, against copydetect's own all-pairs run.

    python bench/bench_similarity.py                     # 25, 50, 100, 200, 300 students of lab 1
    python bench/bench_similarity.py --sizes 300 --difflib 60

A synthetic class of lab 1: every student takes each exercise from one of four independent
solutions (the test class's Amara, Ben and Chloe, and the solution key), renames its local
names, and adds lines of their own, so that every notebook differs. Per class size it times,
in one run:

- ``coursetool``: ``similarity.analyse`` on the notebooks (extraction included), fingerprints
  indexed, one matrix product for all pairs;
- ``copydetect``: copydetect's ``CopyDetector`` on the same extracted code written as files,
  with the release notebook's code as boilerplate (its comparison loop visits every pair);
- ``difflib`` (at ``--difflib`` students at most, then extrapolated as n^2): a naive diff of
  every pair's extracted code with ``difflib.SequenceMatcher.ratio``.

Prints seconds, the ratio to coursetool's, and the number of flagged pairs.
"""
from __future__ import annotations

import argparse
import difflib
import itertools
import random
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import nbformat  # noqa: E402
from copydetect import CopyDetector  # noqa: E402

from coursetool.grade.course import similarity  # noqa: E402
from coursetool.grade.lab import AutograderLab  # noqa: E402
from corpora import lab1_class as klass  # noqa: E402

NAME = re.compile(r"\b(?!self\b|nn\b|torch\b|F\b|math\b|return\b|def\b|class\b|for\b|in\b|if\b|range\b|len\b)"
                  r"([a-z_][a-z0-9_]*)\s*=")


def variants() -> list[dict[str, str]]:
    return [klass.AMARA, klass.BEN, klass.CHLOE, klass.key_solutions()]


def own_lines(rng: random.Random, student: int) -> str:
    """A few lines only this student writes (checks, prints, constants)."""
    lines = [f"check_{student}_{i} = {rng.randint(2, 999)} * {rng.random():.4f}" for i in range(rng.randint(2, 5))]
    lines.append(f"print('student {student}: exercise done', check_{student}_0 + {rng.randint(1, 50)})")
    return "\n".join(lines)


def student_code(rng: random.Random, student: int, pool: list[dict[str, str]]) -> dict[str, str]:
    """Each exercise from a random solution, local names renamed, lines of the student's own added."""
    code = {}
    for grade_id in pool[0]:
        source = rng.choice(pool)[grade_id]
        names = {name: f"{name}_{rng.randint(0, 99)}" for name in set(NAME.findall(source))}
        code[grade_id] = klass.rename(source, names) + "\n\n" + own_lines(rng, student) + "\n"
    return code


def write_class(folder: Path, size: int) -> dict[str, Path]:
    rng, pool, paths = random.Random(size), variants(), {}
    for student in range(size):
        path = folder / f"s{student:03d}" / f"{klass.LAB}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(klass.notebook(student_code(rng, student, pool)), path)
        paths[f"s{student:03d}"] = path
    return paths


def time_coursetool(lab: AutograderLab, paths: dict[str, Path]) -> tuple[float, similarity.Analysis]:
    started = time.perf_counter()
    analysis = similarity.analyse(lab, paths, klass.RELEASE)
    return time.perf_counter() - started, analysis


def write_extracted(analysis: similarity.Analysis, folder: Path) -> Path:
    """Each work's extracted code as one file, for the all-pairs tools; the release code as boilerplate."""
    for work in analysis.works.values():
        (folder / "class").mkdir(parents=True, exist_ok=True)
        (folder / "class" / f"{work.student}.py").write_text("\n\n".join(c.text for c in work.chunks) + "\n")
    starter = [c.source for c in nbformat.read(klass.RELEASE, as_version=4).cells if c.cell_type == "code"]
    (folder / "boilerplate").mkdir()
    (folder / "boilerplate" / "release.py").write_text("\n\n".join(starter))
    return folder


def time_copydetect(folder: Path) -> float:
    started = time.perf_counter()
    detector = CopyDetector(test_dirs=[str(folder / "class")], boilerplate_dirs=[str(folder / "boilerplate")],
                            extensions=["py"], noise_t=similarity.NOISE, guarantee_t=similarity.GUARANTEE,
                            display_t=similarity.THRESHOLD, silent=True, autoopen=False)
    detector.run()
    detector.get_copied_code_list()
    return time.perf_counter() - started


def time_difflib(folder: Path, limit: int) -> tuple[float, int]:
    texts = [p.read_text() for p in sorted((folder / "class").glob("*.py"))][:limit]
    started = time.perf_counter()
    for first, second in itertools.combinations(texts, 2):
        difflib.SequenceMatcher(None, first, second).ratio()
    return time.perf_counter() - started, len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100, 200, 300])
    parser.add_argument("--difflib", type=int, default=80, help="students the naive diff really runs on")
    args = parser.parse_args()
    lab = AutograderLab(klass.LAB, klass.AUTOGRADER_SOURCE)
    print(f"{'students':>8} {'coursetool s':>12} {'copydetect s':>12} {'ratio':>6} {'difflib s':>10} {'ratio':>7} flagged")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as temporary:
            folder = Path(temporary)
            paths = write_class(folder / "notebooks", size)
            ours, analysis = time_coursetool(lab, paths)
            extracted = write_extracted(analysis, folder / "extracted")
            theirs = time_copydetect(extracted)
            diffed, measured = time_difflib(extracted, args.difflib)
            pairs_total, pairs_measured = (size + 1) * size / 2, max(1, measured * (measured - 1) / 2)
            naive = diffed * pairs_total / pairs_measured
            mark = "" if measured >= size + 1 else "*"
            print(f"{size:>8} {ours:>12.2f} {theirs:>12.2f} {theirs / ours:>5.1f}x {naive:>9.1f}{mark} "
                  f"{naive / ours:>6.0f}x {len(analysis.flagged)}", flush=True)
    print("* extrapolated from the pairs of the first", args.difflib, "works (n^2)")


if __name__ == "__main__":
    main()
