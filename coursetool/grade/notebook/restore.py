"""Rebuild a submission on the lab's skeleton: the instructor's tests and locked cells, the student's code as written.

Student cells are matched to source cells in three passes: by nbgrader ``grade_id`` or
notebook cell id (the first cell carrying an id gets it); then, for notebooks whose metadata
another editor stripped, by content (the lines of the source cell that lie outside solution
regions); then, for answer cells with nothing to recognise them by, by position between two
matched neighbours.

Test and locked cells always come from the source, hidden tests included; deleted ones come
back, always at their place in the lab, wherever the student moved them. Everything else the
student wrote runs as written: a cell that stands for one of the lab's (a solution, an answer)
at that cell's place, and the cells the student added (copies, own helpers, even one that
repeats a visible test) right after the cell they follow in the notebook. A solution cell the student
deleted comes back empty, never as the released stub, so it cannot replace the student's own
definition written elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import nbformat
from nbformat import NotebookNode

from coursetool.grade.lab import AutograderLab, Role, SourceCell, significant_lines
from coursetool.grade.result import Rejected

CONTENT_MATCH = 0.6      # share of a source cell's fixed lines a student cell must hold to match it
RECOGNISED = 0.25        # below this share of recognisable cells found, the notebook is another lab
SOURCE_ROLES = (Role.TEST, Role.FIXED)


@dataclass
class Restoration:
    """The notebook to execute, the source cell behind each of its cells, and what was repaired."""

    notebook: NotebookNode
    origins: list[SourceCell | None]
    notes: list[str] = field(default_factory=list)
    recognised: float = 1.0
    submitted: list[list | None] = field(default_factory=list)  # each cell's outputs as handed in (student cells)


def overlap(source: SourceCell, cell: NotebookNode) -> float:
    """Share of the source cell's fixed lines found in a student cell of the same type."""
    if cell.cell_type != source.cell.cell_type or not source.anchor_lines:
        return 0.0
    return len(source.anchor_lines & significant_lines(cell.source)) / len(source.anchor_lines)


def match_by_identity(lab: AutograderLab, cells: list[NotebookNode]) -> dict[int, int]:
    """Student index -> source index by grade_id or cell id; later cells with a taken id stay unmatched."""
    by_grade_id = {c.grade_id: c.index for c in lab.cells if c.grade_id}
    by_cell_id = {c.cell.get("id"): c.index for c in lab.cells if c.cell.get("id")}
    matches: dict[int, int] = {}
    for index, cell in enumerate(cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        for source_index in (by_grade_id.get(grade_id), by_cell_id.get(cell.get("id"))):
            if source_index is None or lab.cells[source_index].cell.cell_type != cell.cell_type:
                continue
            if source_index not in matches.values():
                matches[index] = source_index
            break
    return matches


def with_identity(lab: AutograderLab, cells: list[NotebookNode]) -> set[int]:
    """Student cells with a grade id or cell id of the lab: copies of a cell, never stripped ones."""
    grade_ids = {c.grade_id for c in lab.cells if c.grade_id}
    cell_ids = {c.cell.get("id") for c in lab.cells if c.cell.get("id")}
    return {index for index, cell in enumerate(cells)
            if cell.metadata.get("nbgrader", {}).get("grade_id") in grade_ids or cell.get("id") in cell_ids}


def match_by_content(lab: AutograderLab, cells: list[NotebookNode], matches: dict[int, int]) -> None:
    """Pair the remaining cells whose content holds most of a source cell's fixed lines."""
    taken = set(matches.values())
    identified = with_identity(lab, cells)
    pairs = []
    for source in lab.cells:
        if source.index in taken:
            continue
        for index, cell in enumerate(cells):
            if index in matches or index in identified:
                continue
            score = overlap(source, cell)
            if score >= CONTENT_MATCH:
                distance = abs(source.index / len(lab.cells) - index / len(cells))
                pairs.append((-score, distance, source.index, index))
    for _, _, source_index, index in sorted(pairs):
        if source_index not in taken and index not in matches:
            matches[index] = source_index
            taken.add(source_index)


def match_by_position(lab: AutograderLab, cells: list[NotebookNode], matches: dict[int, int]) -> None:
    """Pair remaining answer cells with the first free student cell of their type between matched neighbours."""
    student_of = {source_index: index for index, source_index in matches.items()}
    identified = with_identity(lab, cells)
    for source in lab.cells:
        if source.index in student_of or source.role is not Role.ANSWER:
            continue
        before = [student_of[s] for s in student_of if s < source.index]
        after = [student_of[s] for s in student_of if s > source.index]
        low, high = max(before, default=-1), min(after, default=len(cells))
        for index in range(low + 1, high):
            if index not in matches and index not in identified and cells[index].cell_type == "markdown":
                matches[index] = source.index
                student_of[source.index] = index
                break


def recognised_share(lab: AutograderLab, cells: list[NotebookNode], matches: dict[int, int]) -> float:
    """Share of the source cells with fixed lines whose matched student cell holds half of them."""
    recognisable = [c for c in lab.cells if c.anchor_lines]
    if not recognisable:
        return 1.0
    student_of = {source_index: index for index, source_index in matches.items()}
    found = sum(1 for c in recognisable if c.index in student_of and overlap(c, cells[student_of[c.index]]) >= 0.5)
    return found / len(recognisable)


def source_cell(source: SourceCell) -> NotebookNode:
    """A test or locked cell exactly as the instructor wrote it, without outputs."""
    cell = nbformat.from_dict(source.cell)
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def submitted_outputs(cell: NotebookNode) -> list | None:
    """The outputs a code cell had when the student handed it in (their own run), for the feedback."""
    outputs = cell.get("outputs") if cell.get("cell_type") == "code" else None
    return [nbformat.from_dict(output) for output in outputs] if isinstance(outputs, list) else None


def student_cell(source: SourceCell | None, submitted: NotebookNode | None, index: int) -> NotebookNode:
    """A cell the student writes: their text; the source's metadata and id where it stands for a source cell."""
    if source is None:
        cell = nbformat.from_dict(submitted)
        cell.id = f"student-{index}"
        cell.metadata.pop("nbgrader", None)
    else:
        cell = nbformat.from_dict(source.cell)
        cell.source = submitted.source if submitted is not None else ""
        if submitted is not None and "attachments" in submitted:
            cell.attachments = submitted.attachments
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def keeps_student_text(source: SourceCell, cell: NotebookNode) -> bool:
    """A test or locked cell matched by content that also holds lines of the student's own."""
    return not significant_lines(cell.source) <= significant_lines(source.released.source)


def ordered_cells(lab: AutograderLab, cells: list[NotebookNode], matches: dict[int, int],
                  identity: dict[int, int]) -> list[tuple[SourceCell | None, NotebookNode, list | None]]:
    """(source, cell) pairs: the lab's test and locked cells in source order, each of the student's cells that
    stands for a cell of the lab at that cell's place, and the student's own cells right after the cell they
    follow in the notebook. Where the student moved a test or locked cell changes nothing: it runs at its place."""
    groups: dict[int, list[tuple[SourceCell | None, NotebookNode]]] = {}
    place = -1  # the lab cell after which the next student cell goes
    for index, cell in enumerate(cells):
        source = lab.cells[matches[index]] if index in matches else None
        if source is not None and source.role in SOURCE_ROLES:
            if index in identity or not keeps_student_text(source, cell):
                continue
            place = source.index
            source = None  # a stripped cell that holds a test plus the student's own code: runs as written too
        elif source is not None:
            place = source.index
        groups.setdefault(place, []).append((source, student_cell(source, cell, index), submitted_outputs(cell)))
    student_of = {source_index: index for index, source_index in matches.items()}
    ordered = list(groups.get(-1, []))
    for source in lab.cells:
        if source.role in SOURCE_ROLES:
            ordered.append((source, source_cell(source), None))
        elif source.index not in student_of and source.role in (Role.SOLUTION, Role.ANSWER):
            ordered.append((source, student_cell(source, None, -1), None))
        elif source.index not in student_of and source.role is Role.FREE and source.cell.cell_type == "code":
            ordered.append((source, student_cell(source, source.released, -1), None))  # the lab's own code, deleted
        ordered += groups.get(source.index, [])
    return ordered


def describe_repairs(lab: AutograderLab, cells: list[NotebookNode], matches: dict[int, int], identity: dict[int, int]) -> list[str]:
    notes = []
    student_of = {source_index: index for index, source_index in matches.items()}
    for source in lab.cells:
        if source.role in SOURCE_ROLES:
            label = f"{'test' if source.role is Role.TEST else 'locked'} cell {source.grade_id}"
            if source.index not in student_of:
                notes.append(f"{label} was missing: restored")
            elif cells[student_of[source.index]].source.strip() != source.released.source.strip():
                notes.append(f"{label} was edited: the original ran")
        elif source.role is Role.SOLUTION and source.index not in student_of:
            notes.append(f"solution cell {source.grade_id} was deleted")
    by_content = len(set(matches) - set(identity))
    if by_content:
        notes.append(f"{by_content} cell(s) without their metadata matched by content")
    return notes


def restore(lab: AutograderLab, submitted: NotebookNode) -> Restoration:
    """The submission rebuilt on the lab's skeleton, ready to execute; Rejected if it is not this lab."""
    cells = submitted.cells
    identity = match_by_identity(lab, cells)
    matches = dict(identity)
    match_by_content(lab, cells, matches)
    match_by_position(lab, cells, matches)
    recognised = recognised_share(lab, cells, matches)
    if recognised < RECOGNISED:
        raise Rejected(f"the notebook does not look like {lab.name} (only {recognised:.0%} "
                       "of its cells were found): wrong lab or renamed notebook?")
    placed = ordered_cells(lab, cells, matches, identity)
    notebook = nbformat.from_dict({**lab.notebook, "cells": [cell for _, cell, _ in placed]})
    return Restoration(notebook, [source for source, _, _ in placed], describe_repairs(lab, cells, matches, identity),
                       recognised, [outputs for _, _, outputs in placed])
