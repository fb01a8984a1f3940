"""The course check: outputs are fresh; every solution earns every test's points and every blank notebook none.

Both notebooks of a lab are graded exactly as the grader grades a submission (restore,
execute in the sandbox with the grader's limits and environment, score), from a fresh build
in a scratch folder; only the gradebook is left out. The solution's run is also the reference
run: every probe must give a usable value, the same twice, and the blank notebook is judged
against those values. Each probe is also evaluated under a second seed: a test cell whose
probes all give the same value under both can be forged by whoever learns the probes, so it is
named, as a note rather than a failure (it wants a probe with inputs drawn from the seeded
generators), unless one of its probes is declared ``[fixed]``: its value is the requirement itself (a
structure, an error raised, a training goal probed clipped), which handing in means meeting.
"""
from __future__ import annotations

import os
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from coursetool.build import build_files, parse_course
from coursetool.grade.lab import AutograderLab
from coursetool.grade.notebook.pipeline import Graded, grade_notebook
from coursetool.grade.kernel.runner import CellStatus
from coursetool.grade.kernel.sandbox import bwrap_works, why_no_sandbox
from coursetool.grade.notebook.runspec import run_spec
from coursetool.grade.settings import Settings, default_data_root
from coursetool.model import Lab
from coursetool.probes import records_of
from coursetool.render import lab_cell_behind
from coursetool.write import replace_outputs


@dataclass
class Verdicts:
    """Points per test cell for a lab's solution and blank notebooks, and what is wrong."""

    solution: dict[str, float] = field(default_factory=dict)
    blank: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    predictable: list[str] = field(default_factory=list)  # test cells whose probes a second seed left unchanged


def stale_outputs(fresh: dict[str, bytes], committed: dict[str, bytes]) -> list[str]:
    """Paths whose committed bytes differ from a fresh build, or exist on one side only."""
    return sorted(name for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name))


def check_settings(lab: Lab, autograder: Path) -> Settings:
    """The grader's settings, for one lab of a scratch build: quick mode, sandbox where it works."""
    return Settings(lab=lab.name, autograder=autograder, threads_per_kernel=max(1, len(os.sched_getaffinity(0))),
                    data_root=default_data_root(), sandbox=bwrap_works(), hidden_paths=(lab.path.resolve().parent,),
                    probe_seed=secrets.randbelow(2**31))


def source_line(lab: Lab, index: int) -> str:
    """``file:line`` of the source cell behind the autograder notebook's cell ``index`` (line 0: a cell the build
    added)."""
    source = lab_cell_behind(lab, index)
    return f"{lab.path}:{source.line if source is not None else 0}"


def skipped_on_blank(lab: Lab, graded_lab: AutograderLab) -> frozenset[str]:
    """Ids of the cells marked SKIPQUESTEXEC."""
    return frozenset(graded.cell.get("id") for index, graded in enumerate(graded_lab.cells)
                     if (source := lab_cell_behind(lab, index)) is not None and source.skip_blank)


def solution_problems(lab: Lab, graded: Graded) -> list[str]:
    """Every cell of the solution runs cleanly, every probe gives a steady value, and every test earns its points."""
    problems = [f"the solution notebook stopped: {graded.execution.stopped}"] if graded.execution.stopped else []
    problems += [f"{lab.path}: {problem}" for problem in graded.reference_problems]
    for index, source in enumerate(graded.origins):
        run = graded.execution.cells.get(index)
        if source is None or run is None or run.status in (CellStatus.OK, CellStatus.SKIPPED):
            continue
        what = f"test cell {source.grade_id}" if source.grade_id in graded.scores else "cell"
        problems.append(f"{source_line(lab, source.index)}: {what} fails in the solution: {run.detail}")
    return problems


def predictable_cells(lab: Lab, graded_lab: AutograderLab, graded: Graded) -> list[str]:
    """Test cells with probes, every one of which gave the same value under a second seed, none declared ``[fixed]``."""
    blind = set(graded.execution.seed_blind)
    return [f"{source_line(lab, test.index)}: test cell {test.grade_id}: every probe gives the same value "
            "under another seed, so a student who learns the probes can hand in their values: give one probe inputs "
            "drawn from the seeded generators (torch.randn or torch.rand without a generator of its own, drawn before "
            "the student's code runs), or declare [fixed] the probe whose value is the requirement itself"
            for test in graded_lab.tests if (records := records_of(test.cell))
            and not any(record.fixed for record in records) and blind.issuperset(record.id for record in records)]


def blank_problems(lab: Lab, graded_lab: AutograderLab, graded: Graded) -> list[str]:
    """Every graded test earns nothing on the blank student notebook."""
    by_id = {c.grade_id: c for c in graded_lab.tests}
    return [f"{source_line(lab, by_id[grade_id].index)}: test cell {grade_id} passes on the blank "
            "student notebook: it tests nothing the student writes"
            for grade_id, points in graded.scores.items() if points > 0]


def verify_lab(lab: Lab, files: dict[str, bytes], keep: Path | None = None) -> Verdicts:
    """Grade the lab's solution and blank notebooks from the built ``files``, as the grader would.

    ``keep``: a folder where the executed solution notebook is kept for the handouts.
    """
    with tempfile.TemporaryDirectory(prefix=f"check-{lab.name}-") as tmp:
        course = Path(tmp)
        replace_outputs(course, {name: data for name, data in files.items() if name.startswith("autograder/")})
        settings = check_settings(lab, course / "autograder")
        graded_lab = AutograderLab(lab.name, settings.source_dir)
        started = time.perf_counter()
        solution = grade_notebook(nbformat.reads(files[f"solutions/{lab.name}.ipynb"].decode(), as_version=4),
                                  graded_lab, run_spec(settings, compare_seeds=True))
        solved = time.perf_counter()
        if keep is not None and solution.execution.stopped is None:  # a run cut short is not kept
            from coursetool.site.executed import store
            store(keep, lab.name, files, solution.notebook)
        problems = solution_problems(lab, solution)
        predictable = predictable_cells(lab, graded_lab, solution)
        for note in predictable:
            print(f"note: {note}", file=sys.stderr, flush=True)
        if solution.execution.stopped is not None:  # no full set of reference values to judge the blank notebook by
            print(f"{lab.name}: the solution stopped, the blank notebook is not checked", flush=True)
            return Verdicts(solution.scores, {}, problems, predictable)
        blank = grade_notebook(nbformat.reads(files[f"release/{lab.name}.ipynb"].decode(), as_version=4),
                               graded_lab, run_spec(settings, skip=skipped_on_blank(lab, graded_lab)), solution.reference)
        problems += blank_problems(lab, graded_lab, blank)
        unsandboxed = "" if settings.sandbox else " (run WITHOUT the grader's sandbox)"
        print(f"{lab.name}: solution {solved - started:.1f} s, blank {time.perf_counter() - solved:.1f} s{unsandboxed}, "
              f"{'ok' if not problems else f'{len(problems)} problem(s)'}", flush=True)
    return Verdicts(solution.scores, blank.scores, problems, predictable)


def announce_sandbox() -> None:
    """The check runs only the course's own notebooks: without a sandbox it still runs, and says why and how to get one."""
    if not bwrap_works():
        print(f"warning: the course check runs its notebooks WITHOUT the grader's sandbox, so it does not prove the "
              f"grader's conditions: {why_no_sandbox()}", file=sys.stderr, flush=True)


def verify_course(source_dir: Path, files: dict[str, bytes] | None = None, labs: list[str] | None = None,
                  keep: Path | None = None) -> list[str]:
    """Every problem of the chosen labs (all by default), built from ``source_dir`` unless ``files`` are given;
    ``keep``: where executed solution notebooks are kept."""
    announce_sandbox()
    files = files if files is not None else build_files(source_dir)
    problems: list[str] = []
    for lab in parse_course(source_dir):
        if labs is None or lab.name in labs:
            problems += verify_lab(lab, files, keep).problems
    return problems
