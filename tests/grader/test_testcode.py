"""A test cell's code reads the lab's names through the guard, whatever the student rebound (no kernel)."""
from __future__ import annotations

import builtins
import math

import pytest

from coursetool.grade.kernel.testcode import GUARD_STAND_IN, rewrite_test

GUARD = "_grader_guard"


class Pristine:
    """Stands in for the kernel's guard: ``lookup`` gives the lab's own value of a name."""

    def __init__(self, values: dict[str, object]):
        self.values = values

    def lookup(self, name: str) -> object:
        return self.values[name]


def run(code: str, student: dict[str, object], lab: dict[str, object]) -> dict[str, object]:
    """Execute ``code`` in a namespace holding the student's names, with the guard serving the lab's."""
    namespace = {**student, GUARD: Pristine(lab)}
    exec(compile(code, "<test cell>", "exec"), namespace)  # noqa: S102 - the test's own code, rewritten
    return namespace


def test_a_protected_name_the_student_rebound_reaches_the_test_as_the_labs():
    code, names = rewrite_test("total = sum([1, 2])", GUARD, {"sum"})
    assert names == ["sum"]
    assert run(code, {"sum": lambda values: 42}, {"sum": builtins.sum})["total"] == 3


def test_attribute_reads_start_from_the_labs_module():
    code, names = rewrite_test("close = math.isclose(0.1 + 0.2, 0.3)", GUARD, {"math"})
    assert names == ["math"] and f"{GUARD}.lookup('math').isclose" in code
    fake = type("FakeMath", (), {"isclose": staticmethod(lambda *args: "forged")})
    assert run(code, {"math": fake}, {"math": math})["close"] is True


@pytest.mark.parametrize("source", [
    "sum = lambda values: 0\nresult = sum([1])",       # assigned in the cell
    "def check(sum):\n    return sum\nresult = check(1)",  # an argument
    "import math\nresult = math.pi",                   # imported in the cell
    "from math import pi as math\nresult = math",      # imported under that name
    "try:\n    pass\nexcept Exception as sum:\n    pass\nresult = 1",
    "result = [sum for sum in range(3)]",              # a comprehension's variable
])
def test_a_name_the_cell_binds_itself_is_left_to_the_cell(source: str):
    assert rewrite_test(source, GUARD, {"sum", "math"}) == (source, [])


def test_code_without_protected_reads_comes_back_exactly_as_written():
    source = "x = [1,2]   # spacing kept\nassert len(x) == 2"
    assert rewrite_test(source, GUARD, {"sum"}) == (source, [])


def test_code_that_is_not_python_comes_back_unchanged():
    source = "%time result = sum([1])"
    assert rewrite_test(source, GUARD, {"sum"}) == (source, [])


def test_each_name_is_listed_once_in_order():
    code, names = rewrite_test("a = sum([len('x'), sum([1])])", GUARD, {"sum", "len", "abs"})
    assert names == ["len", "sum"]
    assert code.count(f"{GUARD}.lookup('sum')") == 2 and "abs" not in code


def test_only_reads_are_rewritten_not_attribute_stores_on_the_name():
    code, _ = rewrite_test("torch.marker = 1", GUARD, {"torch"})
    assert code == f"{GUARD}.lookup('torch').marker = 1"


def test_a_remembered_rewrite_serves_each_guard_with_its_own_name():
    source = "assert sum([1, 2]) == 3"
    first, _ = rewrite_test(source, "_grader_first", {"sum"})
    second, names = rewrite_test(source, "_grader_second", {"sum"})
    assert first == "assert _grader_first.lookup('sum')([1, 2]) == 3"
    assert second == "assert _grader_second.lookup('sum')([1, 2]) == 3" and names == ["sum"]


def test_a_string_that_spells_the_stand_in_keeps_its_value():
    escaped = "\\x5f" + GUARD_STAND_IN[1:]  # the stand-in's name, spelt so that it does not appear in the source
    code, _ = rewrite_test(f"label = '{escaped}'\ntotal = sum([1])", GUARD, {"sum"})
    namespace = run(code, {}, {"sum": builtins.sum})
    assert namespace["label"] == GUARD_STAND_IN and namespace["total"] == 1
