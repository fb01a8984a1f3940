"""grades.csv and the class report (score histogram, failure rate of each test)."""
from __future__ import annotations

import base64
import csv
import html
import io
import statistics
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from coursetool.grade.atomic import write_atomically
from coursetool.grade.lab import AutograderLab
from coursetool.grade.intake.late import format_time
from coursetool.grade.result import Status

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class Row:
    """One student's line of grades.csv: the total is after the late penalty."""

    student: str
    scores: dict[str, float | None]
    status: Status
    reason: str
    submitted: datetime | None = None
    late_penalty: float = 0.0
    flags: tuple[str, ...] = ()  # lines of the student's code that reach for kernel or grader internals

    @property
    def total(self) -> float:
        return sum(score for score in self.scores.values() if score is not None) - self.late_penalty


def csv_number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def grades_csv(lab: AutograderLab, rows: list[Row]) -> bytes:
    """One row per student: id, points per graded cell (blank: awaiting manual grading), submission time,
    late penalty, total after it, status, reason."""
    graded = [c.grade_id for c in lab.tests + lab.answers]
    maximum = sum(c.points for c in lab.tests + lab.answers)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student_id", *graded, "submitted", "late_penalty", "total", "max", "status", "reason"])
    for row in sorted(rows, key=lambda r: r.student):
        writer.writerow([row.student, *(csv_number(row.scores.get(g)) for g in graded), format_time(row.submitted),
                         csv_number(row.late_penalty), csv_number(row.total), csv_number(maximum),
                         row.status.value, row.reason])
    return buffer.getvalue().encode("utf-8")


def failure_rates(lab: AutograderLab, rows: list[Row]) -> dict[str, float]:
    """Share of students who did not get a test cell's points."""
    if not rows:
        return {t.grade_id: 0.0 for t in lab.tests}
    return {t.grade_id: sum(1 for r in rows if (r.scores.get(t.grade_id) or 0) < t.points) / len(rows) for t in lab.tests}


def report_figure(lab: AutograderLab, rows: list[Row]) -> "Figure":
    """Histogram of totals, and failure rate per test cell."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rates = failure_rates(lab, rows)
    figure = Figure(figsize=(11, 4.5), layout="constrained")
    scores, failures = figure.subplots(1, 2, width_ratios=[1, 1.4])
    maximum = sum(c.points for c in lab.tests + lab.answers)
    scores.hist([r.total for r in rows], bins=min(20, max(5, int(maximum) + 1)), range=(0, maximum or 1), color="#4477aa")
    scores.set(title=f"{lab.name}: total scores ({len(rows)} students)", xlabel="points", ylabel="students")
    scores.yaxis.set_major_locator(MaxNLocator(integer=True))  # students come whole
    failures.barh(list(rates), [100 * v for v in rates.values()], color="#cc6677")
    failures.invert_yaxis()
    failures.set(title="students failing each test", xlabel="% of students", xlim=(0, 100))
    return figure


def figure_png(figure: "Figure") -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def report_html(lab: AutograderLab, rows: list[Row], figure_png: bytes, sections: str = "") -> bytes:
    """A self-contained page: summary, the figure, the failure rates, the rows that need a look, then ``sections``."""
    totals = [r.total for r in rows]
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[row.status.value] = statuses.get(row.status.value, 0) + 1
    summary = (f"{len(rows)} submissions; mean {statistics.fmean(totals):.2f}, median {statistics.median(totals):g}"
               if rows else "no submissions")
    rates = "".join(f"<tr><td>{html.escape(k)}</td><td>{100 * v:.0f}%</td></tr>" for k, v in failure_rates(lab, rows).items())
    flagged = "".join(f"<tr><td>{html.escape(r.student)}</td><td>{html.escape(r.status.value)}</td><td>{html.escape(r.reason)}</td>"
                      f"<td><code>{'<br>'.join(html.escape(flag) for flag in r.flags)}</code></td></tr>"
                      for r in sorted(rows, key=lambda r: r.student) if r.status is not Status.GRADED or r.reason or r.flags)
    status_text = ", ".join(f"{html.escape(k)}: {v}" for k, v in sorted(statuses.items()))
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(lab.name)}: class report</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto}}td,th{{padding:.2em .8em;text-align:left}}</style></head>
<body><h1>{html.escape(lab.name)}: class report</h1>
<p>{summary}. Status: {status_text}.</p>
<img alt="score histogram and failure rates" src="data:image/png;base64,{base64.b64encode(figure_png).decode()}">
<h2>Failure rate per test</h2><table><tr><th>test</th><th>failed</th></tr>{rates}</table>
<h2>Submissions to look at</h2><table><tr><th>student</th><th>status</th><th>reason</th><th>code that reaches for kernel or grader internals</th></tr>{flagged}</table>
{sections}</body></html>
"""
    return page.encode("utf-8")


def write_reports(lab: AutograderLab, rows: list[Row], results_dir: Path, sections: str = "") -> None:
    """grades.csv, report.png and report.html (``sections``: more HTML at the end of the page)."""
    write_atomically(results_dir / "grades.csv", grades_csv(lab, rows))
    figure = figure_png(report_figure(lab, rows))
    write_atomically(results_dir / "report.png", figure)
    write_atomically(results_dir / "report.html", report_html(lab, rows, figure, sections))
