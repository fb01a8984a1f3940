"""What `make site` and `make handouts` built for the whole course, looked at as students and TAs see it.

Run by `make site-check`; the folders come from COURSETOOL_SITE and COURSETOOL_HANDOUTS, and each
test is skipped where its folder is not given (so `make test` never reads a stale build).
"""
import os
from pathlib import Path

import nbformat
import pytest

from coursetool.build import build_files, parse_course
from coursetool.site.handouts import count_outputs
from coursetool.site.leaks import find_leaks
from coursetool.site.pagecheck import broken_links, notebook_headings, page_facts, remote_resources

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "source"
LABS = [lab.name for lab in parse_course(SOURCE)]


def folder(variable: str) -> Path:
    value = os.environ.get(variable)
    if not value:
        pytest.skip(f"{variable} is not set (make site-check sets it)")
    path = (REPO / value).resolve()
    if not path.is_dir():
        pytest.skip(f"{path} is missing: build it first")
    return path


@pytest.fixture(scope="module")
def site() -> Path:
    return folder("COURSETOOL_SITE")


@pytest.fixture(scope="module")
def handouts() -> Path:
    return folder("COURSETOOL_HANDOUTS")


@pytest.fixture(scope="module")
def files():
    return build_files(SOURCE)


def test_no_page_of_the_site_shows_a_solution_hidden_test_answer_or_probe(site):
    assert [str(leak) for leak in find_leaks(SOURCE, site)] == []


def test_every_page_links_only_to_what_exists_and_loads_nothing_from_the_network(site):
    for page in site.rglob("*.html"):
        facts = page_facts(page.read_text(encoding="utf-8"))
        assert broken_links(page, facts) == [], page
        assert remote_resources(facts) == [], page


@pytest.mark.parametrize("lab", LABS)
def test_lab_page_has_the_headings_of_its_release_notebook_and_its_download(site, files, lab):
    release = nbformat.reads(files[f"release/{lab}.ipynb"].decode(), as_version=4)
    facts = page_facts((site / "labs" / f"{lab}.html").read_text(encoding="utf-8"))
    assert facts.headings == notebook_headings(release)
    assert (site / "notebooks" / f"{lab}.ipynb").read_bytes() == files[f"release/{lab}.ipynb"]


@pytest.mark.parametrize("lab", LABS)
def test_lab_page_maths_is_typeset_in_a_browser(site, browser, lab):
    shown = page_facts(browser.dom(site / "labs" / f"{lab}.html"))
    assert shown.math > 0 and shown.math_typeset == shown.math and shown.math_errors == 0


def test_home_page_lists_every_lab_and_its_maths_renders(site, browser):
    facts = page_facts(browser.dom(site / "index.html"))
    titles = {heading for heading in facts.headings if heading.startswith("Lab ")}
    assert len(titles) == len(LABS) and facts.math_errors == 0


@pytest.mark.parametrize("lab", LABS)
def test_handout_holds_the_figures_its_notebook_draws(handouts, lab):
    notebook = nbformat.read(handouts / f"{lab}.ipynb", as_version=4)
    figures = count_outputs(notebook, "image/png")
    facts = page_facts((handouts / f"{lab}.html").read_text(encoding="utf-8"))
    assert figures > 0 and facts.embedded_png == figures
    assert count_outputs(notebook, "error") == 0
    assert remote_resources(facts) == []


@pytest.mark.parametrize("lab", LABS)
def test_handout_maths_is_typeset_offline(handouts, browser, lab):
    shown = page_facts(browser.dom(handouts / f"{lab}.html"))
    assert shown.mathjax_output > 0 and shown.math_errors == 0
