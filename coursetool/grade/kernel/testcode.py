"""Test cells read the lab's own names: their code is rewritten to look those names up in the guard.

A test cell's code and its probes are the lab's, the same in every submission; only the guard's
name changes with each kernel. So each is rewritten once per process, with a stand-in for the
guard's name, and the stand-in is replaced by each kernel's guard.
"""
from __future__ import annotations

import ast
import secrets
from collections.abc import Collection
from functools import lru_cache

GUARD_STAND_IN = f"_grader_stand_in_{secrets.token_hex(8)}"  # the guard's name in a remembered rewrite


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
        self.lookups = 0  # reads rewritten

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if not isinstance(node.ctx, ast.Load) or node.id not in self.names:
            return node
        self.used.add(node.id)
        self.lookups += 1
        lookup = ast.Attribute(ast.Name(self.guard, ast.Load()), "lookup", ast.Load())
        return ast.copy_location(ast.Call(lookup, [ast.Constant(node.id)], []), node)


def rewrite_test(source: str, guard: str, protected: Collection[str]) -> tuple[str, list[str]]:
    """The test code with its reads of protected names going through the guard, and those names.

    Names the cell binds itself are left alone; code that is not plain Python (magics) is
    returned unchanged.
    """
    remembered = rewritten_for_any_guard(source, frozenset(protected))
    if remembered is None:
        code, names, _ = rewritten(source, guard, protected)
        return code, names
    code, names = remembered
    return code.replace(GUARD_STAND_IN, guard), list(names)


@lru_cache(maxsize=1024)
def rewritten_for_any_guard(source: str, protected: frozenset[str]) -> tuple[str, tuple[str, ...]] | None:
    """The rewrite with ``GUARD_STAND_IN`` for the guard; None where the stand-in appears in the rewritten code other
    than in the lookups (a string the source spells with escapes), where replacing it would change more than those."""
    code, names, lookups = rewritten(source, GUARD_STAND_IN, protected)
    return (code, tuple(names)) if code.count(GUARD_STAND_IN) == lookups else None


def rewritten(source: str, guard: str, protected: Collection[str]) -> tuple[str, list[str], int]:
    """The rewritten code, the names it looks up, and how many reads it rewrote."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source, [], 0
    rewriter = LookUpNames(guard, set(protected) - bound_names(tree))
    tree = ast.fix_missing_locations(rewriter.visit(tree))
    if not rewriter.used:
        return source, [], 0
    return ast.unparse(tree), sorted(rewriter.used), rewriter.lookups
