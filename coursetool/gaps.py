"""Gaps: what a student sees in place of a solution region, chosen by parsing the code."""
from __future__ import annotations

import ast
from collections.abc import Callable

from IPython.core.inputtransformer2 import TransformerManager

from coursetool.model import Cell, Solution, Text

PLACEHOLDER_FUNCTION = "todo"


def statement_gap(indent: str, exercise: str) -> list[str]:
    return [f'{indent}raise NotImplementedError("{exercise}: replace this line with your code")']


def expression_gap(indent: str, exercise: str) -> list[str]:
    return [f'{indent}{PLACEHOLDER_FUNCTION}("{exercise}")']


def item_gap(indent: str, exercise: str) -> list[str]:
    return [f'{indent}{PLACEHOLDER_FUNCTION}("{exercise}"),']


GAP_STYLES: tuple[Callable[[str, str], list[str]], ...] = (statement_gap, expression_gap, item_gap)


def parses(source: str) -> bool:
    """Whether a cell's code (IPython magics allowed) is valid Python."""
    try:
        ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return False
    return True


def syntax_error_line(source: str) -> int | None:
    """The 1-based line of the first syntax error in a cell, or None when it parses."""
    try:
        ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError as error:
        return error.lineno or 1
    except ValueError:
        return 1
    return None


def common_indent(lines: list[str]) -> str:
    """The smallest indentation of the non-blank lines."""
    indents = [line[: len(line) - len(line.lstrip())] for line in lines if line.strip()]
    return min(indents, key=len, default="")


def solution_lines(cell: Cell) -> list[str]:
    """The cell as the solution has it: region lines in place, tags gone."""
    lines: list[str] = []
    for part in cell.parts:
        if isinstance(part, (Text, Solution)):
            lines.extend(part.lines)
    return lines


def student_lines(cell: Cell) -> list[str] | None:
    """The cell with every region replaced by a gap that keeps it valid Python.

    Regions are filled one at a time, in order: each takes the first gap style (statement,
    expression, list item) with which the whole cell parses, the regions after it still
    holding their solution. None when some region has no such gap.
    """
    exercise = cell.exercise or "This exercise"
    parts = [part for part in cell.parts if isinstance(part, (Text, Solution))]
    blocks = [part.lines for part in parts]  # each region's block becomes its gap once chosen
    for index, part in enumerate(parts):
        if not isinstance(part, Solution):
            continue
        for style in GAP_STYLES:
            candidate = part.hints + style(common_indent(part.lines), exercise)
            trial = blocks[:index] + [candidate] + blocks[index + 1:]
            if parses("\n".join(line for block in trial for line in block)):
                blocks[index] = candidate
                break
        else:
            return None
    return [line for block in blocks for line in block]
