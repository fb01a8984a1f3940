"""The course itself: committed notebooks are fresh; every lab's solution passes and its blank fails."""
from pathlib import Path

import pytest

from coursetool.build import build_files, find_sources, parse_course
from coursetool.config import load_config
from coursetool.verify import stale_outputs, verify_lab
from coursetool.write import read_outputs

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "source"
LABS = [p.stem for p in find_sources(SOURCE)] if SOURCE.is_dir() else []


def test_committed_notebooks_match_a_fresh_build():
    if not LABS:
        pytest.skip("no labs in source/ yet")
    assert stale_outputs(build_files(SOURCE), read_outputs(REPO)) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", LABS)
def test_solution_passes_and_blank_fails_every_test(name):
    lab = next(lab for lab in parse_course(SOURCE) if lab.name == name)
    assert verify_lab(lab, load_config(SOURCE)) == []
