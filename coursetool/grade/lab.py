"""The instructor's side of a lab: the nbgrader source notebook and what each of its cells is."""
from __future__ import annotations

import ast
import enum
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from coursetool.probes import REFERENCE_FILE, ProbeRecord, records_of


class Role(enum.Enum):
    """What grading does with a cell of the source notebook."""

    TEST = "test"          # graded code cell: always the instructor's version, hidden tests included
    FIXED = "fixed"        # locked cell: always the instructor's version
    SOLUTION = "solution"  # the student's code
    ANSWER = "answer"      # a written answer, graded by hand
    FREE = "free"          # an unlocked cell without nbgrader metadata: the student's version if any


def role_of(cell: NotebookNode) -> Role:
    if "nbgrader" not in cell.metadata:
        return Role.FREE
    from nbgrader import utils  # nbgrader takes a second to import: where a lab's cells are first looked at

    if utils.is_grade(cell) and not utils.is_solution(cell):
        return Role.TEST
    if utils.is_solution(cell):
        return Role.ANSWER if cell.cell_type == "markdown" else Role.SOLUTION
    return Role.FIXED if utils.is_locked(cell) else Role.FREE


HIDDEN_BEGIN, HIDDEN_END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"  # nbgrader's delimiters
STUDENT_ROLES = frozenset({Role.SOLUTION, Role.ANSWER, Role.FREE})


def release_view(cell: NotebookNode) -> NotebookNode:
    """The cell as the student received it: solutions stubbed, hidden tests removed."""
    from nbgrader.preprocessors import ClearSolutions

    released = nbformat.from_dict(cell)
    if role_of(cell) in (Role.SOLUTION, Role.ANSWER):
        released, _ = ClearSolutions().preprocess_cell(released, {"language": "python"}, 0)
    if "nbgrader" in cell.metadata:
        released.source = without_hidden_tests(released.source)
    return released


def without_hidden_tests(source: str) -> str:
    """The source without its ``BEGIN HIDDEN TESTS`` ... ``END HIDDEN TESTS`` regions, delimiter lines included, as
    nbgrader's ``ClearHiddenTests`` releases a cell."""
    kept: list[str] = []
    inside = False
    for line in source.split("\n"):
        if HIDDEN_BEGIN in line:
            if inside:
                raise RuntimeError("Encountered nested begin hidden tests statements")
            inside = True
        elif HIDDEN_END in line:
            inside = False
        elif not inside:
            kept.append(line)
    if inside:
        raise RuntimeError("No end hidden tests statement found")
    return "\n".join(kept)


def significant_lines(text: str) -> frozenset[str]:
    """Non-blank lines without surrounding whitespace, for matching cells by content."""
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def defined_names(source: str) -> tuple[str, ...]:
    """Names a cell binds at top level with def or class."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ()
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
    return tuple(dict.fromkeys(names))


def import_bindings(source: str) -> list[tuple[str, str, str | None]]:
    """(name, module, attribute) for each name a cell's top-level imports bind."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    bindings: list[tuple[str, str, str | None]] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                bindings.append((alias.asname, alias.name, None) if alias.asname
                                else (alias.name.split(".")[0], alias.name.split(".")[0], None))
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            bindings += [(alias.asname or alias.name, node.module, alias.name) for alias in node.names if alias.name != "*"]
    return bindings


def imported_modules(source: str) -> set[str]:
    """Dotted names of the modules a cell imports anywhere."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
    return modules


@dataclass(frozen=True)
class SourceCell:
    """One cell of the source notebook with what matching and grading need."""

    index: int
    cell: NotebookNode
    role: Role
    released: NotebookNode

    @property
    def grade_id(self) -> str | None:
        return self.cell.metadata.get("nbgrader", {}).get("grade_id")

    @property
    def points(self) -> float:
        return float(self.cell.metadata.get("nbgrader", {}).get("points", 0))

    @cached_property
    def anchor_lines(self) -> frozenset[str]:
        """Lines a student's copy of this cell still holds: what lies outside the solution regions."""
        if self.role is Role.ANSWER:
            return frozenset()
        text = self.released.source
        if self.role is Role.SOLUTION:
            from nbgrader.preprocessors import ClearSolutions

            outside = ClearSolutions().code_stub["python"]
            text = "\n".join(line for line in text.splitlines() if line.strip() not in outside.splitlines())
        return significant_lines(text)


class AutograderLab:
    """A lab as the autograder sees it: ``autograder/source/<lab>/<lab>.ipynb``."""

    def __init__(self, name: str, source_dir: Path):
        self.name = name
        self.source_dir = source_dir
        self.notebook = nbformat.read(source_dir / f"{name}.ipynb", as_version=4)

    @cached_property
    def cells(self) -> list[SourceCell]:
        """Each cell with its role and release view (read when first needed: a warm kernel starts before)."""
        return [SourceCell(i, cell, role_of(cell), release_view(cell)) for i, cell in enumerate(self.notebook.cells)]

    def code_sources(self) -> list[str]:
        return [cell.source for cell in self.notebook.cells if cell.cell_type == "code"]

    @property
    def tests(self) -> list[SourceCell]:
        return [c for c in self.cells if c.role is Role.TEST]

    @property
    def answers(self) -> list[SourceCell]:
        return [c for c in self.cells if c.role is Role.ANSWER]

    @property
    def max_auto_score(self) -> float:
        return sum(c.points for c in self.tests)

    @cached_property
    def imported_modules(self) -> list[str]:
        """Every module any cell imports, so the kernel can protect them before student code runs."""
        modules: set[str] = set()
        for source in self.code_sources():
            modules |= imported_modules(source)
        return sorted(modules)

    @cached_property
    def import_bindings(self) -> list[tuple[str, str, str | None]]:
        """What the lab's own top-level imports bind, so tests get the real modules back."""
        bindings: dict[str, tuple[str, str, str | None]] = {}
        for source in self.code_sources():
            bindings.update((binding[0], binding) for binding in import_bindings(source))
        return list(bindings.values())

    def support_files(self) -> list[Path]:
        """Files next to the source notebook that every submission's working folder gets (never the reference values)."""
        return sorted(p for p in self.source_dir.rglob("*") if p.is_file() and p.suffix != ".ipynb"
                      and ".ipynb_checkpoints" not in p.parts and p.name != REFERENCE_FILE)

    @property
    def probes(self) -> dict[str, ProbeRecord]:
        """Every probe of the lab's test cells, by probe id."""
        return {record.id: record for c in self.tests for record in records_of(c.cell)}
