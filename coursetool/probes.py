"""How probes travel: as cell metadata the grader reads, and as hidden lines nbgrader's own autograde runs.

Both the build (which writes them into the autograder notebook) and the grader (which reads
them back and keeps the hidden lines out of the student's kernel) use these functions.
"""
from __future__ import annotations

from typing import Any

from coursetool.model import Probe

METADATA_KEY = "coursetool"
REFERENCE_FILE = "probes.json"  # beside the autograder notebook; vaelab.probes reads the same name
IMPORT_LINE = "from vaelab.probes import check_probe"


def probe_records(grade_id: str, probes: list[Probe]) -> list[dict[str, Any]]:
    """What the autograder notebook's cell metadata holds for each probe of a test cell."""
    return [{"id": f"{grade_id}/{number}", "expression": probe.expression, "message": probe.message,
             "atol": probe.atol, "rtol": probe.rtol} for number, probe in enumerate(probes, 1)]


def probe_block(records: list[dict[str, Any]]) -> list[str]:
    """The hidden lines that evaluate the probes in a kernel and compare them with ``probes.json``."""
    calls = [f"check_probe({r['id']!r}, lambda: {r['expression']}, {r['message']!r}, atol={r['atol']!r}, "
             f"rtol={r['rtol']!r})" for r in records]
    return ["### BEGIN HIDDEN TESTS", IMPORT_LINE, *calls, "### END HIDDEN TESTS"] if records else []


def records_of(cell: Any) -> list[dict[str, Any]]:
    """The probe records in a notebook cell's metadata (none for other cells)."""
    return list(cell.get("metadata", {}).get(METADATA_KEY, {}).get("probes", []))


def without_probe_block(source: str, records: list[dict[str, Any]]) -> str:
    """A test cell's code without its probe block: what the student's kernel runs of it."""
    block = "\n".join(probe_block(records))
    if not block:
        return source
    return source.replace("\n" + block, "").replace(block, "")
