"""Fixtures for the autograder's tests: the fixture labs built once, and a way to run the command."""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest

from coursetool.build import build_files
from coursetool.grade.command import register
from coursetool.grade.kernel.sandbox import bwrap_works, why_no_sandbox
from coursetool.write import replace_outputs

FIXTURES = Path(__file__).parent / "fixtures"
needs_sandbox = pytest.mark.skipif(not bwrap_works(), reason="grading needs a sandbox, and none can be made here")


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


def grade(submissions: Path, course: Path, lab: str, *options: str) -> int:
    """Run ``python -m coursetool grade`` in this process; skip the test where it would refuse for want of a sandbox."""
    if "--no-sandbox" not in options and "--scheduler" not in options and not bwrap_works():
        pytest.skip(f"grading needs a sandbox, and none can be made here: {why_no_sandbox()}")
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["grade", str(submissions), "--lab", lab, "--autograder", str(course / "autograder"), *options])
    return args.func(args)
