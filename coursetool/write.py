"""Write build outputs all at once or not at all."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import nbformat

OWNED = ("release", "solutions", "autograder/source", "autograder/nbgrader_config.py")


def notebook_bytes(nb: nbformat.NotebookNode) -> bytes:
    """The notebook file as ``nbformat.write`` writes it: its JSON and one final newline."""
    text = nbformat.writes(nb)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def replace_outputs(out_dir: Path, files: dict[str, bytes]) -> None:
    """Replace every owned output under ``out_dir`` with ``files`` (relative path -> bytes).

    Everything is written to a staging folder first; the owned paths are then swapped in by
    renames, and put back as they were if a swap fails.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".build-new-", dir=out_dir))
    backup = Path(tempfile.mkdtemp(prefix=".build-old-", dir=out_dir))
    try:
        for relative, data in files.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for owned in OWNED:
            (staging / owned).parent.mkdir(parents=True, exist_ok=True)
        swap_in(out_dir, staging, backup)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(backup, ignore_errors=True)


def swap_in(out_dir: Path, staging: Path, backup: Path) -> None:
    moved: list[str] = []
    try:
        for owned in OWNED:
            current, new = out_dir / owned, staging / owned
            if current.exists():
                (backup / owned).parent.mkdir(parents=True, exist_ok=True)
                os.replace(current, backup / owned)
            moved.append(owned)
            if new.exists():
                current.parent.mkdir(parents=True, exist_ok=True)
                os.replace(new, current)
    except OSError:
        for owned in reversed(moved):
            current, old = out_dir / owned, backup / owned
            if current.is_dir():
                shutil.rmtree(current)
            elif current.exists():
                current.unlink()
            if old.exists():
                os.replace(old, current)
        raise


def read_outputs(out_dir: Path) -> dict[str, bytes]:
    """The owned outputs currently under ``out_dir``, as ``replace_outputs`` takes them.

    The reference values a check or a grading run writes beside a lab (``probes.json``) are
    not build outputs.
    """
    files: dict[str, bytes] = {}
    for owned in OWNED:
        path = out_dir / owned
        if path.is_file():
            files[owned] = path.read_bytes()
        elif path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file() and p.name != "probes.json"):
                files[file.relative_to(out_dir).as_posix()] = file.read_bytes()
    return files
