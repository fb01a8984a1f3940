"""Handouts of the small course: the course check keeps the executed solution, the handout reuses it,
and the one HTML file holds its figure and its maths with nothing loaded from elsewhere."""
import nbformat
import pytest

from coursetool.build import build_files
from coursetool.site.handouts import build_handouts, count_outputs
from coursetool.site.leaks import html_text
from coursetool.site.pagecheck import page_facts, remote_resources
from coursetool.verify import verify_course

from tests.site.smallcourse import HIDDEN_LINE, SOLUTION_LINE

pytestmark = pytest.mark.kernels  # runs the small lab's notebooks in kernels


@pytest.fixture(scope="module")
def handouts(small_course, tmp_path_factory):
    root = tmp_path_factory.mktemp("handouts")
    cache = root / "executed"
    assert verify_course(small_course, keep=cache) == []
    assert (cache / "tiny.ipynb").is_file(), "the course check kept no executed notebook"
    return build_handouts(small_course, root / "out", cache)


def test_the_handout_reuses_the_notebook_the_course_check_ran(handouts):
    (handout,) = handouts
    assert handout.reused and handout.ok


def test_the_handout_holds_every_figure_of_its_notebook(handouts):
    (handout,) = handouts
    notebook = nbformat.read(handout.notebook, as_version=4)
    figures = count_outputs(notebook, "image/png")
    assert figures == handout.figures == 1
    assert page_facts(handout.html.read_text(encoding="utf-8")).embedded_png == figures


def test_the_handout_is_the_solution_with_visible_tests_only(handouts, small_course):
    (handout,) = handouts
    text = handout.html.read_text(encoding="utf-8")
    assert SOLUTION_LINE in html_text(text)
    assert HIDDEN_LINE not in text and "square(7)" not in text
    assert "Teaching team handout" in text
    solution = nbformat.reads(build_files(small_course)["solutions/tiny.ipynb"].decode(), as_version=4)
    kept = nbformat.read(handout.notebook, as_version=4)
    assert [c.source for c in kept.cells[1:]] == [c.source for c in solution.cells if c.get("id") != "colab-link"]


def test_the_handout_loads_nothing_and_typesets_its_maths_offline(handouts, browser):
    (handout,) = handouts
    assert remote_resources(page_facts(handout.html.read_text(encoding="utf-8"))) == []
    shown = page_facts(browser.dom(handout.html))
    assert shown.mathjax_output >= 2 and shown.math_errors == 0
    assert shown.embedded_png == 1


def test_a_lab_with_no_kept_notebook_runs_once_and_is_kept(small_course, tmp_path):
    cache = tmp_path / "executed"
    (handout,) = build_handouts(small_course, tmp_path / "out", cache)
    assert not handout.reused and handout.ok and handout.figures == 1
    assert (cache / "tiny.ipynb").is_file(), "the run was not kept for next time"
    (again,) = build_handouts(small_course, tmp_path / "again", cache)
    assert again.reused
