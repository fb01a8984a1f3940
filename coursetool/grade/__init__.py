"""Grading a class: ``python -m coursetool grade <submissions> --lab <name>``.

The pipeline follows nbgrader's autograde: restore the instructor's cells, execute, limit the
output, save the grades, render the feedback. Submissions run in parallel, each kernel in a
sandbox; the gradebook is written by one process only.

The subpackages are layers, each importing only those below it (``tests/grader/test_layers.py``):
``command`` (the CLI) > ``course`` (a class as a whole) > ``notebook`` (one notebook graded) >
``intake`` (the submissions, late penalties) and ``kernel`` (a notebook run from a ``RunSpec``,
sealed) > the plain data at the root: ``settings``, ``folders``, ``result``, ``lab``, ``atomic``.
"""
