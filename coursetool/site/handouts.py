"""The teaching team's handouts: each lab's solution executed in quick mode, as a notebook and one HTML file.

The executed notebook comes from the folder where the course check keeps them
(``check --keep-executed``) when it is fresh; otherwise the solution runs now, once, through the
grader's own steps exactly as the check runs it, and is kept there for next time. The HTML file
holds everything it shows: figures as data URIs, the JupyterLab style sheet and MathJax inline,
so a teaching assistant can open it offline from anywhere.
"""
from __future__ import annotations

import html
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from coursetool.build import build_files, parse_course
from coursetool.model import Lab
from coursetool.render import LINK_ID
from coursetool.site import executed, mathjax

TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE = "handout"
BANNER_ID = "handout-banner"
CELL_TIMEOUT, NOTEBOOK_TIMEOUT = 1200.0, 3600.0  # seconds: a handout is not a grade, a busy machine may be slow


@dataclass(frozen=True)
class Handout:
    """One lab's handout files and what went into them."""

    lab: str
    notebook: Path
    html: Path
    figures: int  # PNG outputs of the executed notebook
    errors: int  # error outputs (a solution has none)
    reused: bool  # the executed notebook was kept from an earlier run
    stopped: str | None = None  # why the run ended before the last cell, if it did

    @property
    def ok(self) -> bool:
        return self.errors == 0 and self.stopped is None


def run_solution(lab: Lab, files: dict[str, bytes]) -> tuple[NotebookNode, str | None]:
    """The lab's solution notebook executed as the course check executes it (quick mode, the grader's runner),
    with time limits for a busy machine rather than for grading; and why it stopped early, if it did."""
    from coursetool.grade.lab import AutograderLab
    from coursetool.grade.notebook.pipeline import grade_notebook
    from coursetool.grade.notebook.runspec import run_spec
    from coursetool.verify import check_settings
    from coursetool.write import replace_outputs

    with tempfile.TemporaryDirectory(prefix=f"handout-{lab.name}-") as tmp:
        course = Path(tmp)
        replace_outputs(course, {name: data for name, data in files.items() if name.startswith("autograder/")})
        settings = check_settings(lab, course / "autograder")
        limits = replace(settings.limits, cell_timeout=CELL_TIMEOUT, notebook_timeout=NOTEBOOK_TIMEOUT)
        solution = nbformat.reads(files[f"solutions/{lab.name}.ipynb"].decode(), as_version=4)
        graded = grade_notebook(solution, AutograderLab(lab.name, settings.source_dir),
                                run_spec(replace(settings, limits=limits)))
        return graded.notebook, graded.execution.stopped


def executed_solution(lab: Lab, files: dict[str, bytes], cache: Path) -> tuple[NotebookNode, bool, str | None]:
    """The executed solution of ``lab``, whether it was reused from ``cache``, and why a run now stopped early.

    A complete run is kept in ``cache`` for next time; one cut short is not.
    """
    kept = executed.load_fresh(cache, lab.name, files)
    if kept is not None:
        return kept, True, None
    print(f"{lab.name}: running the solution in quick mode (no fresh executed notebook in {cache})", flush=True)
    notebook, stopped = run_solution(lab, files)
    if stopped:
        solution = nbformat.reads(files[f"solutions/{lab.name}.ipynb"].decode(), as_version=4)
        return executed.with_solution_sources(solution, notebook), False, stopped
    executed.store(cache, lab.name, files, notebook)
    return executed.load_fresh(cache, lab.name, files), False, None


def count_outputs(notebook: NotebookNode, what: str) -> int:
    """PNG outputs (``what="image/png"``) or error outputs (``what="error"``) of a notebook."""
    count = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            count += output.get("output_type") == "error" if what == "error" else what in output.get("data", {})
    return count


def handout_notebook(solution: NotebookNode, title: str) -> NotebookNode:
    """The executed solution with a banner saying what it is, and without the badge that loads a picture."""
    notebook = nbformat.from_dict(solution)
    notebook.cells = [cell for cell in notebook.cells if cell.get("id") != LINK_ID]
    banner = (f'<div class="handout-banner"><strong>Teaching team handout: {html.escape(title)}.</strong> '
              "The full solution, executed in quick mode (small data subsets, few epochs: numbers and pictures "
              "are rougher than in a full run). Not for students: it shows every solution.</div>")
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell(banner, id=BANNER_ID))
    return notebook


def handout_html(notebook: NotebookNode, title: str) -> str:
    """One self-contained HTML page of a notebook."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name=TEMPLATE, extra_template_basedirs=[str(TEMPLATES)], embed_images=True)
    notebook = nbformat.from_dict(notebook)
    notebook.metadata["title"] = title
    body, _ = exporter.from_notebook_node(notebook, resources={"handout_mathjax": mathjax.single_file_script()})
    return body


def lab_title(notebook: NotebookNode, fallback: str) -> str:
    """The notebook's first level-1 heading."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def index_html(handouts: list[tuple[str, Handout]]) -> str:
    """A plain list of the handouts, for a folder opened in a browser."""
    items = "\n".join(f'<li><a href="{h.html.name}">{html.escape(title)}</a> '
                      f'(<a href="{h.notebook.name}">executed notebook</a>, {h.figures} figures)</li>'
                      for title, h in handouts)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Handouts</title></head>\n"
            f"<body><h1>Teaching team handouts</h1>\n<p>Solutions executed in quick mode. Not for students.</p>\n"
            f"<ul>\n{items}\n</ul></body></html>\n")


def write_handout(lab: Lab, files: dict[str, bytes], out: Path, cache: Path) -> tuple[str, Handout]:
    """Write one lab's executed notebook and HTML file into ``out``; its title and handout."""
    solution, reused, stopped = executed_solution(lab, files, cache)
    title = lab_title(solution, lab.name)
    notebook = handout_notebook(solution, title)
    nb_path, html_path = out / f"{lab.name}.ipynb", out / f"{lab.name}.html"
    nbformat.write(notebook, nb_path)
    html_path.write_text(handout_html(notebook, f"{title} (solution)"), encoding="utf-8")
    return title, Handout(lab.name, nb_path, html_path, count_outputs(notebook, "image/png"),
                          count_outputs(notebook, "error"), reused, stopped)


def build_handouts(source_dir: Path, out: Path, cache: Path, labs: list[str] | None = None) -> list[Handout]:
    """The handouts of the chosen labs (all by default) in ``out``, with an index page."""
    files = build_files(source_dir)
    out.mkdir(parents=True, exist_ok=True)
    made = [write_handout(lab, files, out, cache) for lab in parse_course(source_dir)
            if labs is None or lab.name in labs]
    (out / "index.html").write_text(index_html(made), encoding="utf-8")
    return [handout for _, handout in made]
