"""A grading process reads its lab once, and again when the lab's notebook is another file (no kernel)."""
from __future__ import annotations

from pathlib import Path

import nbformat

from coursetool.grade.notebook.pipeline import load_lab


def test_the_same_notebook_is_read_once_and_a_changed_one_again(course: Path):
    source_dir = course / "autograder" / "source" / "gradelab"
    first = load_lab("gradelab", source_dir)
    assert load_lab("gradelab", source_dir) is first
    notebook = nbformat.read(source_dir / "gradelab.ipynb", as_version=4)
    notebook.cells[0].source += "\n\nA sentence added since."
    nbformat.write(notebook, source_dir / "gradelab.ipynb")
    again = load_lab("gradelab", source_dir)
    assert again is not first and again.cells[0].cell.source.endswith("A sentence added since.")
