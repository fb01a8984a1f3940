"""Fixtures for the autograder's tests: the fixture labs built once, and a way to run the command.

The helpers themselves live in ``tests/grader/support.py``; ``grade`` and ``needs_sandbox`` are named here too
for tests that import them from this file.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coursetool.build import build_files
from coursetool.write import replace_outputs
from tests.grader.support import FIXTURES


@pytest.fixture(scope="session")
def built_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture labs built into a course folder: release/, solutions/, autograder/."""
    out = tmp_path_factory.mktemp("course")
    replace_outputs(out, build_files(FIXTURES))
    return out


@pytest.fixture
def course(built_course: Path, tmp_path: Path) -> Path:
    """A private copy of the built course, so each test has its own gradebook and results."""
    out = tmp_path / "course"
    shutil.copytree(built_course, out)
    return out
