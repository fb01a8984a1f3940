"""nbgrader's exchange as intake, read from what ``nbgrader collect`` really writes (no kernel runs)."""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from coursetool.grade.intake import exchange
from tests.grader.exchange_class import collect

LAB = "gradelab"


def tiny(text: str) -> nbformat.NotebookNode:
    return new_notebook(cells=[new_code_cell(text)])


def put(nb: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def submitted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Alice's and Bob's notebooks through ``nbgrader submit`` and ``nbgrader collect``."""
    return collect(tmp_path_factory.mktemp("nbgrader"), LAB, {"alice": tiny("a = 1"), "bob": tiny("b = 2")})


def test_collect_output_is_found_with_nbgraders_timestamps(submitted: Path, tmp_path: Path):
    assert exchange.exchange_root(submitted.parent, LAB) == submitted
    found = exchange.exchange_submissions(submitted, LAB, tmp_path / "staging", {})
    assert [s.student for s in found] == ["alice", "bob"]
    stamp = (submitted / "alice" / LAB / "timestamp.txt").read_text()
    assert found[0].submitted is not None and found[0].submitted.strftime("%Y-%m-%d %H:%M:%S") in stamp
    assert found[0].notebook == submitted / "alice" / LAB / f"{LAB}.ipynb"


def test_a_single_student_exchange_is_not_unwrapped_into_the_student(submitted: Path, tmp_path: Path):
    alone = tmp_path / "submitted"
    shutil.copytree(submitted / "alice", alone / "alice")
    assert exchange.exchange_root(alone, LAB) == alone
    assert exchange.exchange_root(tmp_path, LAB) == alone


def test_students_without_this_lab_get_no_row_and_other_labs_are_not_taken(tmp_path: Path):
    submitted = tmp_path / "submitted"
    put(tiny("a = 1"), submitted / "alice" / LAB / f"{LAB}.ipynb")
    put(tiny("x = 1"), submitted / "alice" / "otherlab" / "otherlab.ipynb")
    put(tiny("y = 1"), submitted / "carol" / "otherlab" / "otherlab.ipynb")
    found = exchange.exchange_submissions(submitted, LAB, tmp_path / "staging", {})
    assert [(s.student, s.notebook.name, s.note) for s in found] == [("alice", f"{LAB}.ipynb", "")]


def test_a_plain_class_folder_is_not_an_exchange(tmp_path: Path):
    put(tiny("a = 1"), tmp_path / "alice" / f"{LAB}.ipynb")
    (tmp_path / "bob" / LAB).mkdir(parents=True)
    assert exchange.exchange_root(tmp_path, LAB) is None
