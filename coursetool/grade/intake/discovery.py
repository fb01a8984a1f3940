"""A class as the grader is handed it: a folder or a zip, of plain submissions or of nbgrader's exchange.

The one entry point of the intake: ``discover`` reads the class root and hands it to the exchange reader
(``exchange``) or to the collector of plain submissions (``submissions``).
"""
from __future__ import annotations

import zipfile
from pathlib import Path

from coursetool.grade.intake.exchange import exchange_root, exchange_submissions
from coursetool.grade.intake.submissions import (Collector, Submission, SubmissionsError, extract_zip, unwrap,
                                                 visible_children)


def class_root(path: Path, staging: Path) -> tuple[Path, dict[Path, str]]:
    """The folder to look into, and the entries of a class archive that could not be read."""
    if path.is_dir():
        return path, {}
    root = staging / "class"
    root.mkdir(parents=True, exist_ok=True)
    try:
        return root, extract_zip(path, root).unreadable
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise SubmissionsError(f"{path} is neither a folder nor a readable zip archive ({error})") from None


def discover(path: Path, lab: str, staging: Path) -> list[Submission]:
    """One Submission per student found at ``path`` (a folder or a zip), sorted by student id.

    A folder ``nbgrader collect`` filled (``submitted/<student>/<lab>/``) is read as nbgrader's exchange.
    """
    root, unreadable = class_root(path, staging)
    collected = exchange_root(root, lab)
    if collected is not None:
        return exchange_submissions(collected, lab, staging, unreadable)
    collector = Collector(lab, staging, unreadable)
    for entry in visible_children(unwrap(root)):
        collector.add_entry(entry)
    return collector.submissions()
