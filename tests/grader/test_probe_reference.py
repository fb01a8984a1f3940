"""The reference values are what the lab's notebook gives when run top to bottom, as nbgrader would run it."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from coursetool.probes import REFERENCE_FILE
from tests.grader import corpus
from tests.grader.conftest import grade
from vaelab.probes import decode

pytestmark = pytest.mark.slow  # starts kernels

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
