"""The check executes real kernels: solutions must pass, blank notebooks must fail every test."""
from pathlib import Path

import pytest

from coursetool.cli import main
from coursetool.verify import verify_course

from tests.toolchain.helpers import write_lab

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

SQUARE = "```python\ndef square(x):\n    #!TAG HWBEGIN\n    return x * x\n    #!TAG HWEND\n```\n\n"


@pytest.mark.kernels
def test_fixture_course_passes_the_check():
    assert verify_course(FIXTURES / "course") == []


@pytest.mark.kernels
def test_a_test_that_passes_on_the_blank_notebook_is_named(tmp_path):
    path = write_lab(tmp_path, SQUARE + "```python\n#!TAG TEST id=vacuous points=1\nassert callable(square), 'ex 1.1'\n```\n")
    problems = verify_course(tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:") and "test cell vacuous passes on the blank student notebook" in problems[0]


@pytest.mark.kernels
def test_a_solution_that_fails_its_hidden_test_is_named(tmp_path):
    write_lab(tmp_path, SQUARE + "```python\n#!TAG TEST id=wrong points=1\nassert square(2) == 4, 'ex 1.1'\n"
                                 "#!TAG HIDDENBEGIN\nassert square(3) == 10, 'ex 1.1: square(3)'\n#!TAG HIDDENEND\n```\n")
    problems = verify_course(tmp_path)
    assert len(problems) == 1 and "test cell wrong fails in the solution: AssertionError: ex 1.1: square(3)" in problems[0]


@pytest.mark.kernels
def test_skipped_cells_are_not_run_on_the_blank_notebook(tmp_path):
    # run on the blank notebook, the skipped cell would make the test pass there (a problem the check names);
    # skipped, it leaves `result` undefined and the test fails, as a blank notebook's test must
    write_lab(tmp_path, SQUARE + "```python\n#!TAG SKIPQUESTEXEC\nresult = 4\n```\n\n"
                                 "```python\n#!TAG TEST id=uses-result points=1\nassert result == 4, 'ex 1.1'\n```\n")
    assert verify_course(tmp_path) == []


@pytest.mark.kernels
def test_a_solution_that_stops_before_its_probes_is_named_not_a_crash(tmp_path):
    # the solution's kernel dies (as one cut short would stop); the blank notebook's goes on to the probe
    write_lab(tmp_path, SQUARE + "```python\nimport os\nif square(2) == 4:\n    os._exit(3)\n```\n\n"
                                 "```python\n#!TAG TEST id=probed points=1\nassert square(2) == 4, 'ex 1.1'\n"
                                 "#!PROBE square(5), \"ex 1.1: square(5)\"\n```\n")
    problems = verify_course(tmp_path)
    assert any("the solution notebook stopped" in problem for problem in problems), problems


def test_check_reports_stale_outputs(tmp_path, capsys):
    source, out = tmp_path / "source", tmp_path / "out"
    source.mkdir()
    write_lab(source, SQUARE)
    assert main(["build", "--source", str(source), "--out", str(out)]) == 0
    assert main(["check", "--no-exec", "--source", str(source), "--out", str(out)]) == 0
    write_lab(source, SQUARE.replace("x * x", "x ** 2"))
    assert main(["check", "--no-exec", "--source", str(source), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "stale:" in err and "solutions/lab.ipynb" in err and "autograder/source/lab/lab.ipynb" in err


@pytest.mark.slow
def test_a_test_cell_whose_probes_a_second_seed_leaves_unchanged_is_named(tmp_path, capsys):
    write_lab(tmp_path, "```python\nimport random\n```\n\n" + SQUARE
              + "```python\n#!TAG TEST id=fixed points=1\nassert square(2) == 4, 'ex 1.1'\n"
                "#!PROBE square(5), \"ex 1.1: square(5)\"\n#!PROBE square(-1.5), \"ex 1.1: square(-1.5)\"\n```\n\n"
                "```python\n#!TAG TEST id=drawn points=1\nassert square(3) == 9, 'ex 1.1'\n"
                "#!PROBE square(7), \"ex 1.1: square(7)\"\n"
                "#!PROBE square(random.random()), \"ex 1.1: square of a number drawn per run\"\n```\n\n"
                "```python\n#!TAG TEST id=declared points=1\nassert square(4) == 16, 'ex 1.1'\n"
                "#!PROBE [fixed] square(2) == 4, \"ex 1.1: the requirement itself\"\n```\n")
    assert verify_course(tmp_path) == [], "a note, not a failure"
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and "test cell fixed: every probe gives the same value under another seed" in notes[0], notes
