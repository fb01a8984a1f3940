"""The course check: outputs are fresh, every solution passes, every blank notebook fails every test."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from coursetool.build import parse_course
from coursetool.config import CourseConfig, load_config
from coursetool.execute import CellOutcome, execute_notebook
from coursetool.model import Cell, Lab
from coursetool.render import AUTOGRADER, STUDENT, render


def stale_outputs(fresh: dict[str, bytes], committed: dict[str, bytes]) -> list[str]:
    """Paths whose committed bytes differ from a fresh build, or exist on one side only."""
    return sorted(name for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name))


def lab_cells_by_index(lab: Lab, notebook_length: int) -> dict[int, Cell]:
    """Notebook cell index -> lab cell (the build puts its own cells first)."""
    offset = notebook_length - len(lab.cells)
    return {offset + i: cell for i, cell in enumerate(lab.cells)}


def describe(lab: Lab, cell: Cell) -> str:
    name = f"test cell {cell.grade.grade_id}" if cell.is_test else "cell"
    return f"{lab.path}:{cell.line}: {name}"


def solution_problems(lab: Lab, config: CourseConfig, workdir: Path) -> list[str]:
    """Every cell of the full solution (hidden tests included) must run cleanly."""
    notebook = render(lab, AUTOGRADER, config)
    cells = lab_cells_by_index(lab, len(notebook.cells))
    problems = []
    for outcome in execute_notebook(notebook, cwd=workdir):
        if outcome.error is not None:
            where = describe(lab, cells[outcome.index]) if outcome.index in cells else f"{lab.path}: build cell"
            problems.append(f"{where} fails in the solution: {outcome.error}")
    return problems


def blank_problems(lab: Lab, config: CourseConfig, workdir: Path) -> list[str]:
    """Every graded test cell must fail on the blank student notebook."""
    notebook = render(lab, STUDENT, config)
    cells = lab_cells_by_index(lab, len(notebook.cells))
    skip = [index for index, cell in cells.items() if cell.skip_blank]
    outcomes: dict[int, CellOutcome] = {o.index: o for o in execute_notebook(notebook, cwd=workdir, skip=skip)}
    return [f"{describe(lab, cell)} passes on the blank student notebook: it tests nothing the student writes"
            for index, cell in cells.items() if cell.is_test and outcomes[index].error is None]


def verify_lab(lab: Lab, config: CourseConfig) -> list[str]:
    with tempfile.TemporaryDirectory(prefix=f"check-{lab.name}-") as tmp:
        solution_dir, blank_dir = Path(tmp, "solution"), Path(tmp, "blank")
        solution_dir.mkdir()
        blank_dir.mkdir()
        started = time.perf_counter()
        problems = solution_problems(lab, config, solution_dir)
        solved = time.perf_counter()
        problems += blank_problems(lab, config, blank_dir)
        print(f"{lab.name}: solution {solved - started:.1f} s, blank {time.perf_counter() - solved:.1f} s, "
              f"{'ok' if not problems else f'{len(problems)} problem(s)'}", flush=True)
    return problems


def verify_course(source_dir: Path, labs: list[str] | None = None) -> list[str]:
    config = load_config(source_dir)
    problems: list[str] = []
    for lab in parse_course(source_dir):
        if labs is None or lab.name in labs:
            problems += verify_lab(lab, config)
    return problems
