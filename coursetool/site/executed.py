"""Executed solution notebooks kept between runs: the course check stores them, the handouts reuse them.

A kept notebook is fresh while nothing that could change its outputs has changed: the solution
and autograder notebooks of the build, the helper package's code and the data folder the kernels
read. Its code cells hold the solution notebook's sources (visible tests only) and the outputs of
the run, figures included.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

KEY_SUFFIX = ".key.json"


@dataclass(frozen=True)
class Kept:
    """Where one lab's executed notebook and its freshness key live in a cache folder."""

    folder: Path
    lab: str

    @property
    def notebook(self) -> Path:
        return self.folder / f"{self.lab}.ipynb"

    @property
    def key_file(self) -> Path:
        return self.folder / f"{self.lab}{KEY_SUFFIX}"


def helpers_digest() -> str:
    """Hash of the helper package's Python files (the kernels import them), or "" where it is not installed."""
    spec = importlib.util.find_spec("vaelab")
    if spec is None or not spec.submodule_search_locations:
        return ""
    digest = hashlib.sha256()
    for path in sorted(Path(spec.submodule_search_locations[0]).glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def freshness_key(lab: str, files: dict[str, bytes]) -> str:
    """What the executed notebook of ``lab`` depends on, as one hash, from the build's ``files``."""
    from coursetool.grade.settings import default_data_root

    parts = {
        "solution": hashlib.sha256(files[f"solutions/{lab}.ipynb"]).hexdigest(),
        "autograder": hashlib.sha256(files[f"autograder/source/{lab}/{lab}.ipynb"]).hexdigest(),
        "helpers": helpers_digest(),
        "data_root": str(default_data_root()),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def with_solution_sources(solution: NotebookNode, executed: NotebookNode) -> NotebookNode:
    """The solution notebook carrying the outputs that ``executed`` has for each of its cells (matched by id)."""
    outputs = {cell.get("id"): cell for cell in executed.cells if cell.cell_type == "code"}
    merged = nbformat.from_dict(json.loads(json.dumps(solution)))
    for cell in merged.cells:
        ran = outputs.get(cell.get("id"))
        if cell.cell_type == "code" and ran is not None:
            cell.outputs = ran.get("outputs", [])
            cell.execution_count = ran.get("execution_count")
    return merged


def store(folder: Path, lab: str, files: dict[str, bytes], executed: NotebookNode) -> Path:
    """Keep the executed solution of ``lab`` (built ``files``, notebook as the grader ran it); returns its path."""
    kept = Kept(folder, lab)
    folder.mkdir(parents=True, exist_ok=True)
    solution = nbformat.reads(files[f"solutions/{lab}.ipynb"].decode(), as_version=4)
    nbformat.write(with_solution_sources(solution, executed), kept.notebook)
    kept.key_file.write_text(json.dumps({"key": freshness_key(lab, files)}) + "\n", encoding="utf-8")
    return kept.notebook


def load_fresh(folder: Path, lab: str, files: dict[str, bytes]) -> NotebookNode | None:
    """The kept executed solution of ``lab`` when it is fresh for ``files``; None when missing or stale."""
    kept = Kept(folder, lab)
    if not kept.notebook.is_file() or not kept.key_file.is_file():
        return None
    try:
        key = json.loads(kept.key_file.read_text(encoding="utf-8")).get("key")
    except (OSError, ValueError):
        return None
    if key != freshness_key(lab, files):
        return None
    return nbformat.read(kept.notebook, as_version=4)
