"""Finding each student's notebook in what an LMS hands out.

Accepted: a folder or a zip of it; inside, one folder per student (Moodle's
``Name_123_assignsubmission_file_`` suffix is dropped) or flat files with the student id in
the name (``alice_lab1.ipynb``, ``lab1-alice.ipynb``, Canvas's ``name_123_456_lab1.ipynb``).
A student's entry may itself be a zip. A single folder wrapping everything is looked into.
Every student gets exactly one ``Submission``: a notebook to grade, or the problem why not.

Entries merge only when their names give the very same raw id. An id depends on its own
name alone, so a folder gets the same id in every run and in every lab: a name that is not
already a safe id gets a suffix from a hash of the name, and ids that would still collide
(only their case differs, as a case-folding file system sees them) all get one.
"""
from __future__ import annotations

import hashlib
import os
import re
import time
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath


MAX_MEMBER_BYTES = 50 * 1024 * 1024
MAX_TIMESTAMP_BYTES = 1024
TIMESTAMP_FILE = "timestamp.txt"  # nbgrader's record of when a submission was made
IGNORED = re.compile(r"^(\.|__MACOSX$|~\$)")
MOODLE_SUFFIX = re.compile(r"_assignsubmission_.*$")
CANVAS_NAME = re.compile(r"^(?P<name>[^_]+)_(?P<late>late_)?(?P<user>\d+)_\d+_", re.IGNORECASE)


class SubmissionsError(Exception):
    """The submissions as a whole cannot be read (not a folder, not a zip archive)."""


@dataclass(frozen=True)
class Submission:
    """One student's notebook to grade, or the problem that leaves nothing to grade.

    ``submitted`` is the submission time in UTC where the submission says it (nbgrader's
    ``timestamp.txt``); ``late_per_lms`` is True where the LMS marked the file late without a
    time (Canvas's ``late_`` names). File modification times are never taken for either.
    """

    student: str
    notebook: Path | None = None
    problem: str | None = None
    note: str = ""
    submitted: datetime | None = None
    late_per_lms: bool = False
    id_note: str = ""

    @property
    def key(self) -> str:
        """Changes exactly when what would be graded changes."""
        digest = hashlib.sha256()
        digest.update(self.notebook.read_bytes() if self.notebook else (self.problem or "").encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class Entry:
    """Whose a class folder's entry is: the raw id in its name, and whether an LMS wrote that name."""

    raw: str
    lms: bool = False


def readable_name(raw: str) -> str:
    """The name as text: undecodable bytes kept as surrogates, composed characters (NFC)."""
    return unicodedata.normalize("NFC", raw)


def clean_id(raw: str) -> str:
    """A student id safe as a file name and CSV field; undecodable bytes become underscores."""
    text = unicodedata.normalize("NFC", raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
    text = "".join(ch if ch.isalnum() or ch in "._-@+" else "_" for ch in text)
    return re.sub(r"_+", "_", text).strip("._-") or "student"


def name_hash(entry: Entry) -> str:
    """Six hex digits of the name (and its kind) that tell apart names that clean to the same id."""
    name = readable_name(entry.raw) + ("\0lms" if entry.lms else "")
    return hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:6]


def natural_id(entry: Entry) -> str:
    """The id from the name alone: as is when safe, else cleaned with a hash suffix.

    LMS names keep their cleaned form without a suffix: their user number already tells
    students apart.
    """
    cleaned = clean_id(entry.raw)
    if entry.lms or cleaned == readable_name(entry.raw):
        return cleaned
    return f"{cleaned}-{name_hash(entry)}"


def assign_ids(entries: Iterable[Entry]) -> dict[Entry, tuple[str, str]]:
    """Each entry's id and, where the id is not its name, a note that says why."""
    natural = {entry: natural_id(entry) for entry in entries}
    claims: dict[str, int] = {}
    for student in natural.values():
        claims[student.casefold()] = claims.get(student.casefold(), 0) + 1
    ids = {}
    for entry, student in natural.items():
        name = readable_name(entry.raw)
        if claims[student.casefold()] > 1:
            student = f"{student}-{name_hash(entry)}"
            ids[entry] = student, f"id {student!r} for {name!r}: other names in the class give the same id (up to case)"
        elif student != name and not entry.lms:
            ids[entry] = student, f"id {student!r} for {name!r}: the name is not a plain file name"
        else:
            ids[entry] = student, ""
    return ids


def entry_from_filename(name: str, lab: str) -> tuple[Entry, bool]:
    """A flat file's owner (Canvas's name and user number, or the file name without the lab's) and
    whether the LMS marked it late."""
    canvas = CANVAS_NAME.match(name)
    if canvas:
        return Entry(f"{canvas['name']}_{canvas['user']}", lms=True), bool(canvas["late"])
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    without_lab = re.sub(re.escape(lab), "", stem, flags=re.IGNORECASE).strip(" _-.")
    return Entry(without_lab or stem), False


def id_from_filename(name: str, lab: str) -> str:
    """The raw student id in a flat file's name."""
    return entry_from_filename(name, lab)[0].raw


def entry_from_folder(name: str) -> Entry:
    """A student folder's owner: Moodle's name and participant number, or the folder name."""
    without_moodle = MOODLE_SUFFIX.sub("", name)
    return Entry(without_moodle, lms=without_moodle != name)


def safe_parts(member: str) -> list[str]:
    return [part for part in PurePosixPath(member.replace("\\", "/")).parts if part not in ("", ".", "..", "/")]


def megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


def wanted(name: str) -> bool:
    """Whether an archive entry's content is needed: notebooks, zips and nbgrader's timestamp."""
    return name.lower().endswith((".ipynb", ".zip")) or name == TIMESTAMP_FILE


def member_problem(member: zipfile.ZipInfo) -> str | None:
    """Why an archive entry's content cannot be taken, before reading it."""
    limit = MAX_TIMESTAMP_BYTES if PurePosixPath(member.filename).name == TIMESTAMP_FILE else MAX_MEMBER_BYTES
    if member.file_size > limit:
        return (f"the archive entry {member.filename!r} is too large to grade ({megabytes(member.file_size)}; "
                f"the limit is {megabytes(limit)})")
    if member.flag_bits & 0x1:
        return f"the archive entry {member.filename!r} is encrypted (a password-protected zip cannot be graded)"
    return None


def read_member(opened: zipfile.ZipFile, member: zipfile.ZipInfo) -> tuple[bytes | None, str | None]:
    """An archive entry's content, or why it cannot be read."""
    problem = member_problem(member)
    if problem:
        return None, problem
    try:
        return opened.read(member), None
    except NotImplementedError as error:
        return None, f"the archive entry {member.filename!r} uses a compression method that cannot be read ({error})"
    except (zipfile.BadZipFile, zlib.error, RuntimeError, OSError, EOFError) as error:
        return None, f"the archive entry {member.filename!r} is damaged ({error})"


@dataclass
class Extraction:
    """An archive's members: how many, the names of the files not needed, the entries that could not be read."""

    members: int = 0
    others: list[str] = field(default_factory=list)
    unreadable: dict[Path, str] = field(default_factory=dict)


def extract_zip(archive: Path, target: Path) -> Extraction:
    """Extract the notebooks, zips and timestamps of an archive; other files and unreadable ones stay empty.

    An empty file keeps every entry's name, which still tells whose it is and what was handed
    in; ``unreadable`` says why an empty notebook or zip is empty. Times come from the archive.
    """
    extraction = Extraction()
    with zipfile.ZipFile(archive) as opened:
        members = [m for m in opened.infolist() if not m.is_dir()]
        extraction.members = len(members)
        for member in members:
            parts = safe_parts(member.filename)
            if not parts or any(IGNORED.match(part) for part in parts):
                continue
            destination = target.joinpath(*parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            data, problem = read_member(opened, member) if wanted(parts[-1]) else (None, None)
            destination.write_bytes(data or b"")
            if problem:
                extraction.unreadable[destination] = problem
            elif data is None:
                extraction.others.append(parts[-1])
            stamp = time.mktime((*member.date_time, 0, 0, -1))
            os.utime(destination, (stamp, stamp))
    return extraction


def visible_children(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if not IGNORED.match(p.name)), key=lambda p: p.name)


def unwrap(folder: Path) -> Path:
    """Look into a single folder that wraps a whole class (it holds folders, or several files)."""
    children = visible_children(folder)
    while len(children) == 1 and children[0].is_dir():
        inner = visible_children(children[0])
        if not (any(p.is_dir() for p in inner) or len(inner) > 1):
            break
        folder, children = children[0], inner
    return folder


def read_timestamp(path: Path) -> tuple[datetime | None, str]:
    """The time in an nbgrader ``timestamp.txt`` (UTC), or a note on why it could not be read."""
    from nbgrader.utils import parse_utc  # nbgrader takes a second to import: only for submissions with a timestamp

    text = path.read_bytes()[:MAX_TIMESTAMP_BYTES].decode("utf-8", "replace").strip()
    try:
        return parse_utc(text), ""
    except (ValueError, OverflowError):
        return None, f"{TIMESTAMP_FILE} not understood ({text[:60]!r}): submission time unknown"


def nearest_timestamp(notebook: Path, top: Path) -> Path | None:
    """The ``timestamp.txt`` beside the notebook or in a folder above it, up to ``top``."""
    for folder in [notebook.parent, *notebook.parent.parents]:
        if (folder / TIMESTAMP_FILE).is_file():
            return folder / TIMESTAMP_FILE
        if folder == top or top not in folder.parents:
            return None
    return None


def file_problem(path: Path) -> str | None:
    """Why a notebook file cannot be graded before it is even read: empty or too large."""
    size = path.stat().st_size
    if size == 0:
        return f"the notebook {path.name!r} is an empty file (0 bytes)"
    if size > MAX_MEMBER_BYTES:
        return f"the notebook {path.name!r} is too large to grade ({megabytes(size)}; the limit is {megabytes(MAX_MEMBER_BYTES)})"
    return None


class Collector:
    """Gathers candidate files per student, then picks each student's notebook."""

    def __init__(self, lab: str, staging: Path, unreadable: dict[Path, str]):
        self.lab = lab
        self.staging = staging
        self.unreadable = unreadable
        self.files: dict[Entry, list[Path]] = {}
        self.late: set[Entry] = set()
        self.tops: dict[Path, Path] = {}  # a file -> the folder its timestamp may be found up to

    def add_entry(self, entry: Path) -> None:
        if entry.is_dir():
            owner, late = entry_from_folder(entry.name), False
            files = [p for p in sorted(entry.rglob("*")) if p.is_file() and not any(IGNORED.match(x) for x in p.parts)]
            self.tops.update(dict.fromkeys(files, entry))
        else:
            (owner, late), files = entry_from_filename(entry.name, self.lab), [entry]
        self.files.setdefault(owner, []).extend(files)
        if late:
            self.late.add(owner)

    def submissions(self) -> list[Submission]:
        """One Submission per entry owner, sorted by student id."""
        ids = assign_ids(self.files)
        found = [self.submission(entry, *ids[entry]) for entry in self.files]
        return sorted(found, key=lambda s: s.student)

    def submission(self, entry: Entry, student: str, id_note: str) -> Submission:
        notebooks, others, problems = [], [], []
        for path in self.files[entry]:
            if path in self.unreadable:
                problems.append(self.unreadable[path])
            elif path.suffix.lower() == ".ipynb":
                notebooks.append(path)
            elif path.suffix.lower() == ".zip":
                found, problem = self.open_student_zip(student, path)
                notebooks += found
                problems += [problem] if problem else []
            elif path.name != TIMESTAMP_FILE:
                others.append(path.name)
        base = {"student": student, "late_per_lms": entry in self.late, "id_note": id_note}
        if not notebooks:
            found = f" (found: {', '.join(sorted(others)[:5])})" if others else ""
            problem = "; ".join(problems) or f"no notebook in the submission{found}"
            return Submission(**base, problem=join_notes(problem, id_note))
        chosen = self.pick(notebooks)
        submitted, time_note = self.submission_time(chosen)
        notes = [self.choice_note(chosen, notebooks), *problems, time_note, id_note]
        problem = file_problem(chosen)
        if problem:
            return Submission(**base, problem=join_notes(problem, *notes[1:]), submitted=submitted)
        return Submission(**base, notebook=chosen, note=join_notes(*notes), submitted=submitted)

    def choice_note(self, chosen: Path, notebooks: list[Path]) -> str:
        if len(notebooks) > 1:
            return f"{len(notebooks)} notebooks submitted, graded {chosen.name!r}"
        return "" if self.lab.lower() in chosen.stem.lower() else f"graded the notebook named {chosen.name!r}"

    def submission_time(self, notebook: Path) -> tuple[datetime | None, str]:
        top = self.tops.get(notebook)
        stamp = nearest_timestamp(notebook, top) if top is not None else None
        return read_timestamp(stamp) if stamp else (None, "")

    def open_student_zip(self, student: str, archive: Path) -> tuple[list[Path], str | None]:
        target = self.staging / "students" / student / archive.stem
        try:
            extraction = extract_zip(archive, target)
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            return [], f"unreadable zip archive {archive.name!r} ({error})"
        if extraction.members == 0:
            return [], f"empty zip archive {archive.name!r}"
        self.unreadable.update(extraction.unreadable)
        found = sorted(p for p in target.rglob("*.ipynb") if p.is_file() and p not in extraction.unreadable)
        self.tops.update(dict.fromkeys(found, target))
        if found:
            return found, "; ".join(extraction.unreadable.values()) or None
        if extraction.unreadable:
            return [], "; ".join(extraction.unreadable.values())
        listed = f" (found: {', '.join(extraction.others[:5])})" if extraction.others else ""
        return [], f"no notebook in zip archive {archive.name!r}{listed}"

    def pick(self, notebooks: list[Path]) -> Path:
        """A non-empty file first, the lab's own name, then a name that contains it, then the newest."""
        lab = self.lab.lower()
        return min(notebooks, key=lambda p: (p.stat().st_size == 0, p.stem.lower() != lab, lab not in p.stem.lower(),
                                             -p.stat().st_mtime, p.name))


def join_notes(*notes: str) -> str:
    return "; ".join(note for note in notes if note)
