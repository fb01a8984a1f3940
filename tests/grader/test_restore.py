"""Rebuilding submissions on the lab's skeleton (no kernels): tests from the source, student code as written."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from coursetool.grade.lab import AutograderLab, Role
from coursetool.grade.notebook.restore import restore
from coursetool.grade.result import Rejected
from tests.grader import corpus

LAB = "gradelab"


def lab_of(course: Path) -> AutograderLab:
    return AutograderLab(LAB, course / "autograder" / "source" / LAB)


def cells_of(restoration, role: Role) -> list[str]:
    return [cell.source for cell, origin in zip(restoration.notebook.cells, restoration.origins)
            if origin is not None and origin.role is role]


def sources(restoration) -> list[str]:
    return [cell.source for cell in restoration.notebook.cells if cell.cell_type == "code"]


def test_a_correct_notebook_keeps_its_answers_and_gets_the_hidden_tests(built_course: Path) -> None:
    lab = lab_of(built_course)
    restoration = restore(lab, corpus.solved(built_course, LAB))
    assert restoration.notes == [] and restoration.recognised == 1.0
    assert cells_of(restoration, Role.TEST) == [t.cell.source for t in lab.tests]
    assert any("hidden_probe_square" in source for source in cells_of(restoration, Role.TEST))
    assert "return x * x" in cells_of(restoration, Role.SOLUTION)[0]


def test_edited_deleted_and_moved_test_cells_come_from_the_source(built_course: Path) -> None:
    lab = lab_of(built_course)
    nb = corpus.solved(built_course, LAB)
    square_test = corpus.cell_by_grade_id(nb, "t-square")
    corpus.cell_by_grade_id(nb, "t-double").source = "pass"
    nb.cells.remove(corpus.cell_by_grade_id(nb, "t-mean"))
    nb.cells.remove(square_test)
    nb.cells.insert(0, square_test)  # moved to the top
    restoration = restore(lab, nb)
    assert cells_of(restoration, Role.TEST) == [t.cell.source for t in lab.tests]
    assert "pass" not in sources(restoration)
    assert {"test cell t-mean was missing: restored", "test cell t-double was edited: the original ran"} <= set(restoration.notes)


def test_a_copied_solution_cell_runs_both_copies_in_order(built_course: Path) -> None:
    """Copy/paste keeps the metadata; the fixed copy below is the one a top-to-bottom run uses."""
    lab = lab_of(built_course)
    nb = corpus.solved(built_course, LAB, **{"solution-1": "def square(x):\n    return x + x"})
    first = corpus.cell_by_grade_id(nb, "solution-1")
    fixed = copy.deepcopy(first)
    fixed.source = "def square(x):\n    return x * x"
    nb.cells.insert(nb.cells.index(first) + 1, fixed)
    code = sources(restore(lab, nb))
    assert code.index("def square(x):\n    return x + x") + 1 == code.index("def square(x):\n    return x * x")
    assert code.index("def square(x):\n    return x * x") < next(i for i, s in enumerate(code) if "hidden_probe_square" in s)


def test_a_deleted_solution_cell_never_brings_back_the_stub(built_course: Path) -> None:
    lab = lab_of(built_course)
    nb = corpus.solved(built_course, LAB)
    nb.cells.remove(corpus.cell_by_grade_id(nb, "solution-1"))
    nb.cells.insert(1, new_code_cell("def square(x):\n    return x * x"))
    restoration = restore(lab, nb)
    assert not any("def square" in s and "NotImplementedError" in s for s in sources(restoration))
    code = sources(restoration)
    assert code.index("def square(x):\n    return x * x") < next(i for i, s in enumerate(code) if "hidden_probe_square" in s)
    nb.cells[1].source = "square = lambda x: x * x"  # nothing left to recognise it by
    restoration = restore(lab, nb)
    assert cells_of(restoration, Role.SOLUTION)[0] == ""  # the cell is there for nbgrader, empty
    assert "square = lambda x: x * x" in sources(restoration)
    assert "solution cell solution-1 was deleted" in restoration.notes


def test_a_new_cell_holding_a_function_and_a_pasted_test_is_kept(built_course: Path) -> None:
    lab = lab_of(built_course)
    nb = corpus.release(built_course, LAB)
    stub = corpus.cell_by_grade_id(nb, "solution-1")
    visible = corpus.cell_by_grade_id(nb, "t-square").source
    tried = "def square(x):\n    return x * x\n\n" + visible
    nb.cells.insert(nb.cells.index(stub) + 1, new_code_cell(tried))
    code = sources(restore(lab, nb))
    assert tried in code
    assert code.index(tried) < next(i for i, s in enumerate(code) if "hidden_probe_square" in s)


def test_stripped_metadata_is_matched_by_content(built_course: Path) -> None:
    lab = lab_of(built_course)
    restoration = restore(lab, corpus.stripped(corpus.solved(built_course, LAB)))
    assert cells_of(restoration, Role.TEST) == [t.cell.source for t in lab.tests]
    assert [s.strip() for s in cells_of(restoration, Role.SOLUTION)] == [
        s.strip() for s in corpus.model_answers(built_course, LAB).values() if "def " in s]
    assert "A product of two numbers" in cells_of(restoration, Role.ANSWER)[0]


def test_added_cells_stay_in_the_students_order_and_another_lab_is_refused(built_course: Path) -> None:
    lab = lab_of(built_course)
    nb = corpus.solved(built_course, LAB)
    one, two = corpus.cell_by_grade_id(nb, "solution-1"), corpus.cell_by_grade_id(nb, "solution-2")
    nb.cells.insert(nb.cells.index(one) + 1, new_code_cell("helper = 41 + 1"))
    nb.cells.insert(nb.cells.index(two), new_markdown_cell("my notes"))
    code = sources(restore(lab, nb))
    assert code.index("helper = 41 + 1") == code.index(corpus.model_answers(built_course, LAB)["solution-1"]) + 1
    with pytest.raises(Rejected, match="does not look like gradelab"):
        restore(lab, corpus.unrelated_notebook())
