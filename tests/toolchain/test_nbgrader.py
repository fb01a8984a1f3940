"""nbgrader itself accepts what the build writes."""
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.utils import compute_checksum

from coursetool.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NBGRADER = [sys.executable, "-m", "nbgrader"]
# nbgrader runs `alembic` from PATH: the environment's own bin folder must come first.
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "VAELAB_QUICK": "1"}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out")
    assert main(["build", "--source", str(FIXTURES / "course"), "--out", str(out)]) == 0
    return out


def grade_cells(notebook: nbformat.NotebookNode) -> dict[str, dict]:
    return {c.metadata.nbgrader["grade_id"]: dict(c.metadata.nbgrader) for c in notebook.cells
            if "nbgrader" in c.metadata}


def test_generate_assignment_accepts_autograder_source_and_agrees_with_release(built):
    course = built / "autograder"
    result = subprocess.run([*NBGRADER, "generate_assignment", "tiny", "--force"], cwd=course,
                            capture_output=True, text=True, env=ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    theirs = nbformat.read(course / "release" / "tiny" / "tiny.ipynb", as_version=4)
    ours = nbformat.read(built / "release" / "tiny.ipynb", as_version=4)
    theirs_meta, ours_meta = grade_cells(theirs), grade_cells(ours)
    # Our gaps differ from nbgrader's stub on purpose, so only the code solution cells' checksums differ.
    for grade_id, meta in ours_meta.items():
        if meta["solution"] and meta["cell_type"] == "code":
            del meta["checksum"], theirs_meta[grade_id]["checksum"]
    assert theirs_meta == ours_meta, "grade ids, points, locks and checksums agree with nbgrader's"
    for cell in ours.cells:
        if "nbgrader" in cell.metadata:
            assert cell.metadata.nbgrader["checksum"] == compute_checksum(cell)
    their_tests = {c.id: c.source for c in theirs.cells if c.metadata.get("nbgrader", {}).get("grade")}
    our_tests = {c.id: c.source for c in ours.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert their_tests == our_tests, "both remove the hidden tests the same way"


def validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*NBGRADER, "validate", str(path)], capture_output=True, text=True, env=ENV)


@pytest.mark.kernels  # nbgrader validate runs the notebook in a kernel
def test_validate_passes_the_solution_notebook(built):
    result = validate(built / "solutions" / "tiny.ipynb")
    assert "Success! Your notebook passes all the tests." in result.stdout, result.stdout + result.stderr


@pytest.mark.kernels  # nbgrader validate runs the notebook in a kernel
def test_validate_reads_the_blank_release_and_reports_its_failing_tests(built):
    result = validate(built / "release" / "tiny.ipynb")
    output = result.stdout + result.stderr
    assert "VALIDATION FAILED" in output and "NotImplementedError" in output, output
    assert "corrupted" not in output and "Traceback (most recent call last):\n  File" not in result.stderr
