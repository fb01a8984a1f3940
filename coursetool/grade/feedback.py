"""Student feedback: nbgrader's feedback template, with no hidden test in it.

nbgrader renders the autograded notebook, hidden tests included (nbgrader #917). Here each
test cell shows only its visible lines, and a failed test shows its exception and message,
never a traceback (a traceback quotes the failing line, which may be a hidden one).
"""
from __future__ import annotations

import html
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbgrader
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from traitlets.config import Config

from coursetool.grade.lab import Role

if TYPE_CHECKING:
    from coursetool.grade.pipeline import SubmissionResult
    from coursetool.grade.settings import Settings

FORMGRADER = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"


class HideTestSource(Preprocessor):
    """Test cells: visible lines only; errors reduced to their name and message."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        for cell, source in zip(nb.cells, resources["restoration"].origins):
            if source is None or source.role is not Role.TEST:
                continue
            cell.source = source.released.source
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return nb, resources


class AnnotateScores(Preprocessor):
    """What nbgrader's GetGrades puts in the notebook, from this run's scores instead of the gradebook."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        result: SubmissionResult = resources["result"]
        for cell, source in zip(nb.cells, resources["restoration"].origins):
            if source is None or source.role not in (Role.TEST, Role.ANSWER, Role.SOLUTION):
                continue
            nbgrader_metadata = cell.metadata.nbgrader
            nbgrader_metadata["comment"] = None
            if source.role is Role.TEST:
                nbgrader_metadata["score"] = result.scores.get(source.grade_id, 0.0)
                nbgrader_metadata["points"] = source.points
            elif source.role is Role.ANSWER:
                nbgrader_metadata["score"] = None if result.answered.get(source.grade_id) else 0.0
                nbgrader_metadata["points"] = source.points
        resources["nbgrader"] = {
            "notebook": resources["lab"].name,
            "score": sum(result.scores.values()),
            "max_score": sum(c.points for c in resources["lab"].cells if c.role in (Role.TEST, Role.ANSWER)),
            "late_penalty": 0,
        }
        return nb, resources


@lru_cache(maxsize=1)
def exporter() -> HTMLExporter:
    """nbgrader's feedback template; one exporter per process, so its templates compile once."""
    config = Config()
    config.HTMLExporter.template_name = "feedback"
    config.HTMLExporter.extra_template_basedirs = [str(FORMGRADER / "templates")]
    config.HTMLExporter.extra_template_paths = [str(FORMGRADER / "static" / "node_modules" / "bootstrap" / "dist" / "css")]
    return HTMLExporter(config=config)


def write_html(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def render_feedback(nb: NotebookNode, resources: dict[str, Any], result: SubmissionResult, settings: Settings) -> None:
    """Write the student's HTML feedback for a graded notebook."""
    resources = {**resources, "result": result}
    for step in (HideTestSource(), AnnotateScores()):
        nb, resources = step.preprocess(nb, resources)
    body, _ = exporter().from_notebook_node(nb, resources={"nbgrader": resources["nbgrader"]})
    write_html(body, settings.feedback_file(result.student))


def render_rejection(result: SubmissionResult, settings: Settings) -> None:
    """Feedback for a submission that could not be graded: the reason, nothing else."""
    body = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(settings.lab)}</title></head>"
            f"<body><h1>{html.escape(settings.lab)}: not graded</h1><p>Score: 0</p>"
            f"<p>{html.escape(result.reason)}</p></body></html>\n")
    write_html(body, settings.feedback_file(result.student))
