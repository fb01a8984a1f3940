"""nbgrader settings for grading this course (written by the course build).

With them, nbgrader's own commands grade as `python -m coursetool grade` does: quick mode, no
downloads, progress as plain lines, errors without tracebacks, feedback without hidden tests.
A variable set before running nbgrader wins: `VAELAB_QUICK=0 nbgrader autograde ...` grades
in full mode (raise the cell timeout with `--Execute.timeout=<seconds>` then).
"""
import os

for name, value in {"VAELAB_QUICK": "1", "VAELAB_OFFLINE": "1", "VAELAB_PROGRESS": "plain"}.items():
    os.environ.setdefault(name, value)  # the kernels inherit nbgrader's environment

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "vae-labs"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
# Seconds a cell may run (nbgrader's 30 would cut demos short): the slowest quick-mode cell,
# lab 3's KL annealing demo, takes over a minute on two idle cores, four on busy ones.
c.Execute.timeout = 600
# An error shows as its exception and message: a traceback would quote the failing test line,
# hidden or not.
c.Execute.extra_arguments = ["--InteractiveShell.xmode=Minimal"]
# The probes' reference values stay in source/: never copied into a release, an autograded
# folder or feedback (the hidden checks read them there).
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "probes.json"]
# Feedback shows each test cell without its hidden tests.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
