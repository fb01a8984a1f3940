"""Finding each student's notebook in what an LMS hands out.

Accepted: a folder or a zip of it; inside, one folder per student (Moodle's
``Name_123_assignsubmission_file_`` suffix is dropped) or flat files with the student id in
the name (``alice_lab1.ipynb``, ``lab1-alice.ipynb``, Canvas's ``name_123_456_lab1.ipynb``).
A student's entry may itself be a zip. A single folder wrapping everything is looked into.
Every student gets exactly one ``Submission``: a notebook to grade, or the problem why not.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAX_MEMBER_BYTES = 50 * 1024 * 1024
IGNORED = re.compile(r"^(\.|__MACOSX$|~\$)")
MOODLE_SUFFIX = re.compile(r"_assignsubmission_.*$")
CANVAS_NAME = re.compile(r"^(?P<name>[^_]+)_(?:late_)?(?P<user>\d+)_\d+_", re.IGNORECASE)


@dataclass(frozen=True)
class Submission:
    """One student's notebook to grade, or the problem that leaves nothing to grade."""

    student: str
    notebook: Path | None = None
    problem: str | None = None
    note: str = ""

    @property
    def key(self) -> str:
        """Changes exactly when what would be graded changes."""
        digest = hashlib.sha256()
        digest.update(self.notebook.read_bytes() if self.notebook else (self.problem or "").encode())
        return digest.hexdigest()


def clean_id(raw: str) -> str:
    """A student id safe as a file name and CSV field; undecodable bytes become underscores."""
    text = unicodedata.normalize("NFC", raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
    text = "".join(ch if ch.isalnum() or ch in "._-@+" else "_" for ch in text)
    return re.sub(r"_+", "_", text).strip("._-") or "student"


def id_from_filename(name: str, lab: str) -> str:
    """The student id in a flat file's name: Canvas's name and user id, or the name without the lab's."""
    canvas = CANVAS_NAME.match(name)
    if canvas:
        return f"{canvas['name']}_{canvas['user']}"
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    without_lab = re.sub(re.escape(lab), "", stem, flags=re.IGNORECASE).strip(" _-.")
    return without_lab or stem


def safe_parts(member: str) -> list[str]:
    return [part for part in PurePosixPath(member.replace("\\", "/")).parts if part not in ("", ".", "..", "/")]


def extract_zip(archive: Path, target: Path) -> tuple[int, list[str]]:
    """Extract the notebooks and zips of an archive (other files empty); return the member count and other names."""
    with zipfile.ZipFile(archive) as opened:
        members = [m for m in opened.infolist() if not m.is_dir()]
        others = []
        for member in members:
            parts = safe_parts(member.filename)
            if not parts or any(IGNORED.match(part) for part in parts):
                continue
            destination = target.joinpath(*parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            if parts[-1].lower().endswith((".ipynb", ".zip")) and member.file_size <= MAX_MEMBER_BYTES:
                destination.write_bytes(opened.read(member))
            else:
                others.append(parts[-1])
                destination.touch()  # its name still tells whose it is and what was handed in
    return len(members), others


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


class Collector:
    """Gathers candidate files per student, then picks each student's notebook."""

    def __init__(self, lab: str, staging: Path):
        self.lab = lab
        self.staging = staging
        self.files: dict[str, list[Path]] = {}

    def add_entry(self, entry: Path) -> None:
        if entry.is_dir():
            student = clean_id(MOODLE_SUFFIX.sub("", entry.name))
            files = [p for p in sorted(entry.rglob("*")) if p.is_file() and not any(IGNORED.match(x) for x in p.parts)]
        else:
            student = clean_id(id_from_filename(entry.name, self.lab))
            files = [entry]
        self.files.setdefault(student, []).extend(files)

    def submission(self, student: str) -> Submission:
        notebooks, others, problems = [], [], []
        for path in self.files[student]:
            if path.suffix.lower() == ".ipynb":
                notebooks.append(path)
            elif path.suffix.lower() == ".zip":
                found, problem = self.open_student_zip(student, path)
                notebooks += found
                problems += [problem] if problem else []
            else:
                others.append(path.name)
        if not notebooks:
            found = f" (found: {', '.join(sorted(others)[:5])})" if others else ""
            return Submission(student, problem="; ".join(problems) or f"no notebook in the submission{found}")
        chosen = self.pick(notebooks)
        note = "" if chosen.stem.lower() == self.lab.lower() else f"graded the notebook named {chosen.name!r}"
        if len(notebooks) > 1:
            note = f"{len(notebooks)} notebooks submitted, graded {chosen.name!r}"
        return Submission(student, notebook=chosen, note=note)

    def open_student_zip(self, student: str, archive: Path) -> tuple[list[Path], str | None]:
        target = self.staging / "students" / student / archive.stem
        try:
            count, others = extract_zip(archive, target)
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            return [], f"unreadable zip archive {archive.name!r} ({error})"
        if count == 0:
            return [], f"empty zip archive {archive.name!r}"
        found = sorted(p for p in target.rglob("*.ipynb") if p.is_file())
        return found, None if found else f"no notebook in zip archive {archive.name!r} (found: {', '.join(others[:5])})"

    def pick(self, notebooks: list[Path]) -> Path:
        """The lab's own name first, then a name that contains it, then the newest."""
        lab = self.lab.lower()
        return min(notebooks, key=lambda p: (p.stem.lower() != lab, lab not in p.stem.lower(), -p.stat().st_mtime, p.name))


def discover(path: Path, lab: str, staging: Path) -> list[Submission]:
    """One Submission per student found at ``path`` (a folder or a zip), sorted by student id."""
    if path.is_file():
        root = staging / "class"
        root.mkdir(parents=True, exist_ok=True)
        extract_zip(path, root)
    else:
        root = path
    collector = Collector(lab, staging)
    for entry in visible_children(unwrap(root)):
        collector.add_entry(entry)
    return [collector.submission(student) for student in sorted(collector.files)]
