"""Render a parsed lab into each target notebook: student, solution and autograder source."""
from __future__ import annotations

from collections.abc import Callable

import nbformat
from nbformat import NotebookNode
from nbgrader.preprocessors import CheckCellMetadata, ComputeChecksums, LockCells

from coursetool.config import CourseConfig
from coursetool.gaps import PLACEHOLDER_FUNCTION, common_indent, solution_lines, student_lines
from coursetool.model import Cell, Hidden, Lab, PointsTable, Solution, Text
from coursetool.parse import EXERCISE_HEADING
from coursetool.probes import METADATA_KEY, probe_block, probe_records, probes_metadata

STUDENT, SOLUTION, AUTOGRADER = "student", "solution", "autograder"
ANSWER_STUB = "YOUR ANSWER HERE"  # nbgrader's own stub for written answers
SETUP_ID = "setup"
LINK_ID = "colab-link"


# -- cell sources per target -----------------------------------------------------------------------

def student_source(cell: Cell) -> str:
    if cell.answer:
        return ANSWER_STUB
    if cell.has_solution:
        lines = student_lines(cell)
        if lines is None:
            raise ValueError("a region has no gap that parses")  # refused earlier by the check
        return "\n".join(lines)
    return "\n".join(line for part in cell.parts if isinstance(part, Text) for line in part.lines)


def solution_source(cell: Cell) -> str:
    return "\n".join(solution_lines(cell))


def autograder_source(cell: Cell) -> str:
    """nbgrader's source format: solution and hidden test regions between its delimiters, probes last."""
    lines: list[str] = []
    for part in cell.parts:
        if isinstance(part, Text):
            lines.extend(part.lines)
        elif isinstance(part, Solution):
            indent = common_indent(part.lines)
            lines += [f"{indent}### BEGIN SOLUTION", *part.lines, f"{indent}### END SOLUTION"]
        elif isinstance(part, Hidden):
            indent = common_indent(part.lines)
            lines += [f"{indent}### BEGIN HIDDEN TESTS", *part.lines, f"{indent}### END HIDDEN TESTS"]
    if cell.probes:
        lines += probe_block(probe_records(cell.grade.grade_id, cell.probes))
    return "\n".join(lines)


SOURCES: dict[str, Callable[[Cell], str]] = {
    STUDENT: student_source,
    SOLUTION: solution_source,
    AUTOGRADER: autograder_source,
}


# -- points in headings and the points table -------------------------------------------------------

def format_points(points: float) -> str:
    number = f"{points:g}"
    return f"{number} point" if points == 1 else f"{number} points"


def with_heading_points(source: str, lab: Lab) -> str:
    points = {e.label: e.points for e in lab.exercises}
    lines = []
    for line in source.split("\n"):
        match = EXERCISE_HEADING.match(line)
        label = " ".join(match["label"].split()) if match else None
        if label is not None and points.get(label):
            line = f"{line.rstrip()} ({format_points(points[label])})"
        lines.append(line)
    return "\n".join(lines)


def points_table(lab: Lab) -> str:
    rows = ["| Exercise | Points |", "| --- | ---: |"]
    rows += [f"| {e.title} | {e.points:g} |" for e in lab.exercises if e.points]
    rows.append(f"| **Total** | **{lab.total_points:g}** |")
    return "\n".join(rows)


# -- nbgrader metadata ----------------------------------------------------------------------------------

def nbgrader_metadata(*, grade_id: str, grade: bool = False, solution: bool = False,
                      locked: bool = False, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked,
            "schema_version": 3, "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return meta


def cell_identity(cell: Cell, counters: dict[str, int]) -> tuple[str | None, dict | None]:
    """The grade id and nbgrader metadata of a cell, or (None, None) for an ordinary cell."""
    if cell.is_test:
        return cell.grade.grade_id, nbgrader_metadata(
            grade_id=cell.grade.grade_id, grade=True, locked=True, points=cell.grade.points)
    if cell.answer:
        counters["answer"] += 1
        grade_id = cell.grade.grade_id if cell.grade else f"answer-{counters['answer']}"
        points = cell.grade.points if cell.grade else 0.0
        return grade_id, nbgrader_metadata(grade_id=grade_id, grade=True, solution=True, points=points)
    if cell.has_solution:
        counters["solution"] += 1
        grade_id = f"solution-{counters['solution']}"
        return grade_id, nbgrader_metadata(grade_id=grade_id, solution=True)
    return None, None


# What ``nbgrader generate_assignment`` does to a released notebook once solutions and hidden
# tests are out (the student target never has them): locks, then checksums.
RELEASE_STEPS = (LockCells, ComputeChecksums, CheckCellMetadata)


def lock_for_students(notebook: NotebookNode) -> NotebookNode:
    """The notebook with nbgrader's locks and checksums, made by nbgrader's own preprocessors."""
    resources: dict = {}
    for step in RELEASE_STEPS:
        notebook, resources = step().preprocess(notebook, resources)
    return notebook


# -- the injected first cells ------------------------------------------------------------------------

def colab_link_cell(lab: Lab, config: CourseConfig) -> NotebookNode:
    badge = "https://colab.research.google.com/assets/colab-badge.svg"
    source = f"[![Open In Colab]({badge})]({config.colab_url(lab.name)})"
    return nbformat.v4.new_markdown_cell(source, id=LINK_ID)


def setup_cell(lab: Lab, config: CourseConfig) -> NotebookNode:
    source = f'''# Course setup. On Google Colab this installs the helper package `vaelab` of this release;
# elsewhere it does nothing (install once with `pip install -r requirements.txt` in the course folder).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "{config.helpers_requirement}"], check=True)


def {PLACEHOLDER_FUNCTION}(exercise):
    """Stands in for code you write: it raises until you replace it."""
    raise NotImplementedError(f"{{exercise}}: replace {PLACEHOLDER_FUNCTION}(...) with your code")'''
    cell = nbformat.v4.new_code_cell(source, id=SETUP_ID)
    cell.metadata["nbgrader"] = nbgrader_metadata(grade_id=SETUP_ID, locked=True)
    return cell


INJECTED_CELLS = (colab_link_cell, setup_cell)  # what every notebook starts with, before the lab's own cells


def lab_cell_behind(lab: Lab, notebook_index: int) -> Cell | None:
    """The lab's source cell that the rendered notebook's cell ``notebook_index`` was made from (None: one render
    added)."""
    position = notebook_index - len(INJECTED_CELLS)
    return lab.cells[position] if 0 <= position < len(lab.cells) else None


# -- notebooks ---------------------------------------------------------------------------------------------

def render(lab: Lab, target: str, config: CourseConfig) -> NotebookNode:
    """The notebook of one target, deterministic for a given lab: ``INJECTED_CELLS``, then one cell per lab cell."""
    cells = [make(lab, config) for make in INJECTED_CELLS]
    counters = {"answer": 0, "solution": 0}
    for cell in lab.cells:
        cells.append(render_cell(lab, cell, target, counters, index=len(cells)))
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    notebook.nbformat_minor = 5
    return lock_for_students(notebook) if target == STUDENT else notebook


def markdown_source(lab: Lab, cell: Cell, target: str) -> str:
    """Prose with exercise points added and the points table in place; answers as the target has them."""
    if cell.answer:
        return SOURCES[target](cell).strip("\n")
    blocks = [points_table(lab) if isinstance(p, PointsTable) else "\n".join(p.lines).strip("\n")
              for p in cell.parts]
    return with_heading_points("\n\n".join(b for b in blocks if b), lab)


def render_cell(lab: Lab, cell: Cell, target: str, counters: dict[str, int], index: int) -> NotebookNode:
    grade_id, meta = cell_identity(cell, counters)
    cell_id = grade_id or f"cell-{index}"
    if cell.kind == "code":
        out = nbformat.v4.new_code_cell(SOURCES[target](cell), id=cell_id)
    else:
        out = nbformat.v4.new_markdown_cell(markdown_source(lab, cell, target), id=cell_id)
    if meta is not None:
        out.metadata["nbgrader"] = meta
    if target == AUTOGRADER and cell.probes:
        out.metadata[METADATA_KEY] = probes_metadata(probe_records(cell.grade.grade_id, cell.probes))
    return out
