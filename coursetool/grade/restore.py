"""Rebuild a submission on the lab's skeleton: the instructor's cells, the student's answers.

Student cells are matched to source cells in three passes: by nbgrader ``grade_id`` or
notebook cell id; then, for notebooks whose metadata another editor stripped, by content
(the lines of the source cell that lie outside solution regions); then, for answer cells
with nothing to recognise them by, by position between two matched neighbours. Test and
locked cells always come from the source (hidden tests included), in the source's order;
deleted ones come back, copies are dropped. Solution, answer and free cells keep the
student's text under the source's metadata; cells the student added stay where they were.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import nbformat
from nbformat import NotebookNode

from coursetool.grade.lab import STUDENT_ROLES, Lab, Role, SourceCell, defined_names, significant_lines
from coursetool.grade.runner import CellPlan

CONTENT_MATCH = 0.6      # share of a source cell's fixed lines a student cell must hold to match it
TEST_COPY = 0.8          # share of a test cell's lines that marks an unmatched cell as a copy of it
RECOGNISED = 0.25        # below this share of recognisable cells found, the notebook is another lab


@dataclass
class Restoration:
    """The notebook to execute, how to run each cell, and what was repaired."""

    notebook: NotebookNode
    plans: dict[int, CellPlan]
    origins: list[SourceCell | None]
    notes: list[str] = field(default_factory=list)
    recognised: float = 1.0


def overlap(source: SourceCell, cell: NotebookNode) -> float:
    """Share of the source cell's fixed lines found in a student cell of the same type."""
    if cell.cell_type != source.cell.cell_type or not source.anchor_lines:
        return 0.0
    return len(source.anchor_lines & significant_lines(cell.source)) / len(source.anchor_lines)


def match_by_identity(lab: Lab, cells: list[NotebookNode]) -> tuple[dict[int, int], set[int]]:
    """Student index -> source index by grade_id or cell id, and the student cells that copy a matched one."""
    by_grade_id = {c.grade_id: c.index for c in lab.cells if c.grade_id}
    by_cell_id = {c.cell.get("id"): c.index for c in lab.cells if c.cell.get("id")}
    matches: dict[int, int] = {}
    copies: set[int] = set()
    for index, cell in enumerate(cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        candidates = [by_grade_id.get(grade_id), by_cell_id.get(cell.get("id"))]
        for source_index in candidates:
            if source_index is None or lab.cells[source_index].cell.cell_type != cell.cell_type:
                continue
            if source_index in matches.values():
                copies.add(index)
            else:
                matches[index] = source_index
            break
    return matches, copies


def match_by_content(lab: Lab, cells: list[NotebookNode], matches: dict[int, int], skip: set[int]) -> None:
    """Pair the remaining cells whose content holds most of a source cell's fixed lines."""
    taken = set(matches.values())
    pairs = []
    for source in lab.cells:
        if source.index in taken:
            continue
        for index, cell in enumerate(cells):
            if index in matches or index in skip:
                continue
            score = overlap(source, cell)
            if score >= CONTENT_MATCH:
                distance = abs(source.index / len(lab.cells) - index / len(cells))
                pairs.append((-score, distance, source.index, index))
    for _, _, source_index, index in sorted(pairs):
        if source_index not in taken and index not in matches:
            matches[index] = source_index
            taken.add(source_index)


def match_by_position(lab: Lab, cells: list[NotebookNode], matches: dict[int, int], skip: set[int]) -> None:
    """Pair remaining answer cells with the first free student cell of their type between matched neighbours."""
    student_of = {source_index: index for index, source_index in matches.items()}
    for source in lab.cells:
        if source.index in student_of or source.role not in (Role.SOLUTION, Role.ANSWER):
            continue
        before = [student_of[s] for s in student_of if s < source.index]
        after = [student_of[s] for s in student_of if s > source.index]
        low, high = max(before, default=-1), min(after, default=len(cells))
        for index in range(low + 1, high):
            if index not in matches and index not in skip and cells[index].cell_type == source.cell.cell_type:
                matches[index] = source.index
                student_of[source.index] = index
                break


def copies_of_tests(lab: Lab, cells: list[NotebookNode], matches: dict[int, int]) -> set[int]:
    """Unmatched student cells that are (near) copies of a test cell."""
    return {index for index, cell in enumerate(cells) if index not in matches
            and any(overlap(test, cell) >= TEST_COPY for test in lab.tests)}


def recognised_share(lab: Lab, cells: list[NotebookNode], matches: dict[int, int]) -> float:
    """Share of the source cells with fixed lines whose matched student cell holds half of them."""
    recognisable = [c for c in lab.cells if c.anchor_lines]
    if not recognisable:
        return 1.0
    student_of = {source_index: index for index, source_index in matches.items()}
    found = sum(1 for c in recognisable if c.index in student_of and overlap(c, cells[student_of[c.index]]) >= 0.5)
    return found / len(recognisable)


def restored_cell(source: SourceCell, submitted: NotebookNode | None) -> NotebookNode:
    """The cell to execute for a source cell: the student's text only where the student writes."""
    cell = nbformat.from_dict(source.cell)
    if source.role in STUDENT_ROLES:
        cell.source = submitted.source if submitted is not None else source.released.source
        if "attachments" in (submitted or {}):
            cell.attachments = submitted.attachments
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def extra_cell(cell: NotebookNode, index: int) -> NotebookNode:
    """A cell the student added: kept as plain student code, without grading metadata."""
    extra = nbformat.from_dict(cell)
    extra.id = f"student-{index}"
    extra.metadata.pop("nbgrader", None)
    if extra.cell_type == "code":
        extra.outputs, extra.execution_count = [], None
    return extra


def describe_repairs(lab: Lab, cells: list[NotebookNode], matches: dict[int, int], identity: dict[int, int],
                     dropped: set[int]) -> list[str]:
    notes = []
    student_of = {source_index: index for index, source_index in matches.items()}
    for source in lab.cells:
        if source.role not in (Role.TEST, Role.FIXED):
            continue
        label = f"{'test' if source.role is Role.TEST else 'locked'} cell {source.grade_id}"
        if source.index not in student_of:
            notes.append(f"{label} was missing: restored")
        elif cells[student_of[source.index]].source.strip() != source.released.source.strip():
            notes.append(f"{label} was edited: restored")
    if dropped:
        notes.append(f"{len(dropped)} copied test cell(s) removed")
    fixed_positions = [student_of[c.index] for c in lab.cells if c.role in (Role.TEST, Role.FIXED) and c.index in student_of]
    if fixed_positions != sorted(fixed_positions):
        notes.append("test cells were moved: the lab's order restored")
    by_content = len(set(matches) - set(identity))
    if by_content:
        notes.append(f"{by_content} cell(s) without their metadata matched by content")
    return notes


def restore(lab: Lab, submitted: NotebookNode) -> Restoration:
    """The submission rebuilt on the lab's skeleton, ready to execute."""
    cells = submitted.cells
    identity, copies = match_by_identity(lab, cells)
    matches = dict(identity)
    match_by_content(lab, cells, matches, copies)
    copies |= copies_of_tests(lab, cells, matches)
    match_by_position(lab, cells, matches, copies)
    dropped = {i for i in copies if i not in matches}
    student_of = {source_index: index for index, source_index in matches.items()}
    extras_after: dict[int, list[int]] = {}
    anchor = -1
    for index in range(len(cells)):
        if index in matches:
            anchor = matches[index]
        elif index not in dropped:
            extras_after.setdefault(anchor, []).append(index)

    restored, origins, plans = [], [], {}
    for index in extras_after.get(-1, []):
        restored.append(extra_cell(cells[index], index))
        origins.append(None)
    for source in lab.cells:
        submitted_cell = cells[student_of[source.index]] if source.index in student_of else None
        if source.role in (Role.TEST, Role.FIXED) and source.cell.cell_type == "code":
            plans[len(restored)] = CellPlan(is_test=source.role is Role.TEST, protects=defined_names(source.cell.source))
        restored.append(restored_cell(source, submitted_cell))
        origins.append(source)
        for index in extras_after.get(source.index, []):
            restored.append(extra_cell(cells[index], index))
            origins.append(None)
    notebook = nbformat.from_dict({**lab.notebook, "cells": restored})
    return Restoration(notebook, plans, origins, describe_repairs(lab, cells, matches, identity, dropped),
                       recognised_share(lab, cells, matches))
