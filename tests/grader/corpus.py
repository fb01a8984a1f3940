"""Submissions for the autograder's tests, written from the built fixture labs."""
from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.MULTILINE)


def release(out: Path, lab: str) -> NotebookNode:
    return nbformat.read(out / "release" / f"{lab}.ipynb", as_version=4)


def model_answers(out: Path, lab: str) -> dict[str, str]:
    """grade_id -> the source's solution or written answer, markers removed."""
    source = nbformat.read(out / "autograder" / "source" / lab / f"{lab}.ipynb", as_version=4)
    answers = {}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            answers[meta["grade_id"]] = SOLUTION_MARKERS.sub("", cell.source)
    return answers


def cell_by_grade_id(nb: NotebookNode, grade_id: str) -> NotebookNode:
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def solved(out: Path, lab: str, **replacements: str) -> NotebookNode:
    """The release notebook with every answer filled in; ``replacements`` override solution cells by grade_id."""
    nb = release(out, lab)
    for grade_id, text in {**model_answers(out, lab), **replacements}.items():
        cell_by_grade_id(nb, grade_id).source = text
    return nb


def solution_ids(nb: NotebookNode) -> list[str]:
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]


def with_prefix(out: Path, lab: str, grade_id: str, code: str) -> NotebookNode:
    """A correct notebook whose solution cell ``grade_id`` starts with ``code``."""
    answer = model_answers(out, lab)[grade_id]
    return solved(out, lab, **{grade_id: code + "\n" + answer})


def with_suffix(out: Path, lab: str, grade_id: str, code: str) -> NotebookNode:
    answer = model_answers(out, lab)[grade_id]
    return solved(out, lab, **{grade_id: answer + "\n" + code})


def stripped(nb: NotebookNode) -> NotebookNode:
    """What another editor may hand back: no cell metadata, new cell ids, outputs kept."""
    nb = copy.deepcopy(nb)
    for number, cell in enumerate(nb.cells):
        cell.metadata = {}
        cell.id = f"x{number:04d}"
    return nb


def write(nb: NotebookNode, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def write_raw(data: bytes, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def unrelated_notebook() -> NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# My holiday photos"),
                nbformat.v4.new_code_cell("photos = ['beach.jpg', 'hill.jpg']\nprint(len(photos))"),
                nbformat.v4.new_code_cell("for p in photos:\n    print(p.upper())")]
    return nb


def notebook_json(nb: NotebookNode) -> dict:
    return json.loads(nbformat.writes(nb))


def hidden_lines(out: Path, lab: str) -> set[str]:
    """Every recognisable hidden line of the lab: hidden test code and probe expressions."""
    source = nbformat.read(out / "autograder" / "source" / lab / f"{lab}.ipynb", as_version=4)
    lines = {line.strip() for cell in source.cells
             for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S)
             for line in block.splitlines() if len(line.strip()) >= 12}
    return lines | {probe["expression"] for cell in source.cells
                    for probe in cell.metadata.get("coursetool", {}).get("probes", [])}


def feedback_texts(out: Path, lab: str) -> dict[Path, str]:
    """Each student's feedback page as a reader sees its text (tags removed, entities decoded)."""
    return {page: html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))
            for page in (out / "autograder" / "feedback").glob(f"*/{lab}/{lab}.html")}
