"""``python -m coursetool site`` and ``python -m coursetool handouts``: the command lines of the website."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

DEFAULT_EXECUTED = Path("build/executed")


def add_common(parser: argparse.ArgumentParser, out: str) -> None:
    parser.add_argument("--source", type=Path, default=Path("source"), help="folder of lab sources (default: source)")
    parser.add_argument("--out", type=Path, default=Path(out), help=f"where the pages go (default: {out})")


def run_site(args: argparse.Namespace) -> int:
    from coursetool.errors import BuildError
    from coursetool.site.leaks import find_leaks
    from coursetool.site.project import build_site

    started = time.perf_counter()
    try:
        built = build_site(args.source, args.out, work=args.work)
    except BuildError as error:
        print(error, file=sys.stderr)
        return 1
    leaks = find_leaks(args.source, args.out)
    for leak in leaks:
        print(f"leak: {leak}", file=sys.stderr)
    if leaks:
        print(f"site refused: {len(leaks)} solution or hidden line(s) in the pages", file=sys.stderr)
        return 1
    print(f"site: {len(built.labs)} lab page(s) and the home page in {built.index.parent} "
          f"({time.perf_counter() - started:.1f} s); open {built.index}")
    return 0


def run_handouts(args: argparse.Namespace) -> int:
    from coursetool.errors import BuildError
    from coursetool.site.handouts import build_handouts

    started = time.perf_counter()
    try:
        written = build_handouts(args.source, args.out, args.executed, labs=args.lab)
    except BuildError as error:
        print(error, file=sys.stderr)
        return 1
    for handout in written:
        print(f"{handout.lab}: {handout.html} ({handout.figures} figure(s), executed notebook "
              f"{'reused' if handout.reused else 'run now'})"
              + (f": STOPPED EARLY, {handout.stopped}" if handout.stopped else "")
              + (f": {handout.errors} error output(s)" if handout.errors else ""))
    print(f"handouts: {len(written)} lab(s) in {args.out} ({time.perf_counter() - started:.1f} s)")
    return 0 if all(h.ok for h in written) else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``site`` and ``handouts`` subcommands."""
    site = subparsers.add_parser("site", help="the course website: home page and one page per student notebook")
    add_common(site, "site")
    site.add_argument("--work", type=Path, default=Path("build/site-src"),
                      help="scratch folder for the generated Sphinx project (default: build/site-src)")
    site.set_defaults(func=run_site)

    handouts = subparsers.add_parser("handouts", help="the teaching team's executed solutions, one offline HTML file per lab")
    add_common(handouts, "handouts")
    handouts.add_argument("--executed", type=Path, default=DEFAULT_EXECUTED,
                          help="executed solutions kept by `check --keep-executed` (default: build/executed); "
                               "stale or missing ones are run now and kept there")
    handouts.add_argument("--lab", action="append", help="only this lab (repeatable)")
    handouts.set_defaults(func=run_handouts)
