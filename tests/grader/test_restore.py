"""Rebuilding submissions on the lab's skeleton (no kernels)."""
from __future__ import annotations

import copy
from pathlib import Path

from coursetool.grade.lab import Lab, Role
from coursetool.grade.restore import restore
from tests.grader import corpus

LAB = "gradelab"


def lab_of(course: Path) -> Lab:
    return Lab(LAB, course / "autograder" / "source" / LAB)


def cells_of(restoration, role: Role) -> list[str]:
    return [cell.source for cell, origin in zip(restoration.notebook.cells, restoration.origins)
            if origin is not None and origin.role is role]


def test_a_correct_notebook_keeps_its_answers_and_gets_the_hidden_tests(built_course: Path) -> None:
    lab = lab_of(built_course)
    restoration = restore(lab, corpus.solved(built_course, LAB))
    assert restoration.notes == [] and restoration.recognised == 1.0
    assert cells_of(restoration, Role.TEST) == [t.cell.source for t in lab.tests]
    assert any("hidden_probe_square" in source for source in cells_of(restoration, Role.TEST))
    assert "return x * x" in cells_of(restoration, Role.SOLUTION)[0]


def test_edited_deleted_duplicated_and_moved_test_cells_are_restored(built_course: Path) -> None:
    lab = lab_of(built_course)
    nb = corpus.solved(built_course, LAB)
    square_test = corpus.cell_by_grade_id(nb, "t-square")
    mean_test = corpus.cell_by_grade_id(nb, "t-mean")
    double_test = corpus.cell_by_grade_id(nb, "t-double")
    double_test.source = "pass"
    nb.cells.remove(mean_test)
    nb.cells.insert(0, copy.deepcopy(square_test))      # duplicated and moved to the top
    nb.cells.remove(square_test)
    restoration = restore(lab, nb)
    assert cells_of(restoration, Role.TEST) == [t.cell.source for t in lab.tests]
    assert len(restoration.notebook.cells) == len(lab.cells)
    assert {"test cell t-mean was missing: restored", "test cell t-double was edited: restored"} <= set(restoration.notes)


def test_stripped_metadata_is_matched_by_content(built_course: Path) -> None:
    lab = lab_of(built_course)
    restoration = restore(lab, corpus.stripped(corpus.solved(built_course, LAB)))
    assert cells_of(restoration, Role.TEST) == [t.cell.source for t in lab.tests]
    assert [s.strip() for s in cells_of(restoration, Role.SOLUTION)] == [
        s.strip() for s in corpus.model_answers(built_course, LAB).values() if "def " in s]
    assert "A product of two numbers" in cells_of(restoration, Role.ANSWER)[0]


def test_added_cells_stay_and_another_lab_is_not_recognised(built_course: Path) -> None:
    lab = lab_of(built_course)
    nb = corpus.solved(built_course, LAB)
    index = nb.cells.index(corpus.cell_by_grade_id(nb, "solution-1"))
    nb.cells.insert(index + 1, corpus.nbformat.v4.new_code_cell("helper = 41 + 1"))
    restoration = restore(lab, nb)
    sources = [c.source for c in restoration.notebook.cells]
    assert sources.index("helper = 41 + 1") == sources.index(corpus.model_answers(built_course, LAB)["solution-1"]) + 1
    assert restore(lab, corpus.unrelated_notebook()).recognised < 0.25
