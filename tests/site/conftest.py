"""Fixtures of the site's tests: the small course, its site, a browser."""
from pathlib import Path

import pytest

from coursetool.site.browser import find_browser
from coursetool.site.project import build_site

from tests.site.smallcourse import write_small_course


@pytest.fixture(scope="session")
def small_course(tmp_path_factory) -> Path:
    return write_small_course(tmp_path_factory.mktemp("course") / "source")


@pytest.fixture(scope="session")
def small_site(small_course, tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    return build_site(small_course, root / "site", work=root / "work")


@pytest.fixture(scope="session")
def browser():
    found = find_browser()
    if found is None:
        pytest.skip("no chromium on PATH (apt-get install chromium): pages are not looked at in a browser")
    return found
