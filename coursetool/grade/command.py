"""``python -m coursetool grade <submissions> --lab <name>``: the command line of the autograder."""
from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
from dataclasses import replace
from pathlib import Path

from coursetool.grade.atomic import write_atomically
from coursetool.grade.course import lms
from coursetool.grade.folders import AutograderFolders
from coursetool.grade.kernel import limits as kernel_limits
from coursetool.grade.kernel import workdirs
from coursetool.grade.lab import AutograderLab
from coursetool.grade.course.batch import grade_class, usable_cores, warn
from coursetool.grade.course.cluster import ClusterError, DaskCluster
from coursetool.grade.intake.late import METHODS, PenaltySettingError, parse_due
from coursetool.grade.notebook.pipeline import ReferenceSolutionError
from coursetool.grade.kernel.sandbox import KernelEnvironmentError, bwrap_works, why_no_sandbox
from coursetool.grade.settings import Limits, Settings, default_data_root
from coursetool.grade.intake.discovery import discover
from coursetool.grade.intake.submissions import SubmissionsError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``grade`` subcommand."""
    defaults = Limits()
    parser = subparsers.add_parser("grade", help="grade a class's submissions of one lab",
                                   description=__doc__)
    parser.add_argument("submissions", type=Path, help="folder or zip of submissions (one folder or file per student)")
    parser.add_argument("--lab", required=True, help="lab name, as in autograder/source/<lab>/<lab>.ipynb")
    parser.add_argument("--autograder", type=Path, default=Path("autograder"),
                        help="nbgrader course folder written by the build; results go here (default: ./autograder)")
    parser.add_argument("--jobs", type=int, default=usable_cores(), help="submissions graded at once (default: cores)")
    parser.add_argument("--scheduler", metavar="ADDRESS", default=None,
                        help="grade on the Dask cluster whose scheduler is at ADDRESS (tcp://HOST:8786) instead of on "
                             "this machine; each kernel computes on one thread, --jobs does not apply")
    parser.add_argument("--cell-timeout", type=float, default=defaults.cell_timeout, help="seconds per cell")
    parser.add_argument("--notebook-timeout", type=float, default=defaults.notebook_timeout, help="seconds per notebook")
    parser.add_argument("--memory", type=int, default=defaults.memory_mb, help="memory limit per kernel, MiB")
    parser.add_argument("--output-limit", type=int, default=defaults.output_chars, help="output characters kept per cell")
    parser.add_argument("--processes", type=int, default=defaults.processes,
                        help="processes and threads per kernel, together (where a pids cgroup can be made)")
    parser.add_argument("--full", action="store_true", help="run the labs in full mode (default: VAELAB_QUICK=1)")
    parser.add_argument("--data", type=Path, default=None,
                        help="data root the kernels read (default: $VAELAB_DATA, else ~/.cache/vaelab/data)")
    parser.add_argument("--no-sandbox", action="store_true", help="run student code without the bwrap sandbox: kernels can read this machine's files and use its "
                             "network (without it, grading refuses to start where no sandbox can be made)")
    parser.add_argument("--cold", action="store_true",
                        help="start every kernel as a new process instead of forking it from a warm server")
    parser.add_argument("--hide", type=Path, action="append", default=[], help="another path kernels must not see")
    parser.add_argument("--regrade", action="store_true", help="grade every submission again, ignoring earlier runs")
    parser.add_argument("--due", type=parse_due, default=None,
                        help="due date with its time zone, e.g. '2025-03-01 17:00 Europe/Paris'; stored in the gradebook "
                             "(default: the gradebook's, as formgrader sets it)")
    parser.add_argument("--late-penalty", choices=METHODS, default=None,
                        help="late penalty method, as nbgrader's LateSubmissionPlugin: none, or zero for the whole score "
                             "(default: c.LateSubmissionPlugin.penalty_method in nbgrader_config.py, else none)")
    parser.add_argument("--refresh-feedback", action="store_true",
                        help="render every feedback page again with the gradebook's scores and comments "
                             "(after grading written answers in formgrader); notebooks are not run again")
    parser.add_argument("--student", action="append", default=[], metavar="ID",
                        help="grade (again) only this student, keeping everyone else's results (repeatable)")
    parser.add_argument("--roster", type=Path, default=None,
                        help="Canvas gradebook export (CSV): also write canvas.csv for Canvas's gradebook import")
    parser.add_argument("--missing", choices=[m.value for m in lms.Missing], default=lms.Missing.BLANK.value,
                        help="what roster students without a submission get in canvas.csv: blank (no score, default) or zero")
    parser.set_defaults(func=run)
    register_similarity(subparsers)


def register_similarity(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``similarity`` subcommand: the class's similar submissions, without running any notebook."""
    parser = subparsers.add_parser("similarity", help="find similar submissions in a class of one lab (runs no notebook)",
                                   description="Similar submissions in a class of one lab, from what each student "
                                               "wrote; no notebook is run. Writes similarity.csv and similarity.html "
                                               "in the lab's results folder.")
    parser.add_argument("submissions", type=Path, help="folder or zip of submissions, as for grade")
    parser.add_argument("--lab", required=True, help="lab name, as in autograder/source/<lab>/<lab>.ipynb")
    parser.add_argument("--autograder", type=Path, default=Path("autograder"),
                        help="nbgrader course folder written by the build; results go here (default: ./autograder)")
    parser.add_argument("--compare-with", type=Path, action="append", default=[], metavar="DIR",
                        help="earlier years' submissions (folder or zip) to compare this class with (repeatable)")
    parser.set_defaults(func=run_similarity)


def run_similarity(args: argparse.Namespace) -> int:
    from coursetool.grade.course import similarity  # copydetect, matplotlib: only for this command

    show_diagnostics()
    folders = AutograderFolders(args.lab, args.autograder.resolve())
    if not folders.source_notebook.exists():
        print(f"no autograder source for lab {args.lab!r} at {folders.source_notebook}: build the course first",
              file=sys.stderr)
        return 2
    lab = AutograderLab(args.lab, folders.source_dir)
    workdirs.belong_to(folders.autograder)
    try:
        with workdirs.marked_folder("coursetool-submissions-") as staging:
            found = discover(args.submissions.resolve(), args.lab, staging / "class")
            earlier = [replace(s, student=f"{folder.name}:{s.student}") for folder in args.compare_with
                       for s in discover(folder.resolve(), args.lab, staging / f"earlier-{folder.name}")]
            analysis = similarity.analyse_class(lab, found, folders.autograder, earlier)
    except SubmissionsError as error:
        print(error, file=sys.stderr)
        return 2
    results = folders.results_dir
    csv_path = similarity.write_results(analysis, results)
    write_atomically(results / "similarity.html", similarity.page(analysis, args.lab))
    for pair in analysis.flagged:
        print(f"  to look at: {pair.student_a} and {pair.student_b}: {pair.similarity:.0%} ({'; '.join(pair.cells)})")
    print(f"{len(found)} submission(s), {len(earlier)} earlier, {len(analysis.skipped)} not comparable; "
          f"{len(analysis.flagged)} pair(s) flagged in {analysis.seconds:.1f} s: {csv_path}, {results / 'similarity.html'}")
    return 0


class SandboxRefusal(RuntimeError):
    """Student code would run without its sandbox, and the grader was not told ``--no-sandbox``."""


def refuse_without_sandbox(on_cluster: bool) -> None:
    """Stop unless a sandbox can be made here (on a cluster each worker checks its own)."""
    if not on_cluster and not bwrap_works():
        raise SandboxRefusal("refusing to run student code without a sandbox: " + why_no_sandbox() +
                             ".\nTo grade anyway, with every kernel able to read this machine's files and use its "
                             "network, pass --no-sandbox.")


def settings_from(args: argparse.Namespace) -> Settings:
    jobs = max(1, args.jobs)
    on_cluster = args.scheduler is not None
    if args.no_sandbox:
        warn("kernels run WITHOUT the bwrap sandbox (--no-sandbox): they can read files and use the network; "
             "time, memory and CPU limits still apply")
    else:
        refuse_without_sandbox(on_cluster)
    if not on_cluster:
        for missing in kernel_limits.limits_not_held(kernel_limits.group_parents()):
            warn(missing)
    return Settings(
        lab=args.lab, autograder=args.autograder.resolve(),
        limits=Limits(args.cell_timeout, args.notebook_timeout, args.memory, args.output_limit,
                      processes=args.processes),
        jobs=jobs, threads_per_kernel=1 if on_cluster else max(1, usable_cores() // jobs), quick=not args.full,
        data_root=args.data.resolve() if args.data else default_data_root(), sandbox=not args.no_sandbox, hidden_paths=tuple(p.resolve() for p in args.hide),
        submissions=args.submissions.resolve(), warm=not args.cold, probe_seed=secrets.randbelow(2**31))


def put_environment_on_path() -> None:
    """nbgrader creates a gradebook by running ``alembic``: the one installed beside this Python."""
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def show_diagnostics() -> None:
    """What the grader's modules log (``logging``), on stderr as plain lines: not the command's own output."""
    logger = logging.getLogger("coursetool")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def lms_options(args: argparse.Namespace) -> lms.LmsOptions:
    """``--roster`` and ``--missing``; the roster is read once here, so a wrong file stops the run before grading."""
    if args.roster is not None:
        lms.read_roster(args.roster)
    return lms.LmsOptions(args.roster.resolve() if args.roster else None, lms.Missing(args.missing))


def run(args: argparse.Namespace) -> int:
    show_diagnostics()
    put_environment_on_path()
    try:
        lms_options(args)
        settings = settings_from(args)
    except (lms.RosterError, OSError, SandboxRefusal) as error:
        print(error, file=sys.stderr)
        return 2
    if not settings.source_notebook.exists():
        print(f"no autograder source for lab {args.lab!r} at {settings.source_notebook}: build the course first "
              "(python -m coursetool build)", file=sys.stderr)
        return 2
    if not args.submissions.exists():
        print(f"no submissions at {args.submissions}", file=sys.stderr)
        return 2
    try:
        summary = grade_class(args.submissions.resolve(), settings, regrade=args.regrade,
                              feedback_from_gradebook=args.refresh_feedback, due=args.due, late_penalty=args.late_penalty,
                              grader=DaskCluster(args.scheduler) if args.scheduler else None,
                              only=frozenset(args.student), lms_options=lms_options(args))
    except (SubmissionsError, PenaltySettingError, ClusterError, ReferenceSolutionError, lms.RosterError,
            KernelEnvironmentError) as error:
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: run the same command again to grade what is left", file=sys.stderr)
        return 130
    results = settings.results_dir
    print(f"{summary.students} student(s): {summary.graded} graded now, {summary.reused} from an earlier run")
    print(f"grades: {results / 'grades.csv'}; report: {results / 'report.html'}; "
          f"feedback: {settings.autograder / 'feedback'}; gradebook: {settings.autograder / 'gradebook.db'}")
    if summary.grader_errors:
        print(f"{summary.grader_errors} submission(s) could not be graded because the grader failed, not the "
              "student (status 'grader error', reason in grades.csv): their 0 is not a grade. Run the same command "
              "again to grade them again.", file=sys.stderr)
        return 1
    return 0 if summary.students else 1
