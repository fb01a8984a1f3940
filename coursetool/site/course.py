"""What the home page says about each lab, read from the parsed source (never typed twice).

A lab's opening markdown cell holds its title (``# Lab 1: ...``), a first paragraph saying
what the lab is about, a ``Learning goals`` list and an ``Estimated time`` line; the labs write
the last two either plain (``Learning goals:``) or bold (``**Learning goals**``). Points come
from the graded cells, as in the notebooks' own points table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from coursetool.config import CourseConfig
from coursetool.model import Lab, PointsTable, Text

TITLE = re.compile(r"^#\s+(?P<title>\S.*?)\s*$")
GOALS = re.compile(r"^\**\s*learning goals\s*:?\s*\**\s*:?\s*$", re.IGNORECASE)
TIME = re.compile(r"^\**\s*estimated time\s*:?\s*\**\s*:?\s*(?P<time>.+?)\s*$", re.IGNORECASE)
BULLET = re.compile(r"^[-*]\s+(?P<item>.*)$")


@dataclass(frozen=True)
class ExerciseRow:
    """An exercise or question of a lab and its points."""

    title: str
    points: float


@dataclass(frozen=True)
class LabSummary:
    """One lab as the home page lists it."""

    name: str
    title: str
    summary: str  # the first paragraph after the title, markdown
    goals: list[str] = field(default_factory=list)  # markdown, one item each
    time: str = ""  # e.g. "about 2 hours."
    points: float = 0.0
    exercises: list[ExerciseRow] = field(default_factory=list)
    colab_url: str = ""


def opening_lines(lab: Lab) -> list[str]:
    """The lines of the lab's markdown cells before its first code cell, points table left out."""
    lines: list[str] = []
    for cell in lab.cells:
        if cell.kind == "code":
            break
        for part in cell.parts:
            if isinstance(part, Text):
                lines += part.lines
            elif isinstance(part, PointsTable):
                lines.append("")
        lines.append("")
    return lines


def paragraphs(lines: list[str]) -> list[list[str]]:
    """Blank-line separated blocks of lines."""
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [block for block in blocks if block]


def list_items(lines: list[str]) -> list[str]:
    """The items of a markdown bullet list, continuation lines joined to their item."""
    items: list[str] = []
    for line in lines:
        bullet = BULLET.match(line.strip())
        if bullet:
            items.append(bullet["item"].strip())
        elif items and line.startswith((" ", "\t")):
            items[-1] += " " + line.strip()
        else:
            break
    return items


def read_opening(lines: list[str]) -> tuple[str, str, list[str], str]:
    """Title, first paragraph, learning goals and estimated time of a lab's opening lines."""
    title, summary, goals, time = "", "", [], ""
    blocks = paragraphs(lines)
    for index, block in enumerate(blocks):
        first = block[0].strip()
        if not title and TITLE.match(first):
            title = TITLE.match(first)["title"]
            rest = block[1:]
            if rest:
                summary = summary or " ".join(line.strip() for line in rest)
            continue
        if GOALS.match(first):
            items = list_items(block[1:]) or (list_items(blocks[index + 1]) if index + 1 < len(blocks) else [])
            goals = goals or items
        elif TIME.match(first):
            time = time or TIME.match(first)["time"].strip("* ").rstrip(".")
        elif title and not summary and not BULLET.match(first):
            summary = " ".join(line.strip() for line in block)
    return title, summary, goals, time


def summarise(lab: Lab, config: CourseConfig) -> LabSummary:
    """The home page's view of one parsed lab."""
    title, summary, goals, time = read_opening(opening_lines(lab))
    rows = [ExerciseRow(e.title, e.points) for e in lab.exercises if e.points]
    return LabSummary(name=lab.name, title=title or lab.name, summary=summary, goals=goals, time=time,
                      points=lab.total_points, exercises=rows, colab_url=config.colab_url(lab.name))
