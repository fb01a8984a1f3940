"""What the grader cannot prevent it reports: student code that reaches for kernel or grader internals,
and hidden test text that found its way into outputs (redacted).

Internals are found two ways: by how they are spelt (``SUSPICIOUS``, line by line), and by what
the code does with names it builds at run time (``built_reaches``): an AST walk that folds
string constants (joins, concatenation, f-strings, slicing, ``chr``, case changes, names bound
to such strings) and looks at what they are used for: an attribute fetched with ``getattr``, a
module imported with ``importlib`` or ``__import__``, a global read through ``globals()`` or
``vars()``, code run with ``eval``/``exec``/``compile`` (scanned in turn).
"""
from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from nbformat import NotebookNode

from coursetool.grade.lab import AutograderLab, Role, SourceCell
from coursetool.probes import records_of

SUSPICIOUS = {
    "the kernel or shell": r"\bget_ipython\b|\bipykernel\b|\bIPython\b|__IPYTHON__|\b_ih\b|\b_oh\b|\b_i\d+\b|\b(In|Out)\b",
    "module table surgery": r"\bsys\s*\.\s*modules\b",
    "stack frames": r"_getframe|\bf_back\b|\bf_globals\b|\bf_locals\b|\btb_frame\b|\binspect\s*\.\s*(stack|currentframe|getouterframes|getsource)",
    "the garbage collector": r"\bgc\s*\.\s*get_(objects|referrers|referents)\b",
    "ctypes": r"\bctypes\b",
    "tracing or audit hooks": r"\bsettrace\b|\bsetprofile\b|\baddaudithook\b|\bsys\s*\.\s*monitoring\b",
    "builtins": r"\bbuiltins\b|__builtins__",
    "the file system": r"\bos\s*\.\s*(walk|scandir|listdir)\b|\bglob\s*\.|\.rglob\s*\(|\.iterdir\s*\(|open\(\s*['\"]/",
    "cached source": r"\blinecache\b|__code__|\bco_consts\b",
}
PATTERNS = {label: re.compile(pattern) for label, pattern in SUSPICIOUS.items()}
KERNEL, FRAMES, GC, CTYPES, HOOKS, MODULES, BUILTINS, SOURCE = (
    "the kernel or shell", "stack frames", "the garbage collector", "ctypes", "tracing or audit hooks",
    "module table surgery", "builtins", "cached source")
IMPORTED = {  # a module imported by a name in a string -> what it reaches
    "ctypes": CTYPES, "_ctypes": CTYPES, "gc": GC, "IPython": KERNEL, "ipykernel": KERNEL, "jupyter_client": KERNEL,
    "zmq": KERNEL, "comm": KERNEL, "linecache": SOURCE, "builtins": BUILTINS, "_testcapi": CTYPES,
}
FETCHED = {  # an attribute fetched (getattr, attrgetter) by a name in a string -> what it reaches
    "_getframe": FRAMES, "f_back": FRAMES, "f_globals": FRAMES, "f_locals": FRAMES, "tb_frame": FRAMES,
    "currentframe": FRAMES, "_current_frames": FRAMES, "settrace": HOOKS, "setprofile": HOOKS,
    "addaudithook": HOOKS, "monitoring": HOOKS, "get_objects": GC, "get_referrers": GC, "get_referents": GC,
    "get_ipython": KERNEL, "__builtins__": BUILTINS, "__code__": SOURCE, "co_consts": SOURCE,
}
READ = {  # a global read (globals(), vars(), __builtins__) by a name in a string -> what it reaches
    "get_ipython": KERNEL, "In": KERNEL, "Out": KERNEL, "_ih": KERNEL, "_oh": KERNEL, "__IPYTHON__": KERNEL,
    "__builtins__": BUILTINS, "__import__": MODULES, "eval": SOURCE, "exec": SOURCE,
}
BUILT = {  # a string built from pieces that spells one of these reaches for it, whatever it is used for
    **IMPORTED, **FETCHED, **READ, "sys": MODULES, "modules": MODULES, "inspect": FRAMES, "traceback": FRAMES,
    "stack": FRAMES, "kernel": KERNEL, "session": KERNEL, "shell": KERNEL, "import_module": MODULES,
    "importlib": MODULES, "getattr": BUILTINS, "globals": BUILTINS,
}
BUILDING = (ast.BinOp, ast.JoinedStr, ast.Call, ast.Subscript)  # expressions that may build a string
NAMESPACE_CALLS = frozenset({"globals", "vars", "locals"})
MAX_FOLDED = 10_000  # characters: a longer built string is not followed
REDACTED = "[hidden test text removed]"
MIN_HIDDEN_LINE = 12  # shorter hidden lines are too common to tell apart from the student's own


@lru_cache(maxsize=4)
def released_lines(lab: AutograderLab) -> frozenset[str]:
    """Every line of code the lab hands out (its release notebook's code cells), without surrounding spaces."""
    return frozenset(line.strip() for c in lab.cells if c.released.cell_type == "code"
                     for line in c.released.source.splitlines() if line.strip())


def suspicious_lines(nb: NotebookNode, origins: list[SourceCell | None], lab: AutograderLab) -> list[str]:
    """``cell N, line L: <code> (<what it reaches for>)`` for every line the student wrote in their own code cells:
    a line the lab's release holds as it is (its imports, its starter code) is the lab's, never the student's."""
    found = []
    lab_lines = released_lines(lab)
    for number, (cell, source) in enumerate(zip(nb.cells, origins), 1):
        if cell.cell_type != "code" or (source is not None and source.role in (Role.TEST, Role.FIXED)):
            continue
        lines = cell.source.splitlines()
        if all(line.strip() in lab_lines for line in lines if line.strip()):
            continue  # the lab's code as handed out, unchanged: no line of it is the student's
        built: dict[int, list[str]] = {}
        for line_number, label in built_reaches(cell.source):
            built.setdefault(line_number, []).append(f"{label}, by a name built at run time")
        for line_number, line in enumerate(lines, 1):
            if line.strip() in lab_lines:
                continue
            labels = [label for label, pattern in PATTERNS.items() if pattern.search(line)]
            labels += [label for label in dict.fromkeys(built.get(line_number, [])) if label.split(",")[0] not in labels]
            if labels:
                found.append(f"cell {number}, line {line_number}: {line.strip()[:160]} ({', '.join(labels)})")
    return found


class StringFolder:
    """The value of an expression that builds a string from constants, where it does; None where it does not."""

    def __init__(self, bound: dict[str, str]):
        self.bound = bound  # names bound to built strings so far

    def fold(self, node: ast.AST) -> str | None:  # noqa: PLR0911 - one case per kind of node
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        if isinstance(node, ast.Name):
            return self.bound.get(node.id)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.limited(self.fold(node.left), self.fold(node.right))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            left = self.fold(node.left)
            right = self.folded_items(node.right) if isinstance(node.right, ast.Tuple) else [self.fold(node.right)]
            return self.formatted(left, right)
        if isinstance(node, ast.JoinedStr):
            parts = [self.fold(v.value) if isinstance(v, ast.FormattedValue) else self.fold(v) for v in node.values]
            return self.limited(*parts)
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            return self.sliced(self.fold(node.value), node.slice)
        if isinstance(node, ast.Call):
            return self.called(node)
        return None

    def called(self, node: ast.Call) -> str | None:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "chr" and len(node.args) == 1:
            code = node.args[0]
            return chr(code.value) if isinstance(code, ast.Constant) and type(code.value) is int \
                and 0 <= code.value < 0x110000 else None
        if isinstance(func, ast.Name) and func.id == "str" and len(node.args) == 1:
            return self.fold(node.args[0])
        if not isinstance(func, ast.Attribute):
            return None
        owner = self.fold(func.value)
        if owner is None:
            return None
        if func.attr == "join" and len(node.args) == 1:
            items = self.folded_items(node.args[0])
            return None if None in items else self.limited(owner.join(items))  # type: ignore[arg-type]
        if func.attr in ("lower", "upper", "strip", "title", "capitalize", "swapcase") and not node.args:
            return getattr(owner, func.attr)()
        if func.attr == "replace" and len(node.args) == 2:
            old, new = self.fold(node.args[0]), self.fold(node.args[1])
            return self.limited(owner.replace(old, new)) if old is not None and new is not None else None
        if func.attr == "format":
            return self.formatted(owner.replace("{}", "%s"), self.folded_items(ast.Tuple(elts=node.args)))
        return None

    def folded_items(self, node: ast.AST) -> list[str | None]:
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return [self.fold(item) for item in node.elts]
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
            return [None]
        text = self.fold(node)
        return list(text) if text is not None else [None]

    def formatted(self, template: str | None, values: list[str | None]) -> str | None:
        if template is None or any(value is None for value in values):
            return None
        try:
            return self.limited(template % tuple(values))
        except (TypeError, ValueError, KeyError):
            return None

    def sliced(self, text: str | None, part: ast.Slice) -> str | None:
        bounds = [integer(b) if b is not None else None for b in (part.lower, part.upper, part.step)]
        if text is None or any(bound is False for bound in bounds) or bounds[2] == 0:
            return None
        return text[slice(*bounds)]

    @staticmethod
    def limited(*parts: str | None) -> str | None:
        if any(part is None for part in parts):
            return None
        joined = "".join(parts)  # type: ignore[arg-type]
        return joined if len(joined) <= MAX_FOLDED else None


def integer(node: ast.AST) -> int | bool:
    """An integer constant (negative ones included), or False."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = integer(node.operand)
        return -value if value is not False else False
    return node.value if isinstance(node, ast.Constant) and type(node.value) is int else False


def built_reaches(source: str, depth: int = 0) -> Iterator[tuple[int, str]]:
    """(line, what it reaches) for every use of a string built at run time to reach kernel or grader internals."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return
    folder = StringFolder({})
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = folder.fold(node.value)
            if value is not None:
                folder.bound[node.targets[0].id] = value
    for node in ast.walk(tree):
        for label in reaches_of(node, folder, depth):
            yield getattr(node, "lineno", 1), label


def reaches_of(node: ast.AST, folder: StringFolder, depth: int) -> list[str]:
    """What one node reaches with a built string: a fetched attribute, an imported module, a read global, run code."""
    found = []
    if isinstance(node, BUILDING) and (built := folder.fold(node)) is not None and built.strip() in BUILT:
        found.append(BUILT[built.strip()])
    if isinstance(node, ast.Call):
        found += used_by_call(node, folder, depth)
    if isinstance(node, ast.Subscript) and namespace_read(node.value):
        key = folder.fold(node.slice)
        found += [READ[key]] if key in READ else []
    if isinstance(node, ast.Subscript) and is_name(node.value, "sys", attribute="modules"):
        found.append(MODULES)
    return found


def used_by_call(node: ast.Call, folder: StringFolder, depth: int) -> list[str]:
    """What a call reaches with a string argument: an attribute fetched, a module imported, code run, a name read."""
    name = called_name(node.func)
    first = folder.fold(node.args[0]) if node.args else None
    second = folder.fold(node.args[1]) if len(node.args) > 1 else None
    if name in ("getattr", "setattr", "delattr", "hasattr") and second is not None:
        on_sys = second == "modules" and is_name(node.args[0], "sys")
        return [FETCHED[part] for part in second.split(".") if part in FETCHED] + ([MODULES] if on_sys else [])
    if name in ("attrgetter", "methodcaller") and first is not None:
        return [FETCHED[part] for part in first.split(".") if part in FETCHED]
    if name in ("import_module", "__import__", "find_spec", "find_loader") and first is not None:
        top = first.split(".")[0]
        return [IMPORTED[top]] if top in IMPORTED else []
    if name in ("eval", "exec", "compile") and first is not None and depth < 5:
        inner = [label for _, label in built_reaches(first, depth + 1)]
        return inner + [label for label, pattern in PATTERNS.items() if pattern.search(first)]
    if name == "get" and isinstance(node.func, ast.Attribute) and namespace_read(node.func.value) and first:
        return [READ[first]] if first in READ else []
    return []


def is_name(node: ast.AST, name: str, attribute: str | None = None) -> bool:
    """``node`` is the name ``name`` (or, with ``attribute``, ``name.attribute``)."""
    if attribute is not None:
        return isinstance(node, ast.Attribute) and node.attr == attribute and is_name(node.value, name)
    return isinstance(node, ast.Name) and node.id == name


def called_name(func: ast.AST) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def namespace_read(node: ast.AST) -> bool:
    """``globals()``, ``vars()``, ``locals()`` or ``__builtins__``: a mapping of names."""
    if isinstance(node, ast.Call):
        return called_name(node.func) in NAMESPACE_CALLS
    return isinstance(node, ast.Name) and node.id == "__builtins__"


@lru_cache(maxsize=4)
def hidden_lines(lab: AutograderLab) -> tuple[str, ...]:
    """Every line of hidden test code and every probe expression of the lab, long enough to recognise, longest first."""
    lines: set[str] = set()
    for test in lab.tests:
        inside = False
        for line in test.cell.source.splitlines():
            stripped = line.strip()
            if stripped in ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"):
                inside = stripped.startswith("### BEGIN")
            elif inside and len(stripped) >= MIN_HIDDEN_LINE:
                lines.add(stripped)
        lines |= {record.expression for record in records_of(test.cell) if len(record.expression) >= MIN_HIDDEN_LINE}
    return tuple(sorted(lines, key=len, reverse=True))


def redact(text: str, lines: Iterable[str]) -> tuple[str, int]:
    count = 0
    for line in lines:
        if line in text:
            count += text.count(line)
            text = text.replace(line, REDACTED)
    return text, count


def redact_outputs(nb: NotebookNode, lines: Iterable[str]) -> int:
    """Remove hidden test text from every output of the notebook; how many pieces were removed."""
    removed = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for key in ("text", "evalue"):
                if isinstance(output.get(key), str):
                    output[key], count = redact(output[key], lines)
                    removed += count
            if "traceback" in output:
                cleaned = [redact(frame, lines) for frame in output["traceback"]]
                output["traceback"] = [frame for frame, _ in cleaned]
                removed += sum(count for _, count in cleaned)
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/") and isinstance(value, str):
                    output["data"][mime], count = redact(value, lines)
                    removed += count
    return removed
