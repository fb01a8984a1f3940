"""A kernel sees only what it needs, and no route into a cell's outputs escapes the output limit."""
from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from tests.grader import corpus
from tests.grader.support import grade, grade_rows

pytestmark = pytest.mark.kernels  # starts kernels

LAB = "honestlab"
REPO = Path(__file__).resolve().parents[2]

SEARCH = """
import json, os
SKIP = {"/proc", "/sys", "/dev", "/usr", "/var", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/boot", "/tmp"}
found = []
for top, folders, files in os.walk("/"):
    folders[:] = [f for f in folders if os.path.join(top, f) not in SKIP and not f.startswith(".")]
    for name in files:
        if name.endswith(".ipynb"):
            try:
                cells = json.load(open(os.path.join(top, name)))["cells"]
            except Exception:
                continue
            for cell in cells:
                text = "".join(cell["source"])
                if "def gaussian_kl" in text and "NotImplementedError" not in text and cell["cell_type"] == "code":
                    found.append(os.path.join(top, name))
                    exec(text)
def listing(path):
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []
print("SEEN", json.dumps({path: listing(path) for path in ("/home", "/tmp", "/root", REPO)}))
print("FOUND", json.dumps(found))
"""


def outputs_of(autograded: Path, marker: str) -> list:
    nb = nbformat.read(autograded, as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    line = next(line for line in text.splitlines() if line.startswith(marker))
    return json.loads(line[len(marker):])


@pytest.mark.needs_sandbox(reason="bwrap cannot create its sandbox here")
def test_a_copy_of_the_solutions_elsewhere_on_the_machine_stays_out_of_reach(course: Path, tmp_path: Path) -> None:
    """A blank notebook that walks the file system for solutions: nothing in the sandbox, full marks without it.

    Folders above the Python environment exist (as mount points) but hold nothing else of the host.
    """
    colleague = REPO / f"colleague-copy-{secrets.token_hex(4)}"
    try:
        corpus.write(corpus.solved(course, LAB), colleague / "old-checkout" / f"{LAB}-solution.ipynb")
        nb = corpus.release(course, LAB)
        search = f"REPO = {str(REPO)!r}\n" + SEARCH
        nb.cells.insert(nb.cells.index(corpus.cell_by_grade_id(nb, "solution-1")) + 1, new_code_cell(search))
        submissions = tmp_path / "submissions"
        corpus.write(nb, submissions / "walker" / f"{LAB}.ipynb")
        autograded = course / "autograder" / "autograded" / "walker" / LAB / f"{LAB}.ipynb"

        assert grade(submissions, course, LAB) == 0
        assert outputs_of(autograded, "FOUND ") == []
        seen = outputs_of(autograded, "SEEN ")
        assert seen["/home"] == [] and len(seen["/tmp"]) == 1  # the kernel's own scratch folder
        assert set(seen["/root"]) <= {".pyenv"} and set(seen[str(REPO)]) <= {".venv", "helpers"}
        assert kl_points(course) == "0"

        assert grade(submissions, course, LAB, "--no-sandbox", "--regrade") == 0
        assert str(colleague / "old-checkout" / f"{LAB}-solution.ipynb") in outputs_of(autograded, "FOUND ")
        assert kl_points(course) == "2"
    finally:
        shutil.rmtree(colleague, ignore_errors=True)


def kl_points(course: Path) -> str:
    return next(iter(grade_rows(course, LAB).values()))["t-kl"]


def test_display_updates_and_repeated_displays_count_against_the_output_limit(course: Path, tmp_path: Path) -> None:
    flood = ("from IPython.display import display, update_display\n"
             "handle = display('x', display_id=True)\n"
             "for i in range(200):\n"
             "    update_display('y' * 50_000 + str(i), display_id=handle.display_id)\n"
             "for i in range(200):\n"
             "    display('z' * 50_000, display_id='same')\n")
    nb = corpus.solved(course, LAB)
    nb.cells.insert(nb.cells.index(corpus.cell_by_grade_id(nb, "t-kl")) + 1, new_code_cell(flood))
    submissions = tmp_path / "submissions"
    corpus.write(nb, submissions / "flooder" / f"{LAB}.ipynb")
    assert grade(submissions, course, LAB, "--output-limit", "200000") == 0
    autograder = course / "autograder"
    assert (autograder / "autograded" / "flooder" / LAB / f"{LAB}.ipynb").stat().st_size < 1_500_000
    assert (autograder / "feedback" / "flooder" / LAB / f"{LAB}.html").stat().st_size < 2_500_000
    assert "output truncated by the grader" in (autograder / "autograded" / "flooder" / LAB / f"{LAB}.ipynb").read_text()
    assert kl_points(course) == "2"
