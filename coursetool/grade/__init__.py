"""Grading a class: ``python -m coursetool grade <submissions> --lab <name>``.

The pipeline follows nbgrader's autograde: restore the instructor's cells, execute, limit the
output, save the grades, render the feedback. Submissions run in parallel, each kernel in a
sandbox; the gradebook is written by one process only.
"""
