"""Where the reference values of a lab's probes are kept: ``probes.json`` beside the autograder notebook.

They are stored with the grading key and the probe seed they were computed under, so that
every worker (and nbgrader's own autograde, which copies the file next to each submission)
reads the same values, and a change of lab or settings, or a new grading run (which draws a
new seed), computes them again.
"""
from __future__ import annotations

import json
from pathlib import Path

from coursetool.grade.atomic import write_atomically
from coursetool.grade.notebook.runspec import grading_key
from coursetool.probes import REFERENCE_FILE
from coursetool.grade.settings import Settings


def reference_file(settings: Settings) -> Path:
    return settings.source_dir / REFERENCE_FILE


def load_reference(settings: Settings, fresh_only: bool = True) -> dict[str, str] | None:
    """The stored values if they were computed for this lab, these settings and this run's probe seed.

    A grading worker reads them with ``fresh_only`` False: the process that grades the class
    made them fresh before the first task, and a cluster worker's paths may differ from its own.
    """
    try:
        stored = json.loads(reference_file(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if stored.get("seed") != settings.probe_seed:
        return None
    return stored["values"] if not fresh_only or stored.get("key") == grading_key(settings) else None


def store_reference(settings: Settings, values: dict[str, str]) -> None:
    stored = {"key": grading_key(settings), "seed": settings.probe_seed, "values": values}
    write_atomically(reference_file(settings), json.dumps(stored, indent=1, sort_keys=True).encode())
