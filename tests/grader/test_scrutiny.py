"""What the grader reports and removes: code reaching for internals, hidden text in outputs (no kernel)."""
from __future__ import annotations

from pathlib import Path

import pytest
from nbformat.v4 import new_output

from coursetool.grade.lab import AutograderLab
from coursetool.grade.notebook.restore import restore
from coursetool.grade.notebook.scrutiny import REDACTED, hidden_lines, redact_outputs, suspicious_lines
from tests.grader import corpus

HIDDEN_ASSERT = 'assert math.isclose(mean([1.0, 2.0, 4.0]), 7 / 3), "ex 9.2: wrong mean of three numbers"'
PROBE = "scale(sample_input())"


def lab_of(course: Path, name: str) -> AutograderLab:
    return AutograderLab(name, course / "autograder" / "source" / name)


def flags_for(course: Path, lab: str, **cells: str) -> list[str]:
    autograder_lab = lab_of(course, lab)
    restoration = restore(autograder_lab, corpus.solved(course, lab, **cells))
    return suspicious_lines(restoration.notebook, restoration.origins, autograder_lab)


def test_a_correct_notebook_and_the_blank_one_are_not_listed(built_course: Path):
    assert flags_for(built_course, "gradelab") == []
    lab = lab_of(built_course, "gradelab")
    restoration = restore(lab, corpus.release(built_course, "gradelab"))
    assert suspicious_lines(restoration.notebook, restoration.origins, lab) == []


@pytest.mark.parametrize("line, label", [
    ("shell = get_ipython()", "the kernel or shell"),
    ("import sys; sys.modules['math'] = None", "module table surgery"),
    ("import sys; frame = sys._getframe(1)", "stack frames"),
    ("import gc; objects = gc.get_objects()", "the garbage collector"),
    ("import sys; sys.settrace(None)", "tracing or audit hooks"),
    ("import builtins", "builtins"),
    ("import os; os.listdir('.')", "the file system"),
    ("code = square.__code__", "cached source"),
])
def test_a_line_reaching_for_internals_is_listed_with_its_cell_line_and_kind(built_course: Path, line: str, label: str):
    written = corpus.model_answers(built_course, "gradelab")["solution-1"] + "\n" + line
    flags = flags_for(built_course, "gradelab", **{"solution-1": written})
    cell = next(index for index, c in enumerate(corpus.release(built_course, "gradelab").cells, 1)
                if c.metadata.get("nbgrader", {}).get("grade_id") == "solution-1")
    assert len(flags) == 1
    assert flags[0] == f"cell {cell}, line {written.splitlines().index(line) + 1}: {line} ({label})"


def test_hidden_lines_hold_hidden_asserts_and_probe_expressions_longest_first(built_course: Path):
    grade_lines = hidden_lines(lab_of(built_course, "gradelab"))
    assert HIDDEN_ASSERT in grade_lines and "import math" not in grade_lines  # too short to tell apart
    assert [len(line) for line in grade_lines] == sorted((len(line) for line in grade_lines), reverse=True)
    assert PROBE in hidden_lines(lab_of(built_course, "probelab"))


def test_hidden_text_is_removed_from_every_kind_of_output_and_counted(built_course: Path):
    nb = corpus.solved(built_course, "gradelab")
    cell = next(c for c in nb.cells if c.cell_type == "code")
    cell.outputs = [
        new_output("stream", name="stdout", text=f"spy: {HIDDEN_ASSERT}\n"),
        new_output("error", ename="AssertionError", evalue=HIDDEN_ASSERT, traceback=[f"line 3: {HIDDEN_ASSERT}"]),
        new_output("display_data", data={"text/plain": HIDDEN_ASSERT, "text/html": f"<pre>{HIDDEN_ASSERT}</pre>",
                                         "image/png": "iVBORw0KGgo="}),
    ]
    assert redact_outputs(nb, hidden_lines(lab_of(built_course, "gradelab"))) == 5
    stream, error, display = cell.outputs
    assert stream.text == f"spy: {REDACTED}\n"
    assert error.evalue == REDACTED and error.traceback == [f"line 3: {REDACTED}"]
    assert display.data["text/plain"] == REDACTED and display.data["text/html"] == f"<pre>{REDACTED}</pre>"
    assert display.data["image/png"] == "iVBORw0KGgo="


def test_outputs_without_hidden_text_are_left_as_they_are(built_course: Path):
    nb = corpus.solved(built_course, "gradelab")
    cell = next(c for c in nb.cells if c.cell_type == "code")
    cell.outputs = [new_output("stream", name="stdout", text="mean([2, 4]) is 3\n")]
    assert redact_outputs(nb, hidden_lines(lab_of(built_course, "gradelab"))) == 0
    assert cell.outputs[0].text == "mean([2, 4]) is 3\n"
