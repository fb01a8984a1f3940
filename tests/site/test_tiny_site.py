"""A quick build of the website of a one-lab course: pages, links, buttons, maths, and no solution anywhere."""
import shutil

import nbformat
import pytest

from coursetool.build import build_files
from coursetool.config import load_config
from coursetool.site.leaks import course_secrets, find_leaks
from coursetool.site.pagecheck import broken_links, notebook_headings, page_facts, remote_resources
from coursetool.site.pages import lab_page
from coursetool.site.project import page_links, run_sphinx, write_project
from coursetool.site.course import summarise
from coursetool.build import parse_course

from tests.site.smallcourse import HIDDEN_LINE, PROBE_EXPRESSION, SOLUTION_LINE


def pages(site):
    return sorted(site.index.parent.rglob("*.html"))


def test_home_and_lab_pages_are_built(small_site):
    assert small_site.index.is_file()
    assert small_site.labs["tiny"].is_file()
    home = small_site.index.read_text(encoding="utf-8")
    assert "Lab 0: A tiny lab" in home and "about 5 minutes" in home and "square a number and check it" in home


def test_lab_page_has_the_headings_of_the_release_notebook(small_site, small_course):
    release = nbformat.reads(build_files(small_course)["release/tiny.ipynb"].decode(), as_version=4)
    facts = page_facts(small_site.labs["tiny"].read_text(encoding="utf-8"))
    expected = notebook_headings(release)
    assert expected[0] == "Lab 0 A tiny lab" and len(expected) == 4
    assert facts.headings == expected


def test_lab_page_has_colab_button_and_the_release_notebook_to_download(small_site, small_course):
    page = small_site.labs["tiny"]
    facts = page_facts(page.read_text(encoding="utf-8"))
    colab = load_config(small_course).colab_url("tiny")
    assert colab == "https://colab.research.google.com/github/example/tiny-course/blob/v1/release/tiny.ipynb"
    assert colab in facts.links
    download = page.parent / "../notebooks/tiny.ipynb"
    assert "../notebooks/tiny.ipynb" in facts.links
    assert download.read_bytes() == build_files(small_course)["release/tiny.ipynb"]


def test_gaps_are_shown_as_the_student_sees_them(small_site):
    text = small_site.labs["tiny"].read_text(encoding="utf-8")
    assert "Exercise 0.1: replace this line with your code" in text
    assert "YOUR ANSWER HERE" in text and "tag_student-code" in text and "tag_test" in text


def test_every_page_loads_nothing_from_the_network_and_every_link_resolves(small_site):
    for page in pages(small_site):
        facts = page_facts(page.read_text(encoding="utf-8"))
        assert remote_resources(facts) == [], page
        assert broken_links(page, facts) == [], page
    mathjax = small_site.index.parent / "_static" / "mathjax" / "tex-chtml.js"
    assert mathjax.is_file()
    assert "_static/mathjax/tex-chtml.js" in small_site.labs["tiny"].read_text(encoding="utf-8")


def test_no_solution_hidden_test_answer_or_probe_reaches_the_site(small_site, small_course):
    secrets = course_secrets(small_course)
    assert {s.kind for s in secrets} == {"solution", "hidden test", "answer", "probe"}
    assert {SOLUTION_LINE, PROBE_EXPRESSION} <= {s.text for s in secrets}
    assert any(s.text.startswith(HIDDEN_LINE) for s in secrets)
    assert find_leaks(small_course, small_site.index.parent, secrets) == []


@pytest.mark.parametrize("target, kinds", [("solutions/tiny.ipynb", {"solution", "answer"}),
                                           ("autograder/source/tiny/tiny.ipynb",
                                            {"solution", "answer", "hidden test", "probe"})])
def test_the_leak_check_finds_what_a_solution_page_shows(small_course, tmp_path, target, kinds):
    """The same site built with a solution (or autograder) notebook as the lab page must fail the check."""
    work = tmp_path / "work"
    summary = summarise(parse_course(small_course)[0], load_config(small_course))
    write_project(small_course, work)
    wrong = nbformat.reads(build_files(small_course)[target].decode(), as_version=4)
    nbformat.write(lab_page(wrong, page_links(summary)), work / "labs" / "tiny.ipynb")
    shutil.rmtree(work / "extra")
    (work / "extra").mkdir()
    leaks = find_leaks(small_course, run_sphinx(work))
    assert {leak.secret.kind for leak in leaks} == kinds
    assert all(leak.path.name == "tiny.html" or leak.path.suffix != ".html" for leak in leaks)


def test_maths_is_typeset_in_a_browser(small_site, browser):
    facts = page_facts(browser.dom(small_site.labs["tiny"]))
    assert facts.math == 2 and facts.math_typeset == 2 and facts.math_errors == 0
    assert facts.headings[0] == "Lab 0 A tiny lab"
    home = page_facts(browser.dom(small_site.index))
    assert home.math_errors == 0 and "The labs" in home.headings


def test_a_build_never_empties_a_folder_it_did_not_make(tmp_path):
    from coursetool.site.project import fresh_folder

    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(FileExistsError):
        fresh_folder(tmp_path)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    fresh_folder(tmp_path / "new")
    (tmp_path / "new" / "page.html").write_text("old", encoding="utf-8")
    fresh_folder(tmp_path / "new")
    assert not (tmp_path / "new" / "page.html").exists()
