"""Solution code, hidden tests and probes found in built files: what a student page must never hold.

What counts as secret is read from the parsed lab, as the build's own check reads it: every
line of a code solution region, every hidden test line, every line of a written answer's model
solution, and every probe expression. A secret that the release notebook itself shows (a line
such as ``return h`` that a student also has elsewhere) cannot leak and is left out. Built files
are searched as text: HTML with its tags removed (code highlighted token by token reads whole
again) and entities decoded; prose compares word by word, so markdown emphasis changes nothing.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from coursetool.build import build_files, parse_course
from coursetool.model import Hidden, Lab, Solution, Text

WORD = re.compile(r"\w+")
MIN_CODE_CHARS = 6  # shorter lines (`x = 1`, `)`) say nothing of a solution
MIN_PROSE_WORDS = 6
SKIPPED_FOLDERS = ("_static",)  # the theme's and MathJax's own files, copied from installed packages
TEXT_SUFFIXES = (".html", ".js", ".txt", ".ipynb", ".json", ".md", ".inv")


@dataclass(frozen=True)
class Secret:
    """One thing a student page must not show."""

    lab: str
    kind: str  # "solution", "hidden test", "answer" or "probe"
    text: str
    line: int  # where it is in the source

    @property
    def is_prose(self) -> bool:
        return self.kind == "answer"


@dataclass(frozen=True)
class Leak:
    """A secret found in a built file."""

    path: Path
    secret: Secret

    def __str__(self) -> str:
        s = self.secret
        return f"{self.path}: {s.kind} of {s.lab} ({s.lab}.md:{s.line}): {s.text!r}"


class TextOfHtml(HTMLParser):
    """The text of an HTML page, scripts and styles included (a search index lives in a script),
    and apart from it the values of its attributes (titles, alternative texts)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.attributes: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes.extend(value for _, value in attrs if value)


def html_text(markup: str) -> str:
    """The text of a page as a reader sees it (highlighted code reads whole), then its attribute values."""
    parser = TextOfHtml()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts) + "\n" + "\n".join(parser.attributes)


def words(text: str) -> str:
    """The words of a text, one space between them: what prose comparisons look at."""
    return " ".join(WORD.findall(text))


def contains_words(haystack_words: str, text: str) -> bool:
    """Whether the words of ``text`` occur, in order and whole, in ``haystack_words`` (made by ``words``)."""
    return f" {words(text)} " in f" {haystack_words} "


def raw_secrets(lab: Lab) -> list[Secret]:
    """Every solution, hidden, answer and probe line of a lab, before filtering."""
    found: list[Secret] = []
    for cell in lab.cells:
        for part in cell.parts:
            if isinstance(part, Solution):
                found += [Secret(lab.name, "solution", line.strip(), part.line) for line in part.lines]
            elif isinstance(part, Hidden):
                found += [Secret(lab.name, "hidden test", line.strip(), cell.line) for line in part.lines]
            elif isinstance(part, Text) and cell.answer:
                found += [Secret(lab.name, "answer", line.strip(), cell.line) for line in part.lines]
        found += [Secret(lab.name, "probe", probe.expression.strip(), probe.line) for probe in cell.probes]
    return found


def telling(secret: Secret) -> bool:
    """Whether a secret is long enough to say something (short lines and punctuation do not)."""
    if secret.is_prose:
        return len(WORD.findall(secret.text)) >= MIN_PROSE_WORDS
    return len(secret.text) >= MIN_CODE_CHARS and bool(WORD.search(secret.text))


def lab_secrets(lab: Lab, release_text: str) -> list[Secret]:
    """The lab's secrets that ``release_text`` (what students are given) does not show anyway."""
    release_words = words(release_text)
    kept = []
    for secret in raw_secrets(lab):
        shown = contains_words(release_words, secret.text) if secret.is_prose else secret.text in release_text
        if telling(secret) and not shown and secret not in kept:
            kept.append(secret)
    return kept


def course_secrets(source_dir: Path) -> list[Secret]:
    """The secrets of every lab of the course that no release notebook of the course shows.

    Every release notebook is public, so a line that one lab gives students (``optimizer.step()``)
    is no secret of another lab that asks for it.
    """
    files = build_files(source_dir)
    public = "\n".join(notebook_text(data.decode()) for name, data in sorted(files.items())
                       if name.startswith("release/"))
    secrets: list[Secret] = []
    for lab in parse_course(source_dir):
        secrets += lab_secrets(lab, public)
    return secrets


def notebook_text(raw: str) -> str:
    """A notebook file's text, with its cells' sources also joined as they read in the notebook."""
    import nbformat

    try:
        notebook = nbformat.reads(raw, as_version=4)
    except Exception:  # noqa: BLE001 - not a notebook after all: its text is all there is
        return raw
    return raw + "\n" + "\n".join(cell.source for cell in notebook.cells)


def file_text(path: Path) -> str:
    """A built file as searchable text."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        return html_text(raw) + "\n" + html.unescape(raw)
    if path.suffix == ".ipynb":
        return notebook_text(raw)
    return raw


def built_files(folder: Path) -> list[Path]:
    """The text files of a built site, the packages' own static files left out."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES
                  and not any(part in SKIPPED_FOLDERS for part in p.relative_to(folder).parts))


def leaks_in(text: str, path: Path, secrets: list[Secret]) -> list[Leak]:
    """The secrets that occur in one file's text."""
    text_words = words(text)
    return [Leak(path, s) for s in secrets
            if (contains_words(text_words, s.text) if s.is_prose else s.text in text)]


def find_leaks(source_dir: Path, folder: Path, secrets: list[Secret] | None = None) -> list[Leak]:
    """Every secret of the course found in any built file under ``folder``."""
    secrets = course_secrets(source_dir) if secrets is None else secrets
    leaks: list[Leak] = []
    for path in built_files(folder):
        leaks += leaks_in(file_text(path), path, secrets)
    return leaks
