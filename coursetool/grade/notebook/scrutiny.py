"""What the grader cannot prevent it reports: student code that reaches for kernel or grader internals,
and hidden test text that found its way into outputs (redacted)."""
from __future__ import annotations

import re
from collections.abc import Iterable

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
REDACTED = "[hidden test text removed]"
MIN_HIDDEN_LINE = 12  # shorter hidden lines are too common to tell apart from the student's own


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
        for line_number, line in enumerate(cell.source.splitlines(), 1):
            if line.strip() in lab_lines:
                continue
            labels = [label for label, pattern in PATTERNS.items() if pattern.search(line)]
            if labels:
                found.append(f"cell {number}, line {line_number}: {line.strip()[:160]} ({', '.join(labels)})")
    return found


def hidden_lines(lab: AutograderLab) -> list[str]:
    """Every line of hidden test code and every probe expression of the lab, long enough to recognise."""
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
    return sorted(lines, key=len, reverse=True)


def redact(text: str, lines: Iterable[str]) -> tuple[str, int]:
    count = 0
    for line in lines:
        if line in text:
            count += text.count(line)
            text = text.replace(line, REDACTED)
    return text, count


def redact_outputs(nb: NotebookNode, lines: list[str]) -> int:
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
