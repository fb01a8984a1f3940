"""nbgrader's exchange as intake: the folder ``nbgrader collect`` fills.

``submitted/<student>/<lab>/<lab>.ipynb`` with nbgrader's ``timestamp.txt`` beside it: every
student folder holds one folder per assignment. A student whose folder has no folder for this
lab did not hand it in and gets no row; the time comes from that folder's ``timestamp.txt``.
The student id is nbgrader's (the folder name), cleaned as any folder name is.
"""
from __future__ import annotations

import logging
from pathlib import Path

from coursetool.grade.intake.submissions import IGNORED, Collector, Entry, Submission, visible_children

log = logging.getLogger(__name__)

SUBMITTED = "submitted"


def student_folders(folder: Path) -> list[Path]:
    return [p for p in visible_children(folder) if p.is_dir()]


def is_exchange(folder: Path, lab: str) -> bool:
    """Whether a folder is laid out as ``<student>/<assignment>/...``, with this lab handed in at least once."""
    if not folder.is_dir():
        return False
    children = visible_children(folder)
    if not children or any(not child.is_dir() for child in children):
        return False
    if any(not entry.is_dir() for child in children for entry in visible_children(child)):
        return False
    return any((child / lab).is_dir() for child in children)


def exchange_root(folder: Path, lab: str) -> Path | None:
    """The collect folder at or under ``folder``: itself, its ``submitted/``, or inside single wrapping folders."""
    while folder.is_dir():
        for candidate in (folder, folder / SUBMITTED):
            if is_exchange(candidate, lab):
                return candidate
        children = visible_children(folder)
        if len(children) != 1 or not children[0].is_dir():
            return None
        folder = children[0]
    return None


def lab_files(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.rglob("*")) if p.is_file() and not any(IGNORED.match(x) for x in p.parts)]


def exchange_submissions(root: Path, lab: str, staging: Path, unreadable: dict[Path, str]) -> list[Submission]:
    """One Submission per student who handed this lab in, sorted by student id."""
    collector = Collector(lab, staging, unreadable)
    for student in student_folders(root):
        handed_in = student / lab
        if not handed_in.is_dir():
            log.info("exchange: %s has no %s folder (not handed in)", student.name, lab)
            continue
        files = lab_files(handed_in)
        collector.files.setdefault(Entry(student.name), []).extend(files)
        collector.tops.update(dict.fromkeys(files, handed_in))
    return collector.submissions()
