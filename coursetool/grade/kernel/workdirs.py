"""Temporary folders of a grading run, marked so that a later run removes what a killed one left.

Every folder a run makes under the temporary directory (its staging folder, each kernel's
scratch folder) has a ``coursetool-`` name and a marker file naming the course folder and
the process that made it: its pid and start time, so that a reused pid is not taken for it.
At its start a run removes the marked folders of the same course whose maker is gone; it
never touches an unmarked folder, another course's, or one whose maker still runs.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from coursetool.grade.kernel import limits as kernel_limits

MARKER = ".coursetool-run.json"
PREFIX = "coursetool-"

_course = ""  # the course folder of this process's grading run; forked workers inherit it


def belong_to(course: Path) -> None:
    """Mark the folders this process (and the workers it forks) makes from now on as ``course``'s."""
    global _course
    _course = str(course.resolve())


def start_time(pid: int) -> str | None:
    """When a live process started (clock ticks since boot), or None if it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # the name in parentheses may hold spaces
    return None if fields[0] in ("Z", "X") else fields[19]


@contextmanager
def marked_folder(prefix: str, parent: Path | None = None) -> Iterator[Path]:
    """A temporary folder (in ``parent``, else the temporary directory) with a marker naming this run's course
    and this process; removed on leaving."""
    with tempfile.TemporaryDirectory(prefix=prefix, dir=parent) as folder:
        marker = {"course": _course, "pid": os.getpid(), "started": start_time(os.getpid())}
        (Path(folder) / MARKER).write_text(json.dumps(marker), encoding="utf-8")
        yield Path(folder)


def read_marker(folder: Path) -> dict | None:
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def left_behind(folder: Path, course: str) -> bool:
    """A marked folder of ``course`` whose maker is gone."""
    if not folder.name.startswith(PREFIX) or folder.is_symlink() or not folder.is_dir():
        return False
    marker = read_marker(folder)
    if marker is None or marker.get("course") != course or not isinstance(marker.get("pid"), int):
        return False
    return maker_gone(marker["pid"], marker.get("started"))


def maker_gone(pid: int, started: str | None) -> bool:
    """The process that made a folder has ended (where /proc is missing, by its pid alone)."""
    if started is not None:
        return start_time(pid) != started
    return not kernel_limits.alive(pid)


def remove_left_behind(course: Path) -> list[Path]:
    """Remove the folders that earlier runs of ``course`` left behind; return them."""
    removed = []
    for folder in Path(tempfile.gettempdir()).iterdir():
        if left_behind(folder, str(course.resolve())):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
