"""The grader's subpackages are layers, and no module imports one of a layer above its own.

    root (settings, result, lab, ...)  <  intake, kernel  <  notebook  <  course  <  command

``intake`` and ``kernel`` stand side by side and neither uses the other. Every import counts,
those inside functions and under ``TYPE_CHECKING`` too, read from the source with ``ast``.
"""
from __future__ import annotations

import ast
from pathlib import Path

import coursetool.grade

GRADE = Path(coursetool.grade.__file__).parent
PACKAGE = "coursetool.grade"
LAYERS = {"intake": 1, "kernel": 1, "notebook": 2, "course": 3, "command": 4}  # any other name: the root, 0


def module_name(path: Path) -> str:
    parts = path.relative_to(GRADE).with_suffix("").parts
    return ".".join((PACKAGE, *(parts[:-1] if parts[-1] == "__init__" else parts)))


def grader_module(name: str) -> str | None:
    """The ``coursetool.grade`` module a dotted name is, or is an attribute of; None outside the grader."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    parts = name.split(".")
    while len(parts) > 2:
        path = GRADE.joinpath(*parts[2:])
        if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
            return ".".join(parts)
        parts.pop()
    return PACKAGE


def imported(module: str, source: str) -> set[str]:
    """The grader modules a module's source imports, relative imports resolved."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[:-node.level]
                base = ".".join([*anchor, *([base] if base else [])])
            names |= {f"{base}.{alias.name}" for alias in node.names}  # `from package import module` or a name
    return {found for name in names if (found := grader_module(name)) not in (None, PACKAGE)}


def layer(module: str) -> tuple[int, str]:
    """(rank, name) of a module's layer, by the first part of its name below ``coursetool.grade``."""
    top = module.removeprefix(PACKAGE + ".").partition(".")[0]
    return (LAYERS[top], top) if top in LAYERS else (0, "root")


def upward_imports(modules: dict[str, str]) -> list[str]:
    """For each module (name: source), the imports of a module in a layer above its own or beside it."""
    found = []
    for module, source in sorted(modules.items()):
        rank, name = layer(module)
        for target in sorted(imported(module, source)):
            target_rank, target_name = layer(target)
            if target_name != name and target_rank >= rank:
                found.append(f"{module} ({name}) imports {target} ({target_name})")
    return found


def grader_sources() -> dict[str, str]:
    return {module_name(path): path.read_text() for path in sorted(GRADE.rglob("*.py"))}


def test_no_grader_module_imports_one_of_a_layer_above_or_beside_its_own() -> None:
    modules = grader_sources()
    assert {"coursetool.grade.settings", "coursetool.grade.kernel.runner", "coursetool.grade.course.batch"} <= set(modules)
    assert upward_imports(modules) == []


def test_the_check_finds_an_upward_import_anywhere_in_a_module() -> None:
    runner = grader_sources()["coursetool.grade.kernel.runner"]
    late = "\n\ndef later():\n    from coursetool.grade.course.batch import grade_class\n    from ..intake import late\n"
    assert upward_imports({"coursetool.grade.kernel.runner": runner + late}) == [
        "coursetool.grade.kernel.runner (kernel) imports coursetool.grade.course.batch (course)",
        "coursetool.grade.kernel.runner (kernel) imports coursetool.grade.intake.late (intake)"]
    assert upward_imports({"coursetool.grade.settings": "from coursetool.grade import kernel\n"}) == [
        "coursetool.grade.settings (root) imports coursetool.grade.kernel (kernel)"]


def test_the_readme_layout_names_every_grader_module_in_its_row() -> None:
    readme = (GRADE.parents[1] / "README.md").read_text()
    rows = {line.split("|")[1].strip().strip("`"): line for line in readme.splitlines() if line.startswith("| `coursetool/grade/")}
    unnamed = [str(path.relative_to(GRADE)) for path in sorted(GRADE.rglob("*.py")) if path.stem != "__init__"
               and f"`{path.stem}`" not in rows.get(f"coursetool/grade/{path.parent.relative_to(GRADE)}/".replace("/./", "/"), "")]
    assert unnamed == []
