"""Test cells read the lab's own names: their code is rewritten to look those names up in the guard."""
from __future__ import annotations

import ast
from collections.abc import Collection


def bound_names(tree: ast.AST) -> set[str]:
    """Every name the code binds anywhere: assignments, definitions, arguments, imports, handlers."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names |= set(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
    return names


class LookUpNames(ast.NodeTransformer):
    """Replace reads of the chosen names with ``<guard>.lookup("name")``."""

    def __init__(self, guard: str, names: set[str]):
        self.guard = guard
        self.names = names
        self.used: set[str] = set()

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if not isinstance(node.ctx, ast.Load) or node.id not in self.names:
            return node
        self.used.add(node.id)
        lookup = ast.Attribute(ast.Name(self.guard, ast.Load()), "lookup", ast.Load())
        return ast.copy_location(ast.Call(lookup, [ast.Constant(node.id)], []), node)


def rewrite_test(source: str, guard: str, protected: Collection[str]) -> tuple[str, list[str]]:
    """The test code with its reads of protected names going through the guard, and those names.

    Names the cell binds itself are left alone; code that is not plain Python (magics) is
    returned unchanged.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source, []
    rewriter = LookUpNames(guard, set(protected) - bound_names(tree))
    tree = ast.fix_missing_locations(rewriter.visit(tree))
    if not rewriter.used:
        return source, []
    return ast.unparse(tree), sorted(rewriter.used)
