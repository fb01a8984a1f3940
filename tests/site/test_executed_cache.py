"""Executed solutions kept by the course check are reused while fresh, and only then."""
import nbformat
import pytest

from coursetool.build import build_files
from coursetool.site import executed

from tests.site.smallcourse import HIDDEN_LINE


@pytest.fixture
def files(small_course):
    return build_files(small_course)


def ran(files):
    """The autograder notebook with an output in every code cell, as a run of the grader leaves it."""
    notebook = nbformat.reads(files["autograder/source/tiny/tiny.ipynb"].decode(), as_version=4)
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"ran {number}\n")]
    return notebook


def test_a_kept_notebook_is_reused_while_nothing_changed(files, tmp_path):
    executed.store(tmp_path, "tiny", files, ran(files))
    kept = executed.load_fresh(tmp_path, "tiny", files)
    assert kept is not None
    code = [cell for cell in kept.cells if cell.cell_type == "code"]
    assert all(cell.outputs and cell.outputs[0]["text"].startswith("ran ") for cell in code)
    assert HIDDEN_LINE not in "\n".join(cell.source for cell in code), "kept notebooks hold the solution's cells"
    assert "return x * x" in "\n".join(cell.source for cell in code)


def test_a_kept_notebook_is_stale_when_the_solution_or_the_helpers_change(files, tmp_path, monkeypatch):
    executed.store(tmp_path, "tiny", files, ran(files))
    changed = dict(files)
    changed["solutions/tiny.ipynb"] = files["solutions/tiny.ipynb"].replace(b"x * x", b"x ** 2")
    assert executed.load_fresh(tmp_path, "tiny", changed) is None
    monkeypatch.setattr(executed, "helpers_digest", lambda: "other helpers")
    assert executed.load_fresh(tmp_path, "tiny", files) is None


def test_nothing_kept_is_nothing_fresh(files, tmp_path):
    assert executed.load_fresh(tmp_path / "missing", "tiny", files) is None
    executed.store(tmp_path, "tiny", files, ran(files))
    executed.Kept(tmp_path, "tiny").key_file.write_text("not json", encoding="utf-8")
    assert executed.load_fresh(tmp_path, "tiny", files) is None
