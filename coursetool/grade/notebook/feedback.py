"""Student feedback: nbgrader's feedback template, with no hidden test in it.

nbgrader renders the autograded notebook, hidden tests included (nbgrader #917). Here each
test cell shows only its visible lines, and a failed test shows its exception and message,
never a traceback (a traceback quotes the failing line, which may be a hidden one).
"""
from __future__ import annotations

import copy
import html
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbformat import NotebookNode

from coursetool.grade.lab import AutograderLab, Role, SourceCell

if TYPE_CHECKING:
    from coursetool.grade.notebook.html_export import FeedbackExporter


def hide_test_source(nb: NotebookNode, origins: list[SourceCell | None]) -> None:
    """Test cells: visible lines only; errors reduced to their name and message."""
    for cell, source in zip(nb.cells, origins):
        if source is None or source.role is not Role.TEST:
            continue
        cell.source = source.released.source
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                output.traceback = [f"{output.ename}: {output.evalue}"]


def annotate_scores(nb: NotebookNode, origins: list[SourceCell | None], lab: AutograderLab,
                    scores: dict[str, float | None], comments: dict[str, str | None]) -> dict[str, Any]:
    """What nbgrader's GetGrades puts in the notebook: each graded cell's score and comment; returns the page's
    ``nbgrader`` resources (the notebook's score).

    ``scores`` maps grade ids to points (None: waiting for a grader), ``comments`` maps them to a grader's comment.
    """
    for cell, source in zip(nb.cells, origins):
        if source is None or source.role not in (Role.TEST, Role.ANSWER, Role.SOLUTION):
            continue
        nbgrader_metadata = cell.metadata.nbgrader
        nbgrader_metadata["comment"] = comments.get(source.grade_id)
        if source.role in (Role.TEST, Role.ANSWER):
            nbgrader_metadata["score"] = scores.get(source.grade_id, 0.0)
            nbgrader_metadata["points"] = source.points
    return {
        "notebook": lab.name,
        "score": sum(score for score in scores.values() if score is not None),
        "max_score": sum(c.points for c in lab.cells if c.role in (Role.TEST, Role.ANSWER)),
        "late_penalty": 0,
    }


@lru_cache(maxsize=1)
def exporter() -> FeedbackExporter:
    """nbgrader's feedback template; one exporter per process, so its templates compile once (nbconvert imported here)."""
    from coursetool.grade.notebook.html_export import feedback_exporter

    return feedback_exporter()


def write_html(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def origins_by_grade_id(lab: AutograderLab, nb: NotebookNode) -> list[SourceCell | None]:
    """The source cell behind each cell of an autograded notebook, found by its grade id."""
    by_grade_id = {c.grade_id: c for c in lab.cells if c.grade_id}
    return [by_grade_id.pop(cell.metadata.get("nbgrader", {}).get("grade_id"), None) for cell in nb.cells]


def feedback_html(nb: NotebookNode, lab: AutograderLab, scores: dict[str, float | None],
                  comments: dict[str, str | None]) -> str:
    """An autograded notebook rendered with nbgrader's feedback template: visible tests only, scores and comments.

    ``scores`` maps every graded cell's id to its points (None: waiting for a grader).
    """
    nb = copy.deepcopy(nb)
    origins = origins_by_grade_id(lab, nb)
    hide_test_source(nb, origins)
    grades = annotate_scores(nb, origins, lab, scores, comments)
    body, _ = exporter().from_notebook_node(nb, resources={"nbgrader": grades})
    return body


def warm_up_feedback(lab: AutograderLab) -> None:
    """Compile the feedback templates and highlight the lab's own cells once, so that worker processes forked after
    this inherit them."""
    feedback_html(lab.notebook, lab, {}, {})


def write_feedback(nb: NotebookNode, lab: AutograderLab, scores: dict[str, float | None], comments: dict[str, str | None],
                   path: Path) -> None:
    """Write ``feedback_html`` to ``path``."""
    write_html(feedback_html(nb, lab, scores, comments), path)


def rejection_html(lab_name: str, reason: str) -> str:
    """Feedback for a submission that could not be graded: the reason, nothing else."""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(lab_name)}</title></head>"
            f"<body><h1>{html.escape(lab_name)}: not graded</h1><p>Score: 0</p>"
            f"<p>{html.escape(reason)}</p></body></html>\n")
