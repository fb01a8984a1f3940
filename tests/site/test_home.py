"""The home page says what the sources say: titles, summaries, learning goals, times and points."""
from pathlib import Path

import nbformat

from coursetool.build import build_files, parse_course
from coursetool.config import load_config
from coursetool.site.course import summarise
from coursetool.site.home import home_markdown
from coursetool.site.leaks import contains_words, words

from tests.site.smallcourse import small_course_text, write_small_course

SOURCE = Path(__file__).resolve().parents[2] / "source"


def test_every_lab_of_the_course_has_its_goals_time_and_points_read_from_its_source():
    labs = parse_course(SOURCE)
    files = build_files(SOURCE)
    config = load_config(SOURCE)
    assert len(labs) == 5
    for lab in labs:
        summary = summarise(lab, config)
        source_words = words(lab.path.read_text(encoding="utf-8"))
        release = nbformat.reads(files[f"release/{lab.name}.ipynb"].decode(), as_version=4)
        assert f"# {summary.title}" in release.cells[2].source, lab.name
        assert len(summary.goals) >= 4, f"{lab.name}: learning goals not found"
        assert summary.time and contains_words(source_words, summary.time), f"{lab.name}: estimated time not found"
        assert summary.summary and contains_words(source_words, summary.summary)
        for goal in summary.goals:
            assert contains_words(source_words, goal), f"{lab.name}: {goal!r} is not in the source"
        assert summary.points == lab.total_points > 0
        assert [row.title for row in summary.exercises] == [e.title for e in lab.exercises if e.points]
        assert summary.colab_url == config.colab_url(lab.name)


def test_home_page_follows_an_edited_source(tmp_path):
    course = write_small_course(tmp_path / "course")
    first = home_markdown("A course", [summarise(lab, load_config(course)) for lab in parse_course(course)],
                          load_config(course))
    assert "- square a number and check it;" in first and "about 5 minutes" in first
    assert "[Lab 0: A tiny lab](labs/tiny.ipynb)" in first and "| Question 0.3: Why squares? | 1.5 |" in first
    assert "https://colab.research.google.com/github/example/tiny-course/blob/v1/release/tiny.ipynb" in first
    assert "git clone --branch v1 https://github.com/example/tiny-course.git" in first

    edited = small_course_text().replace("square a number and check it", "square numbers quickly")
    edited = edited.replace("about 5 minutes", "half an hour").replace("points=2", "points=3")
    (course / "tiny.md").write_text(edited, encoding="utf-8")
    second = home_markdown("A course", [summarise(lab, load_config(course)) for lab in parse_course(course)],
                           load_config(course))
    assert "- square numbers quickly;" in second and "half an hour" in second
    assert "| Exercise 0.1: Squares | 3 |" in second and "worth 5.5 points" in second
