"""What grading one submission ends in: plain data every other grading module may import."""
from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class Status(str, enum.Enum):
    """How a submission's grading ended."""

    GRADED = "graded"
    TIMEOUT = "timeout"
    DIED = "kernel died"
    REJECTED = "rejected"
    GRADER_ERROR = "grader error"


class Rejected(Exception):
    """The submission cannot be graded; the message says why, for the grader and the student."""


@dataclass
class SubmissionResult:
    """Everything the parent needs about one graded submission; plain data, so it pickles and saves as JSON."""

    student: str
    key: str
    status: Status
    reason: str = ""
    scores: dict[str, float] = field(default_factory=dict)
    answered: dict[str, bool] = field(default_factory=dict)
    seconds: float = 0.0
    flags: list[str] = field(default_factory=list)  # for the report's "look at these": what the code reached for

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionResult:
        return cls(**{**data, "status": Status(data["status"])})


@dataclass
class Outcome:
    """A graded submission as a grading worker returns it: the result and the files, as bytes.

    ``autograded`` is the executed notebook (hidden tests included), None when nothing ran;
    ``feedback`` is the student's HTML page. Only the process that grades the class writes them.
    ``grader_cpu``: the CPU seconds the grading process spent on it, its kernel's not counted.
    """

    result: SubmissionResult
    autograded: bytes | None
    feedback: bytes
    grader_cpu: float = 0.0
