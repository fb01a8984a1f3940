"""Released notebooks open and install the helpers at the ref the course is released at."""
import re
from pathlib import Path

import nbformat
import pytest

from coursetool.build import build_files
from coursetool.config import load_config
from coursetool.errors import BuildError
from coursetool.render import LINK_ID, SETUP_ID

from tests.toolchain.helpers import write_lab

REPO = Path(__file__).resolve().parents[2]
INSTALL = re.compile(r'"vaelab @ git\+https://github\.com/(?P<repo>[^@"]+)@(?P<ref>[^#"]+)#subdirectory=helpers"')
COLAB = re.compile(r"\(https://colab\.research\.google\.com/github/(?P<repo>.+?)/blob/(?P<ref>.+)/release/(?P<lab>[^/]+)\.ipynb\)")


def cell(nb: nbformat.NotebookNode, cell_id: str) -> str:
    return next(c.source for c in nb.cells if c.id == cell_id)


def refs(nb: nbformat.NotebookNode, lab: str) -> set[tuple[str, str]]:
    """(repository, ref) of the Colab link and of the install line; checks the link names its own notebook."""
    link, install = COLAB.search(cell(nb, LINK_ID)), INSTALL.search(cell(nb, SETUP_ID))
    assert link and install, "a Colab link and an install line"
    assert link["lab"] == lab
    return {(link["repo"], link["ref"]), (install["repo"], install["ref"])}


def test_every_release_notebook_names_the_ref_of_course_toml():
    config = load_config(REPO / "source")
    assert config.ref != "main", "course.toml pins a release, not a moving branch"
    notebooks = sorted((REPO / "release").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        found = refs(nbformat.read(path, as_version=4), path.stem)
        assert found == {(config.github_path, config.ref)}, path.name


def test_the_build_writes_the_configured_ref(tmp_path: Path):
    write_lab(tmp_path, "Text.\n")
    (tmp_path / "course.toml").write_text('[course]\nrepository = "https://github.com/someone/labs"\nref = "v2031.2"\n')
    release = nbformat.reads(build_files(tmp_path)["release/lab.ipynb"].decode(), as_version=4)
    assert refs(release, "lab") == {("someone/labs", "v2031.2")}


@pytest.mark.parametrize("setting, complaint", [('branch = "main"', "unknown setting 'branch'"),
                                                ('ref = "v1 beta"', "not a git tag or branch name")])
def test_a_wrong_setting_is_refused(tmp_path: Path, setting: str, complaint: str):
    write_lab(tmp_path, "Text.\n")
    (tmp_path / "course.toml").write_text(f"[course]\n{setting}\n")
    with pytest.raises(BuildError, match=complaint):
        build_files(tmp_path)
