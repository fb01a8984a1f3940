"""The build: parse every source -> check -> render each target -> one set of output files."""
from __future__ import annotations

from pathlib import Path

import nbformat

from coursetool.check import check_lab
from coursetool.config import load_config
from coursetool.errors import BuildError, SourceError
from coursetool.model import Lab
from coursetool.parse import parse_lab
from coursetool.render import AUTOGRADER, SOLUTION, STUDENT, render
from coursetool.write import notebook_bytes

NBGRADER_CONFIG = '''"""nbgrader settings for grading this course (written by the course build).

With them, nbgrader's own commands grade as `python -m coursetool grade` does: quick mode, no
downloads, progress as plain lines, errors without tracebacks, feedback without hidden tests.
A variable set before running nbgrader wins: `VAELAB_QUICK=0 nbgrader autograde ...` grades
in full mode (raise the cell timeout with `--Execute.timeout=<seconds>` then).
"""
import os

for name, value in {"VAELAB_QUICK": "1", "VAELAB_OFFLINE": "1", "VAELAB_PROGRESS": "plain"}.items():
    os.environ.setdefault(name, value)  # the kernels inherit nbgrader's environment

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "vae-labs"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
# Seconds a cell may run (nbgrader's 30 would cut demos short): the slowest quick-mode cell,
# lab 3's KL annealing demo, takes over a minute on two idle cores, four on busy ones.
c.Execute.timeout = 600
# An error shows as its exception and message: a traceback would quote the failing test line,
# hidden or not.
c.Execute.extra_arguments = ["--InteractiveShell.xmode=Minimal"]
# The probes' reference values stay in source/: never copied into a release, an autograded
# folder or feedback (the hidden checks read them there).
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "probes.json"]
# Feedback shows each test cell without its hidden tests.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
'''


def find_sources(source_dir: Path) -> list[Path]:
    """The lab sources: every ``*.md`` in the folder but its README."""
    return sorted(p for p in source_dir.glob("*.md") if p.name.lower() != "readme.md")


def parse_course(source_dir: Path) -> list[Lab]:
    """Parse and check every lab; raise BuildError with all errors of all files."""
    sources = find_sources(source_dir)
    if not sources:
        raise BuildError([SourceError(source_dir, 0, "no lab sources found", "add <name>.md files")])
    labs, errors = [], []
    for path in sources:
        lab, parse_errors = parse_lab(path)
        errors += parse_errors or check_lab(lab)
        labs.append(lab)
    if errors:
        raise BuildError(errors)
    return labs


def valid_notebook_bytes(notebook: nbformat.NotebookNode) -> bytes:
    nbformat.validate(notebook)
    return notebook_bytes(notebook)


def build_files(source_dir: Path) -> dict[str, bytes]:
    """Every output file of the course, by path relative to the output folder."""
    config = load_config(source_dir)
    files: dict[str, bytes] = {"autograder/nbgrader_config.py": NBGRADER_CONFIG.encode()}
    for lab in parse_course(source_dir):
        files[f"release/{lab.name}.ipynb"] = valid_notebook_bytes(render(lab, STUDENT, config))
        files[f"solutions/{lab.name}.ipynb"] = valid_notebook_bytes(render(lab, SOLUTION, config))
        files[f"autograder/source/{lab.name}/{lab.name}.ipynb"] = valid_notebook_bytes(render(lab, AUTOGRADER, config))
    return files
