"""Parse a Jupytext markdown lab into cells and parts, collecting every tag error on the way."""
from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import jupytext

from coursetool.errors import SourceError
from coursetool.model import Cell, Exercise, Grade, Hidden, Lab, Part, PointsTable, Probe, Solution, Text

TAG_NAMES = ("HWBEGIN", "HWEND", "SKIPQUESTEXEC", "TEST", "HIDDENBEGIN", "HIDDENEND", "POINTS")
FIRST_LINE_TAGS = ("SKIPQUESTEXEC", "TEST")
INSTRUCTION = re.compile(r"^(?P<indent>\s*)#!(?P<word>[A-Za-z]\w*)(?P<rest>.*)$")
INLINE_INSTRUCTION = re.compile(r"\S.*?#!\s*(TAG|MSG)\b", re.IGNORECASE)
EXERCISE_HEADING = re.compile(r"^#{1,6}\s+(?P<title>(?P<label>(?:Exercise|Question)\s+\d+(?:\.\d+)*)\b.*?)\s*$")
TYPED_POINTS = re.compile(r"\(\s*\d+(?:\.\d+)?\s*points?\s*\)", re.IGNORECASE)
GRADE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
PROBE_OPTIONS = re.compile(r"^\s*\[(?P<options>[^\]]*)\]")
PROBE_TOLERANCES = {"atol": 1e-6, "rtol": 1e-4}


def is_probe_option(word: str) -> bool:
    """``fixed``, or ``atol=``/``rtol=`` with a value: a word of a probe's options bracket."""
    key, equals, _ = word.partition("=")
    return word == "fixed" or (key in PROBE_TOLERANCES and equals == "=")


def probe_tree(body: str) -> ast.Tuple | None:
    """The parsed ``expression, "message"`` of a probe, or None where it is not one."""
    try:
        tree = ast.parse(body.strip(), mode="eval").body
    except SyntaxError:
        return None
    if (isinstance(tree, ast.Tuple) and len(tree.elts) == 2 and isinstance(tree.elts[1], ast.Constant)
            and isinstance(tree.elts[1].value, str) and tree.elts[1].value.strip()):
        return tree
    return None


@dataclass
class Instruction:
    """A `#!TAG NAME key=value ...` or `#!MSG text` line."""

    name: str  # a tag name, or "MSG"
    args: dict[str, str]
    text: str  # the message of a MSG line
    indent: str
    line: int


class SourceParser:
    """Parses one source file; errors accumulate in ``self.errors``."""

    def __init__(self, path: Path):
        self.path = path
        self.errors: list[SourceError] = []
        self.exercises: list[Exercise] = []
        self.current_exercise: str | None = None

    def error(self, line: int, what: str, hint: str) -> None:
        self.errors.append(SourceError(self.path, line, what, hint))

    # -- files and cells ------------------------------------------------------------------

    def parse(self) -> Lab:
        text = self.path.read_text(encoding="utf-8")
        notebook = jupytext.reads(text, fmt="md")
        cells: list[Cell] = []
        for nb_cell, start in zip(notebook.cells, cell_start_lines(text, notebook.cells)):
            lines = nb_cell.source.split("\n")
            if nb_cell.cell_type == "code":
                cells.append(self.parse_code_cell(lines, start))
            elif nb_cell.cell_type == "markdown":
                cells.extend(self.parse_markdown_cell(lines, start))
        lab = Lab(name=self.path.stem, path=self.path, cells=cells, exercises=self.exercises)
        self.check_grades(lab)
        return lab

    def parse_code_cell(self, lines: list[str], start: int) -> Cell:
        cell = Cell(kind="code", line=start, parts=[], exercise=self.current_exercise)
        region: Solution | Hidden | None = None
        text: list[str] = []
        for offset, source_line in enumerate(lines):
            line = start + offset
            ins = self.read_instruction(source_line, line)
            if ins is None:
                (region.lines if region is not None else text).append(source_line)
                continue
            if ins.name in FIRST_LINE_TAGS:
                self.first_line_tag(cell, ins, offset)
            elif ins.name == "HWBEGIN":
                region = self.open_region(cell, region, ins, text, Solution([], [], line))
                text = []
            elif ins.name == "HIDDENBEGIN":
                if not cell.is_test:
                    self.error(line, "hidden tests outside a test cell",
                               "put them in a cell whose first line is #!TAG TEST id=... points=...")
                region = self.open_region(cell, region, ins, text, Hidden([]))
                text = []
            elif ins.name in ("HWEND", "HIDDENEND"):
                region = self.close_region(cell, region, ins)
            elif ins.name == "PROBE":
                self.add_probe(cell, ins)
            elif ins.name == "MSG":
                if isinstance(region, Solution):
                    region.hints.append(f"{ins.indent}# {ins.text}".rstrip())
                else:
                    self.error(line, "#!MSG outside a solution region",
                               "a hint belongs between #!TAG HWBEGIN and #!TAG HWEND")
            else:
                self.error(line, f"#!TAG {ins.name} in a code cell", "it belongs in a markdown cell")
        if region is not None:
            self.unclosed(region, start)
        if text:
            cell.parts.append(Text(text))
        return cell

    def parse_markdown_cell(self, lines: list[str], start: int) -> list[Cell]:
        """A markdown cell; a solution region in it becomes a cell of its own."""
        cells: list[Cell] = []
        prose = Cell("markdown", start, [], self.current_exercise)
        text: list[str] = []
        answer: Cell | None = None
        for offset, source_line in enumerate(lines):
            line = start + offset
            ins = self.read_instruction(source_line, line)
            if ins is None:
                if answer is not None:
                    answer.parts[0].lines.append(source_line)
                    continue
                self.note_heading(source_line, line)
                text.append(source_line)
            elif ins.name == "POINTS" and answer is None:
                self.no_args(ins)
                prose.parts += [Text(text), PointsTable()]
                text = []
            elif ins.name == "HWBEGIN":
                if answer is not None:
                    self.region_opened_twice(line, "HWBEGIN")
                    continue
                prose.parts.append(Text(text))
                cells.append(prose)
                answer = Cell("markdown", line + 1, [Text([])], self.current_exercise, answer=True)
                answer.grade = self.answer_grade(ins)
            elif ins.name == "HWEND":
                if answer is None:
                    self.error(line, "#!TAG HWEND without #!TAG HWBEGIN",
                               "open the region with #!TAG HWBEGIN first, or delete this line")
                    continue
                cells.append(answer)
                answer, text = None, []
                prose = Cell("markdown", line + 1, [], self.current_exercise)
            elif ins.name == "MSG":
                self.error(line, "#!MSG in a markdown cell", "hints belong in code solution regions")
            else:
                self.error(line, f"#!TAG {ins.name} in a markdown cell", "it belongs in a code cell")
        if answer is not None:
            self.error(answer.line - 1, "solution region still open at the end of its cell",
                       "close it with #!TAG HWEND before the cell ends")
            cells.append(answer)
        prose.parts.append(Text(text))
        cells.append(prose)
        return [c for c in cells if c.answer or not is_blank(c)]

    # -- instructions -------------------------------------------------------------------------

    def read_instruction(self, source_line: str, line: int) -> Instruction | None:
        """The instruction on this line, or None for an ordinary line (errors are recorded)."""
        match = INSTRUCTION.match(source_line)
        if match is None:
            if INLINE_INSTRUCTION.search(source_line):
                self.error(line, "tag in the middle of a line",
                           "a #!TAG or #!MSG line holds nothing else: move it to a line of its own")
            return None
        word, rest, indent = match["word"], match["rest"], match["indent"]
        if word in ("MSG", "PROBE"):
            return Instruction(word, {}, rest[1:] if rest.startswith(" ") else rest, indent, line)
        if word != "TAG":
            self.error(line, f"unknown instruction #!{word}", f"did you mean {suggest(word, ('TAG', 'MSG', 'PROBE'))}?")
            return None
        fields = rest.split()
        if not fields:
            self.error(line, "#!TAG without a tag name", f"known tags: {', '.join(TAG_NAMES)}")
            return None
        name, *pairs = fields
        if name not in TAG_NAMES:
            self.error(line, f"unknown tag {name}", f"did you mean {suggest(name, TAG_NAMES)}?")
            return None
        args = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not value:
                self.error(line, f"malformed argument '{pair}' of #!TAG {name}", "write key=value, e.g. points=2")
            else:
                args[key] = value
        return Instruction(name, args, "", indent, line)

    def first_line_tag(self, cell: Cell, ins: Instruction, offset: int) -> None:
        if offset != 0:
            self.error(ins.line, f"#!TAG {ins.name} is not on the first line of its cell",
                       "move it to the cell's first line")
        if ins.name == "SKIPQUESTEXEC":
            self.no_args(ins)
            cell.skip_blank = True
            if cell.is_test:
                self.error(ins.line, "a test cell cannot be skipped", "test cells always run")
            return
        cell.grade = self.test_grade(ins)
        if cell.skip_blank:
            self.error(ins.line, "a test cell cannot be skipped", "test cells always run")

    def test_grade(self, ins: Instruction) -> Grade:
        unknown = set(ins.args) - {"id", "points"}
        if unknown:
            self.error(ins.line, f"unknown argument {sorted(unknown)[0]} of #!TAG TEST", "TEST takes id= and points=")
        grade_id = ins.args.get("id", "")
        if not grade_id:
            self.error(ins.line, "test cell without an id", "write #!TAG TEST id=ex1-1-shapes points=2")
        points = self.read_points(ins, "test cell")
        return Grade(grade_id, points)

    def answer_grade(self, ins: Instruction) -> Grade | None:
        unknown = set(ins.args) - {"id", "points"}
        if unknown:
            self.error(ins.line, f"unknown argument {sorted(unknown)[0]} of #!TAG HWBEGIN",
                       "a written answer takes id= and points=")
        if not ins.args:
            return None
        if "id" not in ins.args:
            self.error(ins.line, "written answer without an id", "write #!TAG HWBEGIN id=q1-1 points=2")
        return Grade(ins.args.get("id", ""), self.read_points(ins, "written answer"))

    def read_points(self, ins: Instruction, what: str) -> float:
        raw = ins.args.get("points")
        if raw is None:
            self.error(ins.line, f"{what} without points", "add points=N, e.g. points=2")
            return 0.0
        try:
            points = float(raw)
        except ValueError:
            points = -1.0
        if not points > 0:
            self.error(ins.line, f"points={raw} is not a positive number", "write points=2 or points=0.5")
            return 0.0
        return points

    def add_probe(self, cell: Cell, ins: Instruction) -> None:
        """``#!PROBE [atol=.. rtol=.. fixed] expression, "message"`` in a test cell."""
        if not cell.is_test:
            self.error(ins.line, "#!PROBE outside a test cell",
                       "put it in a cell whose first line is #!TAG TEST id=... points=...")
            return
        tolerances, body, fixed = dict(PROBE_TOLERANCES), ins.text, False
        options = PROBE_OPTIONS.match(body)
        if options and probe_tree(body) and not all(map(is_probe_option, options["options"].split())):
            options = None  # `[x for x in xs], "..."` is an expression, not options
        if options:
            body = body[options.end():]
            for pair in options["options"].split():
                if pair == "fixed":
                    fixed = True
                    continue
                key, _, value = pair.partition("=")
                try:
                    if key not in tolerances:
                        raise ValueError
                    tolerances[key] = float(value)
                except ValueError:
                    self.error(ins.line, f"bad probe option '{pair}'", "write [atol=1e-6 rtol=1e-4] or [fixed]")
        tree = probe_tree(body)
        if tree is None:
            self.error(ins.line, "a probe is an expression and a message",
                       'write #!PROBE gaussian_kl(mu, logvar), "ex 3.2: wrong KL for a wide Gaussian"')
            return
        expression = ast.get_source_segment(body.strip(), tree.elts[0])
        cell.probes.append(Probe(expression, tree.elts[1].value, tolerances["atol"], tolerances["rtol"], ins.line, fixed))

    def no_args(self, ins: Instruction) -> None:
        if ins.args:
            self.error(ins.line, f"#!TAG {ins.name} takes no arguments", "remove what follows the tag name")

    # -- regions --------------------------------------------------------------------------------

    def open_region(self, cell: Cell, region: Part | None, ins: Instruction, text: list[str],
                    new: Solution | Hidden) -> Part | None:
        self.no_args(ins)
        if region is not None:
            self.region_opened_twice(ins.line, ins.name)
            return region
        if isinstance(new, Solution) and cell.is_test:
            self.error(ins.line, "solution region inside a test cell", "test cells hold tests only")
        if text:
            cell.parts.append(Text(text))
        cell.parts.append(new)
        return new

    def close_region(self, cell: Cell, region: Part | None, ins: Instruction) -> Part | None:
        self.no_args(ins)
        opener = "HWBEGIN" if ins.name == "HWEND" else "HIDDENBEGIN"
        expected = Solution if ins.name == "HWEND" else Hidden
        if not isinstance(region, expected):
            self.error(ins.line, f"#!TAG {ins.name} without #!TAG {opener}",
                       f"open the region with #!TAG {opener} first, or delete this line")
            return region
        return None

    def region_opened_twice(self, line: int, name: str) -> None:
        closer = "HWEND" if name == "HWBEGIN" else "HIDDENEND"
        self.error(line, f"#!TAG {name} inside a region that is already open",
                   f"did you mean #!TAG {closer}? A region must be closed before another opens")

    def unclosed(self, region: Part, cell_start: int) -> None:
        line = region.line if isinstance(region, Solution) else cell_start
        self.error(line, "region still open at the end of its cell",
                   "close it with #!TAG HWEND (or HIDDENEND) before the cell ends")

    # -- exercises and grades -------------------------------------------------------------------------

    def note_heading(self, source_line: str, line: int) -> None:
        match = EXERCISE_HEADING.match(source_line)
        if match is None:
            return
        if TYPED_POINTS.search(match["title"]):
            self.error(line, "points typed into an exercise heading",
                       "remove them: the build adds the sum of the graded cells below the heading")
        label = " ".join(match["label"].split())
        if any(e.label == label for e in self.exercises):
            self.error(line, f"{label} appears twice", "number every exercise once")
        self.exercises.append(Exercise(title=match["title"], label=label))
        self.current_exercise = label

    def check_grades(self, lab: Lab) -> None:
        seen: dict[str, int] = {}
        points = {e.label: 0.0 for e in lab.exercises}
        for cell in lab.cells:
            if cell.grade is None:
                continue
            grade_id = cell.grade.grade_id
            if grade_id and not GRADE_ID.match(grade_id):
                self.error(cell.line, f"id '{grade_id}' has characters ids may not use",
                           "use lowercase letters, digits, - and _")
            if grade_id in seen:
                self.error(cell.line, f"duplicate id '{grade_id}'", f"it is already used at line {seen[grade_id]}")
            seen.setdefault(grade_id, cell.line)
            if cell.exercise is None:
                self.error(cell.line, "graded cell outside any exercise",
                           "put it under a heading such as '## Exercise 1.2: ...'")
            else:
                points[cell.exercise] += cell.grade.points
        for exercise in lab.exercises:
            exercise.points = points[exercise.label]


def is_blank(cell: Cell) -> bool:
    return all(isinstance(p, Text) and not "".join(p.lines).strip() for p in cell.parts)


def suggest(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word.upper(), choices, n=1, cutoff=0.3)
    return close[0] if close else " or ".join(choices)


def cell_start_lines(text: str, cells: list) -> list[int]:
    """The 1-based file line where each cell's source starts (sources are kept verbatim)."""
    starts = []
    position = 0
    for cell in cells:
        found = text.find(cell.source, position) if cell.source else -1
        if found < 0:
            starts.append(text.count("\n", 0, position) + 1)
            continue
        starts.append(text.count("\n", 0, found) + 1)
        position = found + len(cell.source)
    return starts


def parse_lab(path: Path) -> tuple[Lab, list[SourceError]]:
    """Parse one source; the lab is only usable when the error list is empty."""
    parser = SourceParser(path)
    lab = parser.parse()
    return lab, parser.errors
