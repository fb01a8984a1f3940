"""Late submissions as nbgrader's ``LateSubmissionPlugin`` and ``AssignLatePenalties`` treat them.

The due date is the gradebook assignment's (``--due`` writes it there; formgrader and
``nbgrader db assignment add --duedate`` set it too), a student's extension included. The
penalty method is ``--late-penalty`` or ``c.LateSubmissionPlugin.penalty_method`` in the
course's ``nbgrader_config.py``: ``none`` (no penalty) or ``zero`` (the penalty is the whole
score). A penalty is never below 0 nor above the score, and it is taken from the current
score, manual grades included. A submission is late when its time (nbgrader's
``timestamp.txt``) is after the due date, or when the LMS marked it late and gave no time.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from traitlets.config.loader import PyFileConfigLoader

METHODS = ("none", "zero")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S UTC"


class PenaltySettingError(Exception):
    """The course's nbgrader_config.py names a penalty method this grader does not know."""


@dataclass(frozen=True)
class Lateness:
    """How late one submission was: seconds after the due date, or only that the LMS says it was late."""

    seconds: float = 0.0
    per_lms: bool = False

    @property
    def late(self) -> bool:
        return self.seconds > 0 or self.per_lms


def parse_due(text: str) -> datetime:
    """A due date with its time zone (``2025-03-01 17:00 Europe/Paris``, ``2025-03-01T17:00+01:00``, ``... UTC``), in naive UTC as nbgrader stores it."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        date, _, zone_name = text.strip().rpartition(" ")
        try:
            moment = datetime.fromisoformat(date).replace(tzinfo=ZoneInfo(zone_name))
        except (ValueError, ZoneInfoNotFoundError):
            raise argparse.ArgumentTypeError(f"not a date and time with a known time zone: {text!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give the time zone of the due date, e.g. '{text} Europe/Paris' or '{text} UTC'")
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def configured_method(autograder: Path) -> str:
    """``c.LateSubmissionPlugin.penalty_method`` in the course's nbgrader_config.py, else ``none``."""
    config_file = autograder / "nbgrader_config.py"
    if not config_file.exists():
        return "none"
    config = PyFileConfigLoader(config_file.name, path=str(autograder)).load_config()
    method = config.LateSubmissionPlugin.get("penalty_method", "none")
    if method not in METHODS:
        raise PenaltySettingError(f"{config_file}: LateSubmissionPlugin.penalty_method is {method!r}, "
                                  f"not one of {', '.join(METHODS)}")
    return method


def penalty(method: str, score: float, lateness: Lateness) -> float | None:
    """The points taken off a late submission's score (None: no penalty), never below 0, as nbgrader's."""
    if not lateness.late or method == "none":
        return None
    return max(score, 0.0)  # "zero": the whole score


def duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes or not (days or hours) else ""]
    return " ".join(part for part in parts if part)


def lateness_note(lateness: Lateness, points: float | None) -> str:
    """The reason's words on a late submission: how late and what it cost."""
    if not lateness.late:
        return ""
    when = f"submitted {duration(lateness.seconds)} late" if lateness.seconds > 0 else "marked late by the LMS (no time given)"
    return f"{when}: late penalty {points:g} point(s)" if points is not None else f"{when} (no late penalty)"


def format_time(moment: datetime | None) -> str:
    return moment.strftime(TIME_FORMAT) if moment else ""
