"""Overriding torch's testing functions in a solution cell does not pass a hidden test."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.grader import corpus
from tests.grader.support import grade, grade_rows

pytestmark = pytest.mark.kernels  # starts kernels

LAB = "torchlab"
CHEATS = {
    "allclose": "torch.allclose = lambda *a, **k: True",
    "tensor-subclass": ("class Yes(torch.Tensor):\n    @classmethod\n"
                        "    def __torch_function__(cls, func, types, args=(), kwargs=None):\n"
                        "        return True if func is torch.allclose else super().__torch_function__(func, types, args, kwargs or {})\n"
                        "_scale = scale\nscale = lambda t: _scale(t).as_subclass(Yes)"),
    "exception-handler": "get_ipython().set_custom_exc((AssertionError,), lambda *a, **k: None)",
    "fake-module": ("import torch as _real\nclass Fake:\n    def __getattr__(self, name):\n        return getattr(_real, name)\n"
                    "    def allclose(self, *a, **k):\n        return True\ntorch = Fake()"),
    "ast-transformer": ("import ast\nclass DropAsserts(ast.NodeTransformer):\n    def visit_Assert(self, node):\n        return ast.Pass()\n"
                        "get_ipython().ast_transformers.append(DropAsserts())"),
}


def test_wrong_answers_with_overrides_fail_and_a_right_one_passes(course: Path, tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    corpus.write(corpus.solved(course, LAB), submissions / "honest" / f"{LAB}.ipynb")
    for student, cheat in CHEATS.items():
        wrong = "def scale(t):\n    return t\n" + cheat + "\n"
        corpus.write(corpus.solved(course, LAB, **{"solution-1": wrong}), submissions / student / f"{LAB}.ipynb")
    assert grade(submissions, course, LAB, "--jobs", "2") == 0
    scores = {student: row["t-scale"] for student, row in grade_rows(course, LAB).items()}
    assert scores == {"honest": "1", **{student: "0" for student in CHEATS}}
