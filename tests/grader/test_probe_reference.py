"""The reference values are what the lab's notebook gives when run top to bottom, as nbgrader would run it."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
import pytest

from coursetool.probes import REFERENCE_FILE
from tests.grader import corpus
from tests.grader.support import grade
from vaelab.probes import decode

pytestmark = pytest.mark.kernels  # starts kernels

LAB = "probelab"


def test_a_probe_reads_the_helper_its_own_test_cell_defined(course: Path, tmp_path: Path) -> None:
    corpus.write(corpus.solved(course, LAB), tmp_path / "submissions" / "ana" / f"{LAB}.ipynb")
    assert grade(tmp_path / "submissions", course, LAB) == 0
    stored = json.loads((course / "autograder" / "source" / LAB / REFERENCE_FILE).read_text())["values"]
    first, second = (decode(json.loads(stored[f"{grade_id}/1"]))["value"] for grade_id in ("t-first", "t-second"))
    assert np.array_equal(first, [0.0, 2.0, 4.0])
    assert np.array_equal(second, [10.0, 10.0])  # not the first cell's sample_input
    rows = (course / "autograder" / "results" / LAB / "grades.csv").read_text().splitlines()
    assert rows[1].startswith("ana,1,1,")


def test_a_reference_solution_that_cannot_grade_stops_the_run_with_the_reason(course: Path, tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    lab_notebook = course / "autograder" / "source" / LAB / f"{LAB}.ipynb"
    nb = nbformat.read(lab_notebook, as_version=4)
    cell = next(c for c in nb.cells if "return 2 * t" in c.source)  # another value on every call:
    cell.source = cell.source.replace("return 2 * t", "scale.calls = getattr(scale, 'calls', 0) + 1\n    return 2 * t + scale.calls")
    nbformat.write(nb, lab_notebook)
    corpus.write(corpus.solved(course, LAB), tmp_path / "submissions" / "ana" / f"{LAB}.ipynb")
    assert grade(tmp_path / "submissions", course, LAB) == 2
    said = capsys.readouterr().err
    assert f"the reference solution of {LAB} cannot grade" in said and "another value each time" in said, said
    assert not (course / "autograder" / "source" / LAB / REFERENCE_FILE).exists()
    assert not (course / "autograder" / "results" / LAB / "grades.csv").exists()
