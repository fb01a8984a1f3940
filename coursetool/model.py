"""What a parsed lab is made of: cells split into parts that each target renders its own way."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Union


@dataclass
class Text:
    """Lines every target keeps as they are."""

    lines: list[str]


@dataclass
class Solution:
    """A code solution region: the solution's lines and the hints the student sees instead."""

    lines: list[str]
    hints: list[str]  # full comment lines, already indented
    line: int  # file line of its HWBEGIN


@dataclass
class Hidden:
    """Hidden test lines: only the autograder has them."""

    lines: list[str]


@dataclass
class PointsTable:
    """Where the table of exercises and points goes."""


Part = Union[Text, Solution, Hidden, PointsTable]


@dataclass
class Probe:
    """A hidden check judged outside the student's process: an expression, what a failure tells the student."""

    expression: str
    message: str
    atol: float
    rtol: float
    line: int
    fixed: bool = False  # its value is the requirement itself (a structure, an error, a goal met): the same under any seed


@dataclass
class Grade:
    """What makes a cell graded: its id and points."""

    grade_id: str
    points: float


@dataclass
class Cell:
    """A cell of the lab, as every target sees it before rendering."""

    kind: str  # "code" or "markdown"
    line: int  # file line of the cell's first source line
    parts: list[Part]
    exercise: str | None = None  # e.g. "Exercise 1.2", the nearest exercise heading above
    grade: Grade | None = None  # test cell (code) or written answer (markdown)
    answer: bool = False  # a markdown solution region: the student gets an answer cell
    skip_blank: bool = False  # SKIPQUESTEXEC
    probes: list[Probe] = field(default_factory=list)  # #!PROBE lines of a test cell

    @property
    def is_test(self) -> bool:
        return self.kind == "code" and self.grade is not None

    @property
    def has_solution(self) -> bool:
        return any(isinstance(p, Solution) for p in self.parts)


@dataclass
class Exercise:
    """An exercise heading and the points of the graded cells under it."""

    title: str  # heading text without the leading #s
    label: str  # "Exercise 1.2"
    points: float = 0.0


@dataclass
class Lab:
    """One parsed lab source."""

    name: str
    path: Path
    cells: list[Cell]
    exercises: list[Exercise] = field(default_factory=list)

    @property
    def total_points(self) -> float:
        return sum(e.points for e in self.exercises)
