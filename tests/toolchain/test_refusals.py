"""Every malformed input the source format lists is refused with file:line and a hint."""
import pytest

from coursetool.build import build_files
from coursetool.cli import main
from coursetool.parse import parse_lab
from coursetool.errors import BuildError

from tests.toolchain.helpers import body_line, write_lab

# (case, body, expected line within the body, what the error says)
MALFORMED = [
    ("misspelt tag", "```python\n#!TAG HWBEGIN\nx = 1\n#!TAG HWEDN\n```\n", 4, "unknown tag HWEDN"),
    ("HWBEGIN where HWEND belongs",
     "```python\ndef f():\n    #!TAG HWBEGIN\n    return 1\n    #!TAG HWBEGIN\n```\n", 5,
     "already open"),
    ("HWEND without HWBEGIN", "```python\nx = 1\n#!TAG HWEND\n```\n", 3, "HWEND without #!TAG HWBEGIN"),
    ("region open at the end of its cell", "```python\nx = 1\n#!TAG HWBEGIN\ny = 2\n```\n", 3,
     "still open at the end of its cell"),
    ("markdown region open at the end of its cell", "Answer:\n#!TAG HWBEGIN\nbecause\n", 2,
     "still open at the end of its cell"),
    ("MSG outside a region", "```python\n#!MSG a hint\nx = 1\n```\n", 2, "#!MSG outside a solution region"),
    ("tag in the middle of a prose line", "Write the answer here #!TAG HWBEGIN\n", 1, "tag in the middle of a line"),
    ("tag in the middle of a code line", "```python\nx = 1  #!TAG HWEND\n```\n", 2, "tag in the middle of a line"),
    ("SKIPQUESTEXEC not on the first line", "```python\nx = 1\n#!TAG SKIPQUESTEXEC\n```\n", 3,
     "not on the first line"),
    ("TEST not on the first line", "```python\nx = 1\n#!TAG TEST id=t points=1\n```\n", 3,
     "not on the first line"),
    ("hidden tests outside a test cell", "```python\n#!TAG HIDDENBEGIN\nassert True\n#!TAG HIDDENEND\n```\n", 2,
     "hidden tests outside a test cell"),
    ("test cell without points", "```python\n#!TAG TEST id=t\nassert x\n```\n", 2, "test cell without points"),
    ("test cell without an id", "```python\n#!TAG TEST points=2\nassert x\n```\n", 2, "test cell without an id"),
    ("points that are not a positive number", "```python\n#!TAG TEST id=t points=zero\nassert x\n```\n", 2,
     "not a positive number"),
    ("duplicate test id",
     "```python\n#!TAG TEST id=t points=1\nassert x\n```\n\n```python\n#!TAG TEST id=t points=1\nassert y\n```\n",
     7, "duplicate id 't'"),
    ("written answer without points", "Why?\n#!TAG HWBEGIN id=q1\nBecause.\n#!TAG HWEND\n", 2,
     "written answer without points"),
    ("region whose removal leaves unparsable code",
     "```python\n#!TAG HWBEGIN\nfor i in range(3):\n#!TAG HWEND\n    print(i)\n```\n", 2,
     "leaves student code that does not parse"),
    ("solution code that does not parse", "```python\nx = (1,\n```\n", 2, "does not parse"),
    ("unknown instruction", "```python\n#!MGS hint\nx = 1\n```\n", 2, "unknown instruction #!MGS"),
    ("points typed into a heading", "## Exercise 1.2: More (3 points)\n", 1, "points typed into an exercise heading"),
    ("the same exercise twice", "## Exercise 1.1: Again\n", 1, "Exercise 1.1 appears twice"),
    ("hidden tests in a markdown cell", "#!TAG HIDDENBEGIN\n", 1, "in a markdown cell"),
    ("reserved id", "```python\n#!TAG TEST id=solution-1 points=1\nassert x\n```\n", 2, "reserved"),
    ("test cell skipped", "```python\n#!TAG TEST id=t points=1\n#!TAG SKIPQUESTEXEC\nassert x\n```\n", 3,
     "not on the first line"),
    ("probe outside a test cell", "```python\nx = 1\n#!PROBE f(2), 'ex 1.1: wrong'\n```\n", 3, "#!PROBE outside a test cell"),
    ("probe without a message", "```python\n#!TAG TEST id=t points=1\nassert x\n#!PROBE f(2)\n```\n", 4,
     "a probe is an expression and a message"),
    ("probe that does not parse", "```python\n#!TAG TEST id=t points=1\n#!PROBE f(2, 'ex 1.1: wrong'\n```\n", 3,
     "a probe is an expression and a message"),
    ("probe with an unknown option", "```python\n#!TAG TEST id=t points=1\n#!PROBE [tol=1] f(2), 'ex 1.1'\n```\n", 3,
     "bad probe option 'tol=1'"),
]


@pytest.mark.parametrize("body, line, what", [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED])
def test_malformed_source_is_refused_with_file_and_line(tmp_path, body, line, what):
    path = write_lab(tmp_path, body)
    with pytest.raises(BuildError) as refused:
        build_files(tmp_path)
    messages = [str(e) for e in refused.value.errors]
    expected_prefix = f"{path}:{body_line(line)}: "
    assert any(m.startswith(expected_prefix) and what in m for m in messages), messages
    assert all(m.endswith(")") and " (" in m for m in messages), "every error carries a hint in parentheses"


def test_graded_cell_outside_any_exercise_is_refused(tmp_path):
    (tmp_path / "lab.md").write_text("# Lab\n\n```python\n#!TAG TEST id=t points=1\nassert x\n```\n")
    with pytest.raises(BuildError, match=r"lab.md:4: graded cell outside any exercise"):
        build_files(tmp_path)


def test_misspelt_tag_hint_names_the_closest_tag(tmp_path):
    write_lab(tmp_path, "```python\n#!TAG HWBEGIN\nx = 1\n#!TAG HWEDN\n```\n")
    with pytest.raises(BuildError, match=r"did you mean HWEND\?"):
        build_files(tmp_path)


def test_all_errors_of_all_files_are_reported_at_once(tmp_path):
    write_lab(tmp_path, "```python\n#!MSG stray\n#!TAG HWEND\n```\n", name="a")
    write_lab(tmp_path, "```python\n#!TAG TEST id=t\nassert x\n```\n", name="b")
    with pytest.raises(BuildError) as refused:
        build_files(tmp_path)
    files = {e.path.name for e in refused.value.errors}
    assert files == {"a.md", "b.md"} and len(refused.value.errors) == 3


def test_refused_build_writes_nothing_and_keeps_good_output(tmp_path, capsys):
    source, out = tmp_path / "source", tmp_path / "out"
    source.mkdir()
    write_lab(source, "```python\nx = 1\n```\n")
    assert main(["build", "--source", str(source), "--out", str(out)]) == 0
    good = (out / "release" / "lab.ipynb").read_bytes()

    write_lab(source, "```python\nx = 2\n```\n")
    write_lab(source, "```python\n#!TAG HWBEGIN\nx = 1\n#!TAG HWBEGIN\n```\n", name="broken")
    assert main(["build", "--source", str(source), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{source / 'broken.md'}:{body_line(4)}:" in err and "nothing was written" in err
    assert (out / "release" / "lab.ipynb").read_bytes() == good
    assert not (out / "release" / "broken.ipynb").exists()
    assert sorted(p.name for p in out.iterdir()) == ["autograder", "release", "solutions"]


@pytest.mark.parametrize("probe, expression, atol", [
    ('[x * 2 for x in range(3)], "ex 1.1: wrong"', "[x * 2 for x in range(3)]", 1e-6),
    ('[atol=0.5] [x for x in range(3)], "ex 1.1: wrong"', "[x for x in range(3)]", 0.5),
    ('[atol=0.05 rtol=0] f(2), "ex 1.1: wrong"', "f(2)", 0.05),
])
def test_a_probe_may_start_with_a_list_or_with_its_tolerances(tmp_path, probe, expression, atol):
    path = write_lab(tmp_path, f"```python\n#!TAG TEST id=t points=1\nassert x\n#!PROBE {probe}\n```\n")
    lab, errors = parse_lab(path)
    assert errors == []
    (found,) = [p for cell in lab.cells for p in cell.probes]
    assert (found.expression, found.atol) == (expression, atol)
