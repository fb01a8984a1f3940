"""Honest but unusual work earns exactly what running it top to bottom earns.

Each notebook below is graded by ``coursetool grade`` in real sandboxed kernels. The expected
points are reasoned from the notebook itself: run top to bottom, does the student's function
do what the exercise asks when the lab's test runs? Test and locked cells always come from the
lab; the student's own cells run as written, in the student's order.
"""
from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from tests.grader import corpus
from tests.grader.support import grade, grade_rows

pytestmark = pytest.mark.kernels  # starts kernels

LAB = "honestlab"
FULL = {"t-kl": "2", "t-reparam": "1"}
KL = ('def gaussian_kl(mu, logvar):\n    """KL(N(mu, exp(logvar)) || N(0, I)) for each row."""\n'
      "    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=-1)")
REPARAM = ("def reparameterise(mu, logvar):\n"
           "    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)")
REPO = Path(__file__).resolve().parents[2]
OWN_FIGURE = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def index_of(nb: nbformat.NotebookNode, grade_id: str) -> int:
    return nb.cells.index(corpus.cell_by_grade_id(nb, grade_id))


def honest_corpus(course: Path) -> dict[str, tuple[nbformat.NotebookNode, dict[str, str]]]:
    """Student -> (notebook, expected points per test cell)."""
    solved, release = corpus.solved, corpus.release
    notebooks: dict[str, tuple[nbformat.NotebookNode, dict[str, str]]] = {}

    notebooks["solution"] = (solved(course, LAB), FULL)

    nb = solved(course, LAB, **{"solution-1": KL.replace("0.5 *", "0.25 *")})  # a wrong first try...
    fixed = copy.deepcopy(corpus.cell_by_grade_id(nb, "solution-1"))  # ...copied, metadata and all, and fixed
    fixed.source = KL
    nb.cells.insert(index_of(nb, "solution-1") + 1, fixed)
    notebooks["copied-cell-fixed-below"] = (nb, FULL)

    nb = solved(course, LAB)
    del nb.cells[index_of(nb, "solution-1")]
    nb.cells.insert(index_of(nb, "setup") + 2, new_code_cell("kl_scale = 0.5\n\n" + KL.replace("0.5 *", "kl_scale *")))
    notebooks["deleted-cell-written-at-top"] = (nb, FULL)

    nb = solved(course, LAB)
    stub = release(course, LAB)
    corpus.cell_by_grade_id(nb, "solution-1").source = corpus.cell_by_grade_id(stub, "solution-1").source
    visible = corpus.cell_by_grade_id(stub, "t-kl").source
    nb.cells.insert(index_of(nb, "solution-1") + 1, new_code_cell(KL + "\n\n" + visible))
    notebooks["stub-kept-function-and-test-below"] = (nb, FULL)

    own_sum = ("from torch import sum, exp\n\n\ndef gaussian_kl(mu, logvar):\n"
               "    return 0.5 * sum(mu ** 2 + exp(logvar) - 1 - logvar, dim=-1)")
    notebooks["from-torch-import-sum"] = (solved(course, LAB, **{"solution-1": own_sum}), FULL)

    nb = solved(course, LAB)
    second = nb.cells.pop(index_of(nb, "solution-2"))
    nb.cells.insert(index_of(nb, "solution-1"), second)
    notebooks["solutions-reordered"] = (nb, FULL)

    nb = solved(course, LAB, **{"solution-1": "def half():\n    return 0.5"})
    nb.cells.insert(index_of(nb, "solution-1") + 1, new_code_cell(KL.replace("0.5 *", "half() *")))
    notebooks["cell-split"] = (nb, FULL)

    nb = solved(course, LAB)
    merged = corpus.cell_by_grade_id(nb, "solution-1")
    merged.source = KL + "\n\n" + corpus.cell_by_grade_id(nb, "t-kl").source
    del nb.cells[index_of(nb, "t-kl")]
    notebooks["solution-merged-with-test"] = (nb, FULL)

    nb = solved(course, LAB)
    markdown = new_markdown_cell(corpus.cell_by_grade_id(nb, "solution-1").source)
    markdown.metadata = copy.deepcopy(corpus.cell_by_grade_id(nb, "solution-1").metadata)
    nb.cells[index_of(nb, "solution-1")] = markdown
    notebooks["solution-turned-markdown"] = (nb, {"t-kl": "0", "t-reparam": "1"})  # the function never runs

    nb = solved(course, LAB)
    back = corpus.cell_by_grade_id(nb, "solution-1")
    nb.cells[index_of(nb, "solution-1")] = new_code_cell(back.source, metadata=back.metadata, id=back.id)
    notebooks["solution-turned-markdown-and-back"] = (nb, FULL)

    imports = "import numpy as np\nfrom math import *\nimport torch.nn.functional as F\n\n"
    notebooks["extra-imports"] = (solved(course, LAB, **{"solution-1": imports + KL}), FULL)

    guarded = "if True:\n    " + KL.replace("\n", "\n    ")
    notebooks["definition-inside-if-true"] = (solved(course, LAB, **{"solution-1": guarded}), FULL)

    notebooks["magics"] = (solved(course, LAB, **{"solution-1": "%%time\n" + KL,
                                                  "solution-2": "%load_ext autoreload\n!echo hello\n" + REPARAM}), FULL)

    shadows = "sum = 0\nabs = 'not a function'\nprint = lambda *args, **kwargs: None\n\n" + KL
    notebooks["shadowed-builtins"] = (solved(course, LAB, **{"solution-1": shadows}), FULL)

    in_float64 = "torch.set_default_dtype(torch.float64)\n\n" + KL
    notebooks["default-dtype-float64"] = (solved(course, LAB, **{"solution-1": in_float64}), FULL)

    nb = solved(course, LAB)
    test = nb.cells.pop(index_of(nb, "t-reparam"))
    nb.cells.insert(0, test)
    notebooks["test-cell-moved-to-the-top"] = (nb, FULL)

    nb = solved(course, LAB)
    drawn = next(c for c in nb.cells if "plt.subplots" in c.source)
    drawn.outputs = [nbformat.v4.new_output("display_data", data={"image/png": OWN_FIGURE, "text/plain": "<Figure>"})]
    notebooks["ran-before-handing-in"] = (nb, FULL)

    notebooks["blank"] = (release(course, LAB), {"t-kl": "0", "t-reparam": "0"})
    notebooks["wrong-kl"] = (solved(course, LAB, **{"solution-1": KL.replace("- 1", "- 2")}), {"t-kl": "0", "t-reparam": "1"})
    return notebooks


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, built_course: Path) -> dict:
    root = tmp_path_factory.mktemp("honest")
    course, submissions = root / "course", root / "submissions"
    shutil.copytree(built_course, course)
    notebooks = honest_corpus(course)
    for student, (nb, _) in notebooks.items():
        corpus.write(nb, submissions / student / f"{LAB}.ipynb")
    assert grade(submissions, course, LAB, "--jobs", "2") == 0
    rows = grade_rows(course, LAB)
    return {"rows": rows, "expected": {s: points for s, (_, points) in notebooks.items()}, "course": course}


def test_each_notebook_earns_what_running_it_earns(graded: dict) -> None:
    got = {student: {test: row[test] for test in FULL} for student, row in graded["rows"].items()}
    assert got == graded["expected"]


def test_the_reason_names_only_what_the_student_did(graded: dict) -> None:
    rows = graded["rows"]
    assert rows["solution"]["reason"] == "" and rows["blank"]["reason"] == ""
    assert "global sum" in rows["from-torch-import-sum"]["reason"]
    assert "MaxNLocator" not in "".join(row["reason"] for row in rows.values())


def test_the_students_own_figures_reach_the_feedback_and_none_drawn_after_a_hidden_check(graded: dict) -> None:
    """After the first probe, a student's cell shows what it showed when handed in: the student's own figure, and
    nothing the grader's run drew, which code that had seen a hidden check could have drawn."""
    course = graded["course"] / "autograder"
    nb = nbformat.read(course / "autograded" / "ran-before-handing-in" / LAB / f"{LAB}.ipynb", as_version=4)
    figure_cell = next(c for c in nb.cells if "plt.subplots" in c.source)
    assert [output.get("data", {}).get("image/png") for output in figure_cell.outputs] == [OWN_FIGURE]
    page = (course / "feedback" / "ran-before-handing-in" / LAB / f"{LAB}.html").read_text(encoding="utf-8")
    assert f'src="data:image/png;base64,{OWN_FIGURE}' in page
    page = (course / "feedback" / "solution" / LAB / f"{LAB}.html").read_text(encoding="utf-8")
    assert not re.search(r'<img[^>]+src="data:image/png;base64,', page), "the grader's run drew it after a probe"


def test_feedback_shows_no_hidden_line(graded: dict) -> None:
    hidden = corpus.hidden_lines(graded["course"], LAB)
    assert hidden
    for page, text in corpus.feedback_texts(graded["course"], LAB).items():
        assert not [line for line in hidden if line in text], page
