"""A lab page: the release notebook as a student gets it, with buttons instead of the Colab badge.

The page keeps every cell of the student notebook, gaps, hints, visible tests and the set-up
cell included, in order; only the badge cell goes (its picture would load from the internet),
and the title comes first with an "Open in Colab" button and a download link under it. Cells
get tags the site's style sheet uses to mark the code a student writes and the tests.
"""
from __future__ import annotations

import copy
import html
from dataclasses import dataclass

import nbformat
from nbformat import NotebookNode

from coursetool.render import ANSWER_STUB, LINK_ID, SETUP_ID

GAP_TAG, TEST_TAG, SETUP_TAG = "student-code", "test", "setup"


@dataclass(frozen=True)
class PageLinks:
    """Where a lab page's buttons go: the notebook on Colab, and the file to download (relative href)."""

    colab: str
    download: str
    download_name: str


def actions_html(links: PageLinks) -> str:
    """The button row under a lab's title."""
    return (f'<div class="lab-actions">'
            f'<a class="lab-action lab-colab" href="{html.escape(links.colab)}">Open in Colab</a> '
            f'<a class="lab-action lab-download" href="{html.escape(links.download)}" '
            f'download="{html.escape(links.download_name)}">Download the notebook</a></div>')


def title_index(notebook: NotebookNode) -> int | None:
    """The index of the first markdown cell that starts with a level-1 heading."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            return index
    return None


def cell_tags(cell: NotebookNode) -> list[str]:
    """Tags that say what a code cell is for a student: set-up, their code, or a test."""
    meta = cell.metadata.get("nbgrader", {})
    if cell.get("id") == SETUP_ID:
        return [SETUP_TAG]
    if meta.get("grade") and cell.cell_type == "code":
        return [TEST_TAG]
    if meta.get("solution") and cell.cell_type == "code":
        return [GAP_TAG]
    return []


def is_answer_stub(cell: NotebookNode) -> bool:
    return (cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution", False)
            and cell.source.strip() == ANSWER_STUB)


def lab_page(release: NotebookNode, links: PageLinks) -> NotebookNode:
    """The notebook the site renders for one lab, made from its release notebook."""
    page = copy.deepcopy(release)
    page.cells = [cell for cell in page.cells if cell.get("id") != LINK_ID]
    for cell in page.cells:
        tags = cell_tags(cell)
        if tags:
            cell.metadata["tags"] = sorted(set(cell.metadata.get("tags", [])) | set(tags))
        if is_answer_stub(cell):
            cell.source = f'<div class="answer-stub">{ANSWER_STUB}</div>'
    index = title_index(page)
    if index is None:
        page.cells.insert(0, nbformat.v4.new_markdown_cell(actions_html(links), id="lab-actions"))
        return page
    title, _, rest = page.cells[index].source.lstrip().partition("\n")
    heading = nbformat.v4.new_markdown_cell(f"{title}\n\n{actions_html(links)}", id="lab-title")
    if rest.strip():
        page.cells[index].source = rest.strip("\n")
    else:
        del page.cells[index]
    page.cells.insert(0, heading)
    return page
