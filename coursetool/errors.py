"""Errors in a lab source, reported as ``file:line: what (hint)``."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class SourceError:
    """One problem in a source file, at a 1-based line."""

    path: Path
    line: int
    what: str
    hint: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what} ({self.hint})"


class BuildError(Exception):
    """All the errors found in one build; nothing was written."""

    def __init__(self, errors: list[SourceError]):
        self.errors = sorted(errors)
        super().__init__("\n".join(str(e) for e in self.errors))
