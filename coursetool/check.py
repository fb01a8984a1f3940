"""Checks that need more than one line of context: code that must parse, ids the build reserves."""
from __future__ import annotations

from coursetool.errors import SourceError
from coursetool.gaps import solution_lines, student_lines, syntax_error_line
from coursetool.model import Cell, Hidden, Lab, Solution, Text
from coursetool.render import LINK_ID, SETUP_ID

RESERVED_PREFIXES = ("solution-", "answer-", "cell-")


def check_lab(lab: Lab) -> list[SourceError]:
    errors: list[SourceError] = []
    for cell in lab.cells:
        if cell.kind == "code":
            errors += check_code(lab, cell)
        if cell.grade is not None and is_reserved(cell.grade.grade_id):
            errors.append(SourceError(lab.path, cell.line, f"id '{cell.grade.grade_id}' is reserved",
                                      f"the build names its own cells {SETUP_ID}, {LINK_ID}, solution-N, answer-N, cell-N"))
    return errors


def check_code(lab: Lab, cell: Cell) -> list[SourceError]:
    full = [line for part in cell.parts if isinstance(part, (Text, Solution, Hidden)) for line in part.lines]
    bad = syntax_error_line("\n".join(full))
    if bad is not None:
        return [SourceError(lab.path, cell.line, f"the code of this cell does not parse (its line {bad})",
                            "fix the Python; tag lines are not counted")]
    if cell.has_solution and student_lines(cell) is None:
        region = next(p for p in cell.parts if isinstance(p, Solution))
        return [SourceError(lab.path, region.line, "removing this region leaves student code that does not parse",
                            "make the region whole statements, or whole items inside brackets")]
    if syntax_error_line("\n".join(solution_lines(cell))) is not None:
        return [SourceError(lab.path, cell.line, "the solution code does not parse without the hidden tests",
                            "hidden tests must be whole statements")]
    return []


def is_reserved(grade_id: str) -> bool:
    return grade_id in (SETUP_ID, LINK_ID) or grade_id.startswith(RESERVED_PREFIXES)
