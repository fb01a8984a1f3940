"""The feedback exporter, which renders each page once and remembers the lab's text, gives nbconvert's page (no kernel)."""
from __future__ import annotations

import base64
import copy

import pytest
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

bs4 = pytest.importorskip("bs4")
html_export = pytest.importorskip("coursetool.grade.notebook.html_export")

PIXEL = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005fe02fea7d6a4"
    "0f0000000049454e44ae426082")).decode()
OTHER_PIXEL = PIXEL[:-8] + "AAAAAAAA"
GRADES = {"notebook": "pagelab", "score": 1.0, "max_score": 2.0, "late_penalty": 0}


def notebook(attached: str) -> NotebookNode:
    """Headings, math, a code block, a cell with an attached image, code with a figure that has no description."""
    figure = new_output("display_data", data={"image/png": PIXEL, "text/plain": "<Figure>"})
    attachment = new_markdown_cell("The picture: ![pixel](attachment:pixel.png)")
    attachment.attachments = {"pixel.png": {"image/png": attached}}
    return new_notebook(cells=[
        new_markdown_cell("# Exercise 1 (2 points)\n\nThe loss $\\mathcal{L} = \\|x - \\hat x\\|^2$.\n\n"
                          "```python\nloss = ((x - x_hat) ** 2).sum()\n```"),
        attachment,
        new_code_cell("plt.imshow(image)", outputs=[figure]),
    ], metadata={"language_info": {"name": "python", "pygments_lexer": "ipython3"}})


def nbconvert_page(nb: NotebookNode, exporter: html_export.FeedbackExporter) -> str:
    """The page nbconvert's own HTMLExporter gives with the same configuration, parsed and written out again."""
    stock = html_export.HTMLExporter(config=exporter.config)
    page, _ = stock.from_notebook_node(copy.deepcopy(nb), resources={"nbgrader": dict(GRADES)})
    return page


def our_page(nb: NotebookNode, exporter: html_export.FeedbackExporter) -> str:
    page, _ = exporter.from_notebook_node(copy.deepcopy(nb), resources={"nbgrader": dict(GRADES)})
    return str(bs4.BeautifulSoup(page, features="html.parser"))


def test_each_page_is_nbconvert_s_page_the_first_time_and_when_remembered():
    exporter = html_export.feedback_exporter()
    nb = notebook(PIXEL)
    expected = nbconvert_page(nb, exporter)
    assert our_page(nb, exporter) == expected
    assert our_page(nb, exporter) == expected


def test_a_cell_s_attached_image_is_its_own_on_every_page():
    exporter = html_export.feedback_exporter()
    other = notebook(OTHER_PIXEL)
    first, second = our_page(notebook(PIXEL), exporter), our_page(other, exporter)
    assert OTHER_PIXEL in second and OTHER_PIXEL not in first
    assert second == nbconvert_page(other, exporter)
