"""A package that loads its names on first use (PEP 562) has them loaded before the guard copies them and in the
fork server, its submodules left alone: a student's replacement of ``vaelab.fit`` is undone as eagerly imported
names are."""
from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from coursetool.grade.kernel import forkserver, guard

LAZY_INIT = '''
import importlib
__all__ = ["double", "unused"]
def __getattr__(name):
    if name == "unused":
        return importlib.import_module(".unused", __name__)
    if name == "double":
        value = importlib.import_module(".arith", __name__).double
        globals()[name] = value
        return value
    raise AttributeError(name)
'''


@pytest.fixture
def lazy_package(tmp_path: Path) -> Iterator[str]:
    package = tmp_path / "lazypack"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(LAZY_INIT))
    (package / "arith.py").write_text("def double(x):\n    return 2 * x\n")
    (package / "unused.py").write_text("raise RuntimeError('never imported')\n")
    sys.path.insert(0, str(tmp_path))
    yield "lazypack"
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m == "lazypack" or m.startswith("lazypack.")]:
        del sys.modules[name]


@pytest.mark.parametrize("load", [guard.load_lazy_names, forkserver.load_lazy_names], ids=["guard", "forkserver"])
def test_the_public_names_are_loaded_and_no_other_submodule(lazy_package: str, load) -> None:
    module = __import__(lazy_package)
    assert "double" not in vars(module)
    load(module)
    assert vars(module)["double"](3) == 6
    assert f"{lazy_package}.unused" not in sys.modules


def test_the_guard_keeps_a_pristine_copy_of_a_lazily_loaded_name(lazy_package: str) -> None:
    module = guard.import_quietly(lazy_package)
    assert "double" in guard.callables_of(vars(module))
