"""A small course for the site's tests: the tiny fixture lab with goals, an estimated time, maths, a figure and a probe.

(``tests/site`` has no ``__init__.py``: a package named ``site`` would shadow Python's own module.)
"""
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "course" / "tiny.md"

ADDITIONS = {
    "A lab small enough to build and run in seconds.\n":
        "A lab small enough to build and run in seconds.\n\n"
        "Learning goals:\n\n- square a number and check it;\n- list the layers of a network.\n\n"
        "Estimated time: about 5 minutes.\n",
    "Write `square(x)`.\n":
        "Write `square(x)`, which returns $x^2$, so that\n\n$$\\sum_{i=1}^{n} i^2 = \\frac{n(n+1)(2n+1)}{6}.$$\n",
    "#!TAG TEST id=ex0-1-square points=2\n":
        "#!TAG TEST id=ex0-1-square points=2\n#!PROBE square(7), \"ex 0.1: the square of 7 is wrong\"\n",
    "### Question 0.3":
        "```python\nimport matplotlib.pyplot as plt\n\nplt.plot([0, 1, 2], [square(0), square(1), square(2)])\n"
        "plt.title(\"squares\")\nplt.show()\n```\n\n### Question 0.3",
}
PROBE_EXPRESSION = "square(7)"
HIDDEN_LINE = 'assert square(-2) == 4'
SOLUTION_LINE = "return x * x"


def small_course_text() -> str:
    text = FIXTURE.read_text(encoding="utf-8")
    for old, new in ADDITIONS.items():
        assert old in text, f"the tiny fixture changed: {old!r} is gone"
        text = text.replace(old, new, 1)
    return text


def write_small_course(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.md").write_text(small_course_text(), encoding="utf-8")
    (folder / "course.toml").write_text('[course]\nrepository = "https://github.com/example/tiny-course"\n'
                                        'ref = "v1"\n', encoding="utf-8")
    return folder
