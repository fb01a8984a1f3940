"""Similar submissions in a class of lab 1: every planted copy flagged, nothing else; no kernel runs."""
from __future__ import annotations

import csv
from pathlib import Path

import nbformat
import pytest

from coursetool.grade.course import similarity
from coursetool.grade.lab import AutograderLab
from corpora import lab1_class as klass


@pytest.fixture(scope="module")
def lab() -> AutograderLab:
    return AutograderLab(klass.LAB, klass.AUTOGRADER_SOURCE)


@pytest.fixture(scope="module")
def analysis(lab: AutograderLab, tmp_path_factory: pytest.TempPathFactory) -> similarity.Analysis:
    return similarity.analyse(lab, klass.write_class(tmp_path_factory.mktemp("class")), klass.RELEASE)


def flagged_pairs(analysis: similarity.Analysis) -> set[frozenset[str]]:
    return {frozenset((p.student_a, p.student_b)) for p in analysis.flagged}


def test_every_planted_pair_is_flagged_and_no_other(analysis):
    assert flagged_pairs(analysis) == klass.PLANTED


def test_independent_work_stays_far_below_the_threshold(analysis):
    others = [p for p in analysis.pairs if frozenset((p.student_a, p.student_b)) not in klass.PLANTED]
    assert all(p.similarity < similarity.THRESHOLD / 2 for p in others), others


def test_blank_notebooks_leave_nothing_and_never_pair(analysis):
    assert analysis.works["blank"].chunks == []
    assert sum(len(c.text) for c in analysis.works["nearly-blank"].chunks) < 40
    assert not [p for p in analysis.pairs if {"blank", "nearly-blank"} & {p.student_a, p.student_b}]


def test_a_two_exercise_copy_names_its_exercises(analysis):
    pair = next(p for p in analysis.pairs if {p.student_a, p.student_b} == {"amara", "dmitri"})
    assert pair.cells == ("Exercise 1.6", "Exercise 1.8")


def test_the_solution_key_is_compared_and_comes_second(analysis):
    pair = next(p for p in analysis.pairs if "SOLUTION" in (p.student_a, p.student_b))
    assert (pair.student_a, pair.student_b, pair.flagged) == ("key-copy", "SOLUTION", True)


def test_csv_header_and_order(analysis):
    rows = list(csv.reader(similarity.similarity_csv(analysis.pairs).decode().splitlines()))
    assert rows[0] == ["student_a", "student_b", "similarity", "flagged", "cells"]
    scores = [float(row[2]) for row in rows[1:]]
    assert scores == sorted(scores, reverse=True) and min(scores) >= similarity.FLOOR
    assert {row[3] for row in rows[1:]} <= {"yes", "no"}


def test_report_shows_pairs_side_by_side_with_the_overlap_marked(analysis):
    section = similarity.report_section(analysis)
    assert "Similar submissions" in section and "<mark>" in section
    assert "not proof" in section
    assert "amara and renamed-amara" in section


def test_what_a_student_wrote_drops_the_starter_code(lab):
    nb = klass.notebook({"solution-3": klass.AMARA["solution-3"]})
    labels, starter = similarity.exercise_labels(lab), similarity.release_code(lab, klass.RELEASE)
    work = similarity.written_work(lab, nb, "x", labels, similarity.released_lines(starter))
    assert [c.exercise for c in work.chunks] == ["Exercise 1.4"]
    assert "Squared error between" not in work.chunks[0].text and "images, _ = batch" in work.chunks[0].text


def test_earlier_years_are_compared_with_this_class_not_with_each_other(lab, tmp_path):
    paths = klass.write_class(tmp_path / "now")
    current = {name: paths[name] for name in ("ben", "chloe")}
    earlier = {"2025:amara": paths["amara"], "2025:renamed-amara": paths["renamed-amara"],
               "2025:ben-again": paths["reworded-ben"]}
    found = similarity.analyse(lab, current, klass.RELEASE, earlier)
    assert flagged_pairs(found) == {frozenset(("ben", "2025:ben-again"))}


def test_another_labs_notebook_is_skipped(lab, tmp_path):
    other = Path(__file__).resolve().parents[2] / "release" / "lab4_elbo.ipynb"
    found = similarity.analyse(lab, {"lost": other}, klass.RELEASE)
    assert "lost" in found.skipped and not found.pairs


def test_a_small_class_that_all_handed_in_the_key_pairs_each_copy_with_it(lab, tmp_path):
    key = klass.key_solutions()
    copies = {f"copy-{i}": klass.notebook({grade_id: klass.rename(code, {"x": f"inputs_{i}"})
                                           for grade_id, code in key.items()}) for i in range(3)}
    paths = {}
    for student, nb in copies.items():
        paths[student] = tmp_path / student / f"{klass.LAB}.ipynb"
        paths[student].parent.mkdir()
        nbformat.write(nb, paths[student])
    found = similarity.analyse(lab, paths, klass.RELEASE)
    assert {frozenset((name, "SOLUTION")) for name in copies} <= flagged_pairs(found)
