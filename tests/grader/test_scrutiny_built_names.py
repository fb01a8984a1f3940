"""Detection by what code does, not how it is spelt: names built at run time that reach for kernel or grader internals
are listed; honest code that builds names, fetches attributes or runs strings is not."""
from __future__ import annotations

from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell

from coursetool.grade.lab import AutograderLab
from coursetool.grade.notebook.scrutiny import PATTERNS, built_reaches, suspicious_lines
from tests.grader import corpus

# Each reaches for internals without spelling any name the line-by-line patterns know.
DISGUISED = {
    "frame-by-concatenation": 'import sys\nframe = getattr(sys, "_get" + "frame")(0)',
    "import-by-concatenation": 'frame = getattr(__import__("s" + "ys"), "_get" + "frame")',
    "kernel-through-globals": 'shell = globals()["get_" + "ipython"]()',
    "kernel-through-a-joined-name": 'name = "".join(["get", "_", "ipython"])\nshell = globals()[name]()',
    "gc-by-pieces": 'collector = __import__("g" + "c")\nobjects = getattr(collector, "get_" + "objects")()',
    "ctypes-through-importlib": 'import importlib\nmemory = importlib.import_module("c" + "types")',
    "jupyter-client-through-importlib": 'import importlib\nclient = importlib.import_module("jupyter" + "_client")',
    "ctypes-through-exec": 'exec("import ct" + "ypes")',
    "gc-through-eval": 'collector = eval("__im" + "port__(\'gc\')")',
    "reversed-name": 'import sys\nframe = getattr(sys, "emarfteg_"[::-1])(0)',
    "f-string-module": 'part = "ipy"\nkernel_module = __import__(f"{part}kernel")',
    "characters": 'collector = __import__(chr(103) + chr(99))',
    "format-method": 'import sys\ngetattr(sys, "{}{}".format("set", "trace"))(None)',
    "percent-format": 'import sys\ngetattr(sys, "%s%s" % ("addaudit", "hook"))(print)',
    "builtins-through-globals": 'table = globals()["__buil" + "tins__"]',
    "decorator-argument": ('def hooked(name):\n    def wrap(f):\n        return f\n    return wrap\n\n'
                           '@hooked("set" + "profile")\ndef train():\n    pass'),
    "attrgetter": 'import operator\nback = operator.attrgetter("f_" + "back")',
    "module-table-by-pieces": 'import sys\ntable = getattr(sys, "mod" + "ules")',
    "traceback-frame": 'try:\n    1 / 0\nexcept ZeroDivisionError as error:\n    frame = getattr(error.__traceback__, "tb_" + "frame")',
    "implicit-concatenation": 'import sys\nframe = getattr(sys, "_ge" "tframe")(0)',
}

# Honest, if unusual: names built at run time, attributes fetched by name, strings run as code.
HONEST = {
    "layer-by-name": 'encoded = getattr(model, "encoder")(x)',
    "activation-by-pieces": 'activation = getattr(nn, "Re" + "LU")()',
    "math-through-importlib": 'import importlib\nroot = importlib.import_module("math").sqrt(2)',
    "numpy-through-import": 'zeros = __import__("numpy").zeros(3)',
    "arithmetic-eval": 'size = eval("2 ** 10")',
    "exec-assignment": 'exec("y = 3 * 4")',
    "global-table": 'globals()["results"] = []',
    "arguments-as-a-dict": 'rate = vars(args)["lr"]',
    "numbered-layer": 'name = "conv" + str(2)\nlayer = getattr(model, name)',
    "joined-letters": 'word = "".join(["a", "b", "c"])',
    "f-string-attribute": 'part = "enc"\nencoder = getattr(model, f"{part}oder")',
    "formatted-loss": 'print("{:.2f}".format(loss))',
    "walk-the-modules": 'for module in model.modules():\n    print(type(module).__name__)',
    "gcd": 'import math\nprint(math.gcd(12, 18))',
    "stack-by-name": 'stacked = getattr(torch, "stack")([a, b])',
    "kernel-size": 'if hasattr(layer, "kernel_size"):\n    print(layer.kernel_size)',
    "optimiser-by-pieces": 'optimiser = getattr(torch.optim, "Ad" + "am")(model.parameters())',
    "decorators": ('import functools\n\n@functools.lru_cache(maxsize=None)\n@torch.no_grad()\n'
                   'def codes(n):\n    return model.encode(torch.zeros(n, 784))'),
    "session-label": 'label = "session " + str(3)',
    "inspect-signature": 'import inspect\nprint(inspect.signature(train))',
}


def reaches(code: str) -> list[str]:
    return [label for _, label in built_reaches(code)]


@pytest.mark.parametrize("name", DISGUISED)
def test_a_disguised_reach_for_internals_is_found(name: str) -> None:
    code = DISGUISED[name]
    assert not any(pattern.search(code) for pattern in PATTERNS.values()), "the spelling alone would find it"
    assert reaches(code), name


@pytest.mark.parametrize("name", HONEST)
def test_honest_code_that_builds_names_is_not_listed(name: str) -> None:
    code = HONEST[name]
    assert not reaches(code), name
    assert not any(pattern.search(code) for pattern in PATTERNS.values()), name


def test_the_corpora_are_large_enough() -> None:
    assert len(DISGUISED) >= 15 and len(HONEST) >= 15


def test_a_name_cut_out_of_a_longer_string_is_found() -> None:
    assert set(reaches('import sys\nframe = getattr(sys, "xx_getframeyy"[2:-2])(0)')) == {"stack frames"}


def test_the_report_lists_a_disguised_line_of_the_student_and_never_the_labs_own(built_course: Path) -> None:
    lab = AutograderLab("honestlab", built_course / "autograder" / "source" / "honestlab")
    nb = corpus.solved(built_course, "honestlab")
    nb.cells.append(new_code_cell(DISGUISED["kernel-through-globals"] + "\n" + HONEST["numbered-layer"]))
    flags = suspicious_lines(nb, [None] * len(nb.cells), lab)
    assert flags == [f"cell {len(nb.cells)}, line 1: {DISGUISED['kernel-through-globals']} "
                     "(the kernel or shell, by a name built at run time)"]
