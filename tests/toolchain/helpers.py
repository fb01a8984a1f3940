"""Writing small lab sources for tests."""
from pathlib import Path

HEADER = """---
jupyter:
  jupytext:
    text_representation:
      extension: .md
      format_name: markdown
---

## Exercise 1.1: Something

"""
HEADER_LINES = HEADER.count("\n")


def write_lab(folder: Path, body: str, name: str = "lab") -> Path:
    """A lab source whose body starts right after an exercise heading; returns its path."""
    path = folder / f"{name}.md"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def body_line(n: int) -> int:
    """The file line of the body's n-th line (1-based)."""
    return HEADER_LINES + n
