"""Command line: ``python -m coursetool build|check|grade|site|handouts``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from coursetool.errors import BuildError
from coursetool.grade.command import register as register_grade
from coursetool.site.command import register as register_site


def add_course_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", type=Path, default=Path("source"), help="folder of lab sources (default: source)")
    parser.add_argument("--out", type=Path, default=Path("."), help="where release/, solutions/, autograder/ go (default: .)")


def run_build(args: argparse.Namespace) -> int:
    from coursetool.build import build_files  # the build's modules (nbgrader's preprocessors): not for grading
    from coursetool.write import replace_outputs

    try:
        files = build_files(args.source)
    except BuildError as error:
        print(error, file=sys.stderr)
        print(f"build refused: {len(error.errors)} error(s); nothing was written", file=sys.stderr)
        return 1
    replace_outputs(args.out, files)
    labs = sum(1 for name in files if name.startswith("release/"))
    print(f"built {labs} lab(s) into {args.out / 'release'}, {args.out / 'solutions'}, {args.out / 'autograder'}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from coursetool.build import build_files
    from coursetool.verify import stale_outputs, verify_course
    from coursetool.write import read_outputs

    try:
        files = build_files(args.source)
    except BuildError as error:
        print(error, file=sys.stderr)
        return 1
    stale = stale_outputs(files, read_outputs(args.out))
    for name in stale:
        print(f"stale: {args.out / name} differs from a fresh build (run make release and commit)", file=sys.stderr)
    if args.no_exec:
        if not stale:
            print(f"outputs under {args.out} are fresh")
        return 1 if stale else 0
    problems = verify_course(args.source, files, labs=args.lab, keep=args.keep_executed)
    for problem in problems:
        print(problem, file=sys.stderr)
    ok = not stale and not problems
    print("check passed" if ok else f"check failed: {len(stale)} stale file(s), {len(problems)} problem(s)")
    return 0 if ok else 1


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m coursetool", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="build student, solution and autograder notebooks")
    add_course_arguments(build)
    build.set_defaults(func=run_build)

    check = commands.add_parser("check", help="outputs are fresh; solutions pass and blank notebooks fail every test")
    add_course_arguments(check)
    check.add_argument("--lab", action="append", help="check only this lab (repeatable)")
    check.add_argument("--no-exec", action="store_true", help="only compare the outputs with a fresh build")
    check.add_argument("--keep-executed", type=Path, metavar="DIR",
                       help="keep the executed solution notebooks in DIR (make handouts reuses fresh ones)")
    check.set_defaults(func=run_check)

    register_grade(commands)
    register_site(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    return args.func(args)
