"""What the build tells the grader: probe records in the autograder notebook, and which cell each source cell became."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from coursetool.build import build_files, parse_course
from coursetool.probes import METADATA_KEY, ProbeRecord, ProbeRecordError, records_of
from coursetool.render import lab_cell_behind

from tests.toolchain.helpers import write_lab

LAB = """```python
def square(x):
    #!TAG HWBEGIN
    return x * x
    #!TAG HWEND
```

Some prose.

```python
#!TAG TEST id=t-square points=1
assert square(2) == 4, "ex 1.1"
#!PROBE square(3), "ex 1.1: square(3)"
#!PROBE [atol=0.5 rtol=0] float(square(0.5)), "ex 1.1: a fraction"
#!PROBE [fixed] square(2) == 4, "ex 1.1: the requirement itself"
#!PROBE [fixed] (lambda n: square(n))(4), "ex 1.1: options before an expression that starts with a bracket"
```
"""


@pytest.fixture
def built(tmp_path: Path) -> tuple[list, nbformat.NotebookNode]:
    write_lab(tmp_path, LAB)
    files = build_files(tmp_path)
    return parse_course(tmp_path), nbformat.reads(files["autograder/source/lab/lab.ipynb"].decode(), as_version=4)


def test_the_autograder_notebook_carries_each_probe_as_a_record(built):
    _, notebook = built
    test = next(cell for cell in notebook.cells if cell.get("id") == "t-square")
    assert records_of(test) == [ProbeRecord("t-square/1", "square(3)", "ex 1.1: square(3)", 1e-6, 1e-4),
                                ProbeRecord("t-square/2", "float(square(0.5))", "ex 1.1: a fraction", 0.5, 0.0),
                                ProbeRecord("t-square/3", "square(2) == 4", "ex 1.1: the requirement itself", 1e-6, 1e-4,
                                            fixed=True),
                                ProbeRecord("t-square/4", "(lambda n: square(n))(4)",
                                            "ex 1.1: options before an expression that starts with a bracket", 1e-6, 1e-4,
                                            fixed=True)]
    assert "fixed" not in test.metadata[METADATA_KEY]["probes"][0]  # written only where it is set
    assert all(records_of(cell) == [] for cell in notebook.cells if cell.get("id") != "t-square")


def test_every_cell_of_the_lab_is_found_behind_the_cell_render_made_of_it(built):
    labs, notebook = built
    lab = labs[0]
    behind = [lab_cell_behind(lab, index) for index in range(len(notebook.cells))]
    assert [cell for cell in behind if cell is not None] == lab.cells  # each once, in order
    for index, source in enumerate(behind):
        if source is not None:
            assert notebook.cells[index].cell_type == source.kind
    assert behind[0] is None and lab_cell_behind(lab, len(notebook.cells)) is None


@pytest.mark.parametrize("data, complaint", [
    (["t/1"], "a mapping, not list"),
    ({"id": "t/1", "expression": "f()", "message": "m", "atol": 0}, "lacks rtol"),
    ({"id": "t/1", "expression": 3, "message": "m", "atol": 0, "rtol": 0}, "must be text"),
    ({"id": "t/1", "expression": "f()", "message": "m", "atol": "tight", "rtol": 0}, "must be numbers"),
])
def test_probe_metadata_the_build_did_not_write_is_refused_with_what_is_wrong(data, complaint: str):
    cell = nbformat.v4.new_code_cell("pass")
    cell.metadata[METADATA_KEY] = {"probes": [data]}
    with pytest.raises(ProbeRecordError, match=complaint):
        records_of(cell)
