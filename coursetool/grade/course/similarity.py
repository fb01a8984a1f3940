"""Similar submissions across a class: what each student wrote, compared with every other student's.

Extraction (this module): each notebook is laid on the lab's skeleton as grading does
(``restore``); the lab's test and locked cells are dropped, and so is every line of the
release notebook (starter code, stubs, hints, imports), so a blank notebook leaves nothing.
What is left is grouped by exercise (the lab heading a cell stands under).

Fingerprints (copydetect): each cell is tokenized with Pygments and filtered (identifiers
become ``V``/``F``/``O``, strings ``S``, comments and whitespace go), then its k-grams are
winnowed as MOSS does; k-grams of the release notebook are removed as boilerplate. So renamed
identifiers, reworded comments, spacing and blank lines change nothing, and a notebook is a
*set* of fingerprints, which cell order does not change.

Comparison (an index, not every pair diffed): only fingerprints held by two or more documents
can be shared; they become the columns of a 0/1 matrix, one row per document, and one matrix
product gives every pair's overlap at once. A fingerprint held by ``d`` of ``n`` documents
weighs ``log((n + 1) / d) / log((n + 1) / 2)`` (a normalised idf, the class counted with one
more document that holds nothing): shared by exactly two it counts 1, shared by the whole class
(the one way everybody writes a one-line formula) almost nothing, but not nothing, so that a
small class that all handed in one notebook still pairs. A pair's similarity is the weighted share of the
smaller side's own code found in the other, over the whole notebook or over one exercise
(so a copy of one or two exercises inside own work is found), where the shared code is
substantial (``PAIR_EVIDENCE``, ``EXERCISE_EVIDENCE``: near-blank notebooks never pair).
"""
from __future__ import annotations

import csv
import hashlib
import html
import io
import logging
import math
import multiprocessing
import os
import re
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import copydetect.utils
import numpy as np
from copydetect.detector import CodeFingerprint, compare_files
from copydetect.utils import highlight_overlap

from coursetool.grade.atomic import write_atomically
from coursetool.grade.intake.submissions import Submission
from coursetool.grade.lab import AutograderLab, Role
from coursetool.grade.notebook.restore import restore
from coursetool.grade.result import Rejected

log = logging.getLogger(__name__)

SOLUTION = "SOLUTION"            # the lab's own solution, compared with every student
NOISE = 20                       # k: filtered characters per fingerprint (copydetect's noise threshold)
GUARANTEE = 24                   # a shared run this long is always found (copydetect's guarantee threshold)
THRESHOLD = 0.5                  # similarity from which a pair is flagged
FLOOR = 0.15                     # pairs below this are not listed in similarity.csv
PAIR_EVIDENCE = 12.0             # weighted shared fingerprints a whole-notebook score needs
EXERCISE_EVIDENCE = 8.0          # ... and an exercise's score
CELL_SHARE = 0.5                 # an exercise is named in ``cells`` from this share of it in common
PARALLEL_FROM = 40               # from this many notebooks, extraction runs in several processes
HEADING = re.compile(r"^#+\s*((?:Exercise|Question)\s+\d+(?:\.\d+)*)", re.MULTILINE)
HEADER = ["student_a", "student_b", "similarity", "flagged", "cells"]


@dataclass(frozen=True)
class Chunk:
    """One cell's worth of a student's own code, under the exercise it belongs to."""

    exercise: str
    text: str


@dataclass
class Work:
    """What one student wrote: the code that is not the release notebook's, exercise by exercise."""

    student: str
    chunks: list[Chunk] = field(default_factory=list)
    earlier: bool = False  # from --compare-with: compared with this class, never with its own class

    def exercise_text(self, exercise: str) -> str:
        return "\n".join(chunk.text for chunk in self.chunks if chunk.exercise == exercise)

    @property
    def exercises(self) -> list[str]:
        return list(dict.fromkeys(chunk.exercise for chunk in self.chunks))


@dataclass(frozen=True)
class Pair:
    """Two submissions with code in common: ``similarity`` in [0, 1], the exercises where it lies."""

    student_a: str
    student_b: str
    similarity: float
    flagged: bool
    cells: tuple[str, ...]


@dataclass
class Analysis:
    """The pairs above the floor, highest first, and the works they were found in."""

    pairs: list[Pair]
    works: dict[str, Work]
    skipped: dict[str, str] = field(default_factory=dict)  # student -> why nothing was compared
    seconds: float = 0.0
    boilerplate: np.ndarray | None = None  # the release notebook's k-gram hashes, for highlighting

    @property
    def flagged(self) -> list[Pair]:
        return [pair for pair in self.pairs if pair.flagged]


# --- extraction --------------------------------------------------------------------------------

def exercise_labels(lab: AutograderLab) -> list[str]:
    """For each cell of the lab, the exercise heading it stands under ("setup" before the first)."""
    labels, current = [], "setup"
    for cell in lab.cells:
        if cell.cell.cell_type == "markdown":
            found = HEADING.search(cell.cell.source)
            current = found.group(1) if found else current
        labels.append(current)
    return labels


def release_code(lab: AutograderLab, release: Path | None) -> list[str]:
    """The code cells of the release notebook students started from (else the lab's cells, solutions stubbed)."""
    if release is not None and release.exists():
        return [cell.source for cell in nbformat.read(release, as_version=4).cells if cell.cell_type == "code"]
    log.warning("similarity: no release notebook at %s; starter code taken from the autograder notebook", release)
    return [cell.released.source for cell in lab.cells if cell.cell.cell_type == "code"]


def released_lines(cells: list[str]) -> frozenset[str]:
    """Every non-blank line of the release notebook's code, stripped."""
    return frozenset(line.strip() for source in cells for line in source.splitlines() if line.strip())


def own_lines(source: str, known: frozenset[str]) -> str:
    """The lines of a cell that are not the release notebook's."""
    return "\n".join(line for line in source.splitlines() if line.strip() and line.strip() not in known)


def written_work(lab: AutograderLab, notebook: nbformat.NotebookNode, student: str, labels: list[str],
                 known: frozenset[str]) -> Work:
    """What a student wrote in a notebook of the lab, by exercise; ``Rejected`` if it is another lab."""
    restored = restore(lab, notebook)
    work, exercise = Work(student), labels[0]
    for origin, cell in zip(restored.origins, restored.notebook.cells):
        if origin is not None:
            exercise = labels[origin.index]
            if origin.role in (Role.TEST, Role.FIXED):
                continue
        if cell.cell_type != "code":
            continue
        text = own_lines(cell.source, known)
        if text:
            work.chunks.append(Chunk(exercise, text))
    return work


def solution_work(lab: AutograderLab, labels: list[str], known: frozenset[str]) -> Work:
    """The lab's own solution (the autograder's source notebook) as if a student had handed it in."""
    return written_work(lab, lab.notebook, SOLUTION, labels, known)


# --- fingerprints ------------------------------------------------------------------------------

def stable_kgram_hashes(string: str, k: int) -> np.ndarray:
    """copydetect's ``hashed_kgrams`` with a hash that is the same in every process (its own uses the salted
    ``hash()``, so scores would change from run to run): 64 bits of BLAKE2b per k-gram."""
    digests = [hashlib.blake2b(string[i:i + k].encode("utf-8", "surrogatepass"), digest_size=8).digest()
               for i in range(len(string) - k + 1)]
    return np.frombuffer(b"".join(digests), dtype="<i8").astype(np.int64)


copydetect.utils.hashed_kgrams = stable_kgram_hashes  # read by copydetect's get_document_fingerprints


def fingerprint(text: str, boilerplate: np.ndarray | None = None) -> CodeFingerprint:
    """copydetect's fingerprint of Python code: tokenized, filtered, winnowed, boilerplate removed."""
    return CodeFingerprint("cell.py", NOISE, GUARANTEE - NOISE + 1, boilerplate, filter=True, language="python",
                           fp=io.StringIO(text))


def boilerplate_hashes(cells: list[str]) -> np.ndarray:
    """Every k-gram hash of the release notebook's code (copydetect's boilerplate, window 1)."""
    hashes: set[int] = set()
    for source in cells:
        if source.strip():
            hashes |= CodeFingerprint("cell.py", NOISE, 1, None, filter=True, language="python",
                                      fp=io.StringIO(source)).hashes
    return np.unique(np.array(sorted(hashes), dtype=np.int64))


def work_hashes(work: Work, boilerplate: np.ndarray) -> dict[int, set[str]]:
    """Each fingerprint of a student's code and the exercises it occurs in."""
    found: dict[int, set[str]] = {}
    for chunk in work.chunks:
        for value in fingerprint(chunk.text, boilerplate).hashes:
            found.setdefault(int(value), set()).add(chunk.exercise)
    return found


# --- comparison --------------------------------------------------------------------------------

def weight(holders: int, documents: int) -> float:
    """A fingerprint's weight: 1 when two documents hold it, falling towards 0 the more do (a normalised idf).

    The class is counted with one more document that holds nothing, so that a fingerprint every
    document holds still weighs a little: in a small class that all handed in the same notebook
    (the solution key, say), the copies are still found.
    """
    population = documents + 1
    if population < 3:
        return 1.0
    return math.log(population / holders) / math.log(population / 2)


@dataclass
class Index:
    """The fingerprints of every document, with their weights and the shared ones as matrix columns."""

    names: list[str]
    hashes: list[dict[int, set[str]]]
    weights: dict[int, float]
    columns: dict[int, int]  # shared fingerprint -> column

    @classmethod
    def build(cls, names: list[str], hashes: list[dict[int, set[str]]]) -> Index:
        holders: dict[int, int] = {}
        for found in hashes:
            for value in found:
                holders[value] = holders.get(value, 0) + 1
        weights = {value: weight(count, len(names)) for value, count in holders.items()}
        shared = sorted(value for value, count in holders.items() if count > 1)
        return cls(names, hashes, weights, {value: column for column, value in enumerate(shared)})

    def totals(self, exercise: str | None = None) -> np.ndarray:
        """Each document's weighted fingerprint count (in one exercise, or all)."""
        return np.array([sum(self.weights[v] for v, where in found.items() if exercise is None or exercise in where)
                         for found in self.hashes], dtype=np.float64)

    def overlaps(self, exercise: str | None = None) -> np.ndarray:
        """Every pair's weighted shared fingerprints (in one exercise, or anywhere), one matrix product."""
        matrix = np.zeros((len(self.names), len(self.columns)), dtype=np.float32)
        for row, found in enumerate(self.hashes):
            cols = [self.columns[v] for v, where in found.items() if v in self.columns and (exercise is None or exercise in where)]
            matrix[row, cols] = 1.0
        weights = np.zeros(len(self.columns), dtype=np.float32)
        for value, column in self.columns.items():
            weights[column] = self.weights[value]
        used = matrix.any(axis=0)
        held = matrix[:, used]
        return (held * weights[used]) @ held.T


def shares(overlap: np.ndarray, totals: np.ndarray, evidence: float) -> np.ndarray:
    """Shared weight over the smaller side's, where the shared weight is at least ``evidence``."""
    smaller = np.minimum.outer(totals, totals)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where((overlap >= evidence) & (smaller > 0), overlap / smaller, 0.0)
    return np.clip(share, 0.0, 1.0)


def comparable(works: list[Work]) -> np.ndarray:
    """Which pairs are compared: never a document with itself, never two of earlier years."""
    earlier = np.array([w.earlier for w in works])
    allowed = ~np.outer(earlier, earlier)
    np.fill_diagonal(allowed, False)
    return np.triu(allowed)


def find_pairs(works: list[Work], hashes: list[dict[int, set[str]]]) -> list[Pair]:
    """Every pair above ``FLOOR``, highest first (then by names)."""
    index = Index.build([w.student for w in works], hashes)
    exercises = list(dict.fromkeys(e for w in works for e in w.exercises))
    best = shares(index.overlaps(), index.totals(), PAIR_EVIDENCE)
    evidence = {e: index.overlaps(e) for e in exercises}
    per_exercise = {e: shares(evidence[e], index.totals(e), 0.0) for e in exercises}
    for e in exercises:
        best = np.maximum(best, np.where(evidence[e] >= EXERCISE_EVIDENCE, per_exercise[e], 0.0))
    pairs = []
    for a, b in zip(*np.nonzero(comparable(works) & (best >= FLOOR))):
        cells = tuple(e for e in exercises if per_exercise[e][a, b] >= CELL_SHARE and evidence[e][a, b] >= 2.0)
        first, second = sorted((index.names[a], index.names[b]), key=lambda n: (n == SOLUTION, n))
        score = round(float(best[a, b]), 3)
        pairs.append(Pair(first, second, score, score >= THRESHOLD, cells))
    return sorted(pairs, key=lambda p: (-p.similarity, p.student_a, p.student_b))


@dataclass(frozen=True)
class Extractor:
    """Reads a notebook as what its student wrote, and fingerprints it; the same in every worker process."""

    lab: AutograderLab
    labels: list[str]
    known: frozenset[str]
    boilerplate: np.ndarray

    def work(self, student: str, path: Path, earlier: bool) -> Work | str:
        """A student's work, or why it cannot be read as this lab."""
        try:
            work = written_work(self.lab, nbformat.read(path, as_version=4), student, self.labels, self.known)
        except Rejected as rejected:
            return str(rejected)
        except Exception as error:  # a notebook that does not parse is graded (and explained) elsewhere
            return f"not a readable notebook ({type(error).__name__})"
        work.earlier = earlier
        return work

    def __call__(self, source: tuple[str, Path, bool]) -> tuple[Work | str, dict[int, set[str]]]:
        found = self.work(*source)
        return found, ({} if isinstance(found, str) else work_hashes(found, self.boilerplate))


_forked: Extractor | None = None  # the extractor forked workers inherit instead of receiving it pickled


def extract_forked(source: tuple[str, Path, bool]) -> tuple[Work | str, dict[int, set[str]]]:
    assert _forked is not None
    return _forked(source)


def extract_all(extractor: Extractor, sources: list[tuple[str, Path, bool]], jobs: int) -> list[tuple[Work | str, dict]]:
    """Every source read and fingerprinted, on ``jobs`` forked processes."""
    global _forked
    if jobs <= 1 or len(sources) < PARALLEL_FROM:
        return [extractor(source) for source in sources]
    _forked = extractor
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(extract_forked, sources, chunksize=max(1, len(sources) // (4 * jobs))))
    finally:
        _forked = None


def analyse(lab: AutograderLab, notebooks: Mapping[str, Path], release: Path | None,
            earlier: Mapping[str, Path] | None = None, jobs: int | None = None) -> Analysis:
    """Compare every student's notebook with every other, the lab's solution and earlier years' work.

    ``release`` is the notebook students started from: its code is what nobody is compared on.
    ``jobs`` processes read and fingerprint the notebooks (default: the usable cores).
    """
    started = time.monotonic()
    starter = release_code(lab, release)
    extractor = Extractor(lab, exercise_labels(lab), released_lines(starter), boilerplate_hashes(starter))
    solution = solution_work(lab, extractor.labels, extractor.known)
    works, hashes, skipped = [solution], [work_hashes(solution, extractor.boilerplate)], {}
    sources = [(name, path, False) for name, path in notebooks.items()]
    sources += [(name, path, True) for name, path in (earlier or {}).items()]
    for (name, _, _), (found, found_hashes) in zip(sources, extract_all(extractor, sources, jobs or usable_cores())):
        if isinstance(found, str):
            skipped[name] = found
            log.info("similarity: %s skipped: %s", name, found)
        else:
            works.append(found)
            hashes.append(found_hashes)
    pairs = find_pairs(works, hashes)
    return Analysis(pairs, {w.student: w for w in works}, skipped, time.monotonic() - started, extractor.boilerplate)


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# --- outputs -----------------------------------------------------------------------------------

def similarity_csv(pairs: list[Pair]) -> bytes:
    """``student_a,student_b,similarity,flagged,cells``, highest first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for pair in pairs:
        writer.writerow([pair.student_a, pair.student_b, f"{pair.similarity:.3f}", "yes" if pair.flagged else "no",
                         "; ".join(pair.cells)])
    return buffer.getvalue().encode("utf-8")


def highlighted(text_a: str, text_b: str, boilerplate: np.ndarray | None) -> tuple[str, str]:
    """Both texts as HTML with the code they share marked (copydetect's slices and highlighting)."""
    if not text_a.strip() or not text_b.strip():
        return html.escape(text_a), html.escape(text_b)
    first, second = fingerprint(text_a, boilerplate), fingerprint(text_b, boilerplate)
    _, _, (slices_a, slices_b) = compare_files(first, second)
    if slices_a.ndim < 2 or slices_a.shape[1] == 0:
        return html.escape(text_a), html.escape(text_b)
    marked_a, _ = highlight_overlap(text_a, slices_a, "<mark>", "</mark>", escape_html=True)
    marked_b, _ = highlight_overlap(text_b, slices_b, "<mark>", "</mark>", escape_html=True)
    return marked_a, marked_b


def pair_html(pair: Pair, analysis: Analysis) -> str:
    """One flagged pair: each exercise where they overlap, side by side, the shared code marked."""
    first, second = analysis.works[pair.student_a], analysis.works[pair.student_b]
    exercises = list(pair.cells) or [e for e in first.exercises if e in second.exercises]
    rows = []
    for exercise in exercises:
        left, right = highlighted(first.exercise_text(exercise), second.exercise_text(exercise), analysis.boilerplate)
        rows.append(f"<tr><th colspan='2'>{html.escape(exercise)}</th></tr>"
                    f"<tr><td><pre>{left}</pre></td><td><pre>{right}</pre></td></tr>")
    where = f" ({html.escape(', '.join(pair.cells))})" if pair.cells else ""
    title = (f"{html.escape(pair.student_a)} and {html.escape(pair.student_b)}: {pair.similarity:.0%} of the smaller "
             f"one's own code in common{where}")
    return (f"<h3>{title}</h3><table class='similar'><tr><th>{html.escape(pair.student_a)}</th>"
            f"<th>{html.escape(pair.student_b)}</th></tr>{''.join(rows)}</table>")


def report_section(analysis: Analysis) -> str:
    """The class report's "Similar submissions" section: something to look at, never a verdict."""
    flagged = analysis.flagged
    intro = (f"<p>{len(flagged)} pair(s) of submissions share more of their own code than the threshold "
             f"({THRESHOLD:.0%} of the smaller one's code, after removing the lab's starter code; see "
             "<code>similarity.csv</code> for every pair above "
             f"{FLOOR:.0%}). Shared code is something to look at, not proof of anything: students may have "
             "worked together as allowed, followed the same hint or source, or written the only natural "
             "solution. Read the code side by side (shared code is marked) before drawing any conclusion. "
             f"{SOLUTION} is the lab's own solution notebook.</p>")
    if not flagged:
        return "<h2>Similar submissions</h2>" + intro
    style = ("<style>table.similar{width:100%;table-layout:fixed}table.similar td{vertical-align:top}"
             "table.similar pre{white-space:pre-wrap;font-size:85%}mark{background:#ffd28a}</style>")
    return "<h2>Similar submissions</h2>" + style + intro + "".join(pair_html(p, analysis) for p in flagged)


# --- a class ---------------------------------------------------------------------------------

def release_notebook(autograder: Path, lab: str) -> Path:
    """The notebook students got: ``release/<lab>.ipynb`` beside the autograder folder the build wrote."""
    return autograder.resolve().parent / "release" / f"{lab}.ipynb"


def notebooks_of(submissions: Iterable[Submission]) -> dict[str, Path]:
    """Each student's notebook; submissions without one (rejected at intake) are left out."""
    return {s.student: s.notebook for s in submissions if s.notebook is not None}


def analyse_class(lab: AutograderLab, submissions: Iterable[Submission], autograder: Path,
                  earlier: Iterable[Submission] = ()) -> Analysis:
    """The similarity analysis of a class as the intake found it, earlier years' submissions beside it."""
    previous = {s.student: s.notebook for s in earlier if s.notebook is not None}
    return analyse(lab, notebooks_of(submissions), release_notebook(autograder, lab.name), previous)


def write_results(analysis: Analysis, results_dir: Path) -> Path:
    """``similarity.csv`` in the lab's results folder; returns its path."""
    path = results_dir / "similarity.csv"
    write_atomically(path, similarity_csv(analysis.pairs))
    return path


def page(analysis: Analysis, lab: str) -> bytes:
    """The "Similar submissions" section alone as a page (``similarity.html``, from the similarity command)."""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(lab)}: similar submissions</title>"
            "<style>body{font-family:sans-serif;max-width:90em;margin:2em auto}td,th{padding:.2em .8em;"
            f"text-align:left}}</style></head><body><h1>{html.escape(lab)}</h1>{report_section(analysis)}"
            "</body></html>\n").encode("utf-8")
