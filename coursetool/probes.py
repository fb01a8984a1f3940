"""How probes travel: as cell metadata the grader reads, and as hidden lines nbgrader's own autograde runs.

Both the build (which writes them into the autograder notebook) and the grader (which reads
them back and keeps the hidden lines out of the student's kernel) use these functions.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from coursetool.model import Probe

METADATA_KEY = "coursetool"
REFERENCE_FILE = "probes.json"  # beside the autograder notebook; vaelab.probes reads the same name
IMPORT_LINE = "from vaelab.probes import check_probe"


class ProbeRecordError(ValueError):
    """A cell's probe metadata is not what the build writes."""


@dataclass(frozen=True)
class ProbeRecord:
    """A probe as the autograder notebook carries it: its id within the lab and what judging it needs."""

    id: str  # "<grade_id>/<number>"
    expression: str
    message: str
    atol: float
    rtol: float
    fixed: bool = False  # the value is the requirement itself, the same under any seed (#!PROBE [fixed])

    def to_metadata(self) -> dict[str, Any]:
        """The record as the cell's metadata holds it (JSON; ``fixed`` only where it is set)."""
        data = asdict(self)
        if not self.fixed:
            del data["fixed"]
        return data

    @classmethod
    def from_metadata(cls, data: Any) -> ProbeRecord:
        """The record a cell's metadata holds; ProbeRecordError naming what is wrong."""
        if not isinstance(data, dict):
            raise ProbeRecordError(f"a probe record is a mapping, not {type(data).__name__}")
        missing = [name for name in ("id", "expression", "message", "atol", "rtol") if name not in data]
        if missing:
            raise ProbeRecordError(f"probe record {data.get('id', '?')!r} lacks {', '.join(missing)}")
        text = {name: data[name] for name in ("id", "expression", "message")}
        if not all(isinstance(value, str) for value in text.values()):
            raise ProbeRecordError(f"probe record {data['id']!r}: id, expression and message must be text")
        try:
            atol, rtol = float(data["atol"]), float(data["rtol"])
        except (TypeError, ValueError):
            raise ProbeRecordError(f"probe record {data['id']!r}: atol and rtol must be numbers") from None
        if not isinstance(data.get("fixed", False), bool):
            raise ProbeRecordError(f"probe record {data['id']!r}: fixed must be true or false")
        return cls(**text, atol=atol, rtol=rtol, fixed=data.get("fixed", False))


def probe_records(grade_id: str, probes: list[Probe]) -> list[ProbeRecord]:
    """The records of a test cell's probes, numbered from 1 within the cell."""
    return [ProbeRecord(f"{grade_id}/{number}", probe.expression, probe.message, probe.atol, probe.rtol, probe.fixed)
            for number, probe in enumerate(probes, 1)]


def probes_metadata(records: list[ProbeRecord]) -> dict[str, Any]:
    """What the autograder notebook's cell metadata holds under ``METADATA_KEY`` for these records."""
    return {"probes": [record.to_metadata() for record in records]}


def probe_block(records: list[ProbeRecord]) -> list[str]:
    """The hidden lines that evaluate the probes in a kernel and compare them with ``probes.json``."""
    calls = [f"check_probe({r.id!r}, lambda: {r.expression}, {r.message!r}, atol={r.atol!r}, "
             f"rtol={r.rtol!r})" for r in records]
    return ["### BEGIN HIDDEN TESTS", IMPORT_LINE, *calls, "### END HIDDEN TESTS"] if records else []


def records_of(cell: Any) -> list[ProbeRecord]:
    """The probe records in a notebook cell's metadata (none for other cells)."""
    return [ProbeRecord.from_metadata(data) for data in cell.get("metadata", {}).get(METADATA_KEY, {}).get("probes", [])]


def without_probe_block(source: str, records: list[ProbeRecord]) -> str:
    """A test cell's code without its probe block: what the student's kernel runs of it."""
    block = "\n".join(probe_block(records))
    if not block:
        return source
    return source.replace("\n" + block, "").replace(block, "")
