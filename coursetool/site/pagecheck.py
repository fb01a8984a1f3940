"""What a built page holds, read from its HTML: headings, maths, links, resources and embedded figures.

The tests of the site and of the handouts, and anyone checking a build by hand, read pages
through these functions; ``Browser.dom`` gives the page as a reader's browser has it, with
MathJax's output in place.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from nbformat import NotebookNode

from coursetool.site.leaks import words

HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(?P<text>.+?)\s*#*\s*$")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
RESOURCE_ATTRIBUTES = {"script": "src", "img": "src", "iframe": "src", "source": "src", "embed": "src",
                       "link": "href", "audio": "src", "video": "src"}


@dataclass
class PageFacts:
    """What one HTML page holds."""

    headings: list[str] = field(default_factory=list)  # the words of each h1-h6, in order
    math: int = 0  # elements Sphinx marks as maths (class "math")
    math_typeset: int = 0  # of those, the ones holding MathJax output
    mathjax_output: int = 0  # mjx-container elements anywhere
    math_errors: int = 0  # MathJax's error marks (TeX it could not read)
    resources: list[str] = field(default_factory=list)  # what the page loads: scripts, styles, pictures
    links: list[str] = field(default_factory=list)  # where its anchors go
    embedded_png: int = 0  # pictures carried in the page as PNG data


class FactCollector(HTMLParser):
    """Fills a PageFacts while it reads a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.facts = PageFacts()
        self.stack: list[tuple[str, bool]] = []  # open elements: tag, is a maths element
        self.heading: list[str] | None = None
        self.math_open: list[bool] = []  # per open maths element: has MathJax output been seen in it

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in RESOURCE_ATTRIBUTES and values.get(RESOURCE_ATTRIBUTES[tag]):
            target = values[RESOURCE_ATTRIBUTES[tag]]
            if tag != "link" or values.get("rel", "") not in ("canonical", "next", "prev", "index", "search"):
                self.facts.resources.append(target)
            if tag == "img" and target.startswith("data:image/png"):
                self.facts.embedded_png += 1
        if tag == "a" and values.get("href"):
            self.facts.links.append(values["href"])
        if tag == "mjx-container":
            self.facts.mathjax_output += 1
            self.math_open = [True] * len(self.math_open)
        if tag == "mjx-merror" or "data-mjx-error" in values:
            self.facts.math_errors += 1
        if tag in HEADING_TAGS:
            self.heading = []
        if tag in VOID:
            return
        is_math = "math" in values.get("class", "").split() and tag in ("span", "div")
        if is_math:
            self.facts.math += 1
            self.math_open.append(False)
        self.stack.append((tag, is_math))

    def handle_endtag(self, tag: str) -> None:
        if tag in HEADING_TAGS and self.heading is not None:
            self.facts.headings.append(words("".join(self.heading)))
            self.heading = None
        while self.stack:
            open_tag, is_math = self.stack.pop()
            if is_math:
                self.facts.math_typeset += self.math_open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.heading is not None:
            self.heading.append(data)


def page_facts(markup: str) -> PageFacts:
    collector = FactCollector()
    collector.feed(markup)
    collector.close()
    return collector.facts


def is_remote(url: str) -> bool:
    """Whether loading ``url`` needs the network (a scheme other than data/file, or a scheme-relative URL)."""
    parts = urlsplit(url)
    return url.startswith("//") or parts.scheme not in ("", "data", "file")


def remote_resources(facts: PageFacts) -> list[str]:
    return [url for url in facts.resources if is_remote(url)]


def broken_links(page: Path, facts: PageFacts) -> list[str]:
    """Relative links and resources of a page that point at no file beside it."""
    broken = []
    for url in facts.links + facts.resources:
        parts = urlsplit(url)
        if parts.scheme or url.startswith(("//", "#")) or not parts.path:
            continue
        if not (page.parent / unquote(parts.path)).exists():
            broken.append(url)
    return broken


def notebook_headings(notebook: NotebookNode) -> list[str]:
    """The words of every markdown heading of a notebook, in order (code fences skipped)."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        fenced = False
        for line in cell.source.splitlines():
            if line.lstrip().startswith(("```", "~~~")):
                fenced = not fenced
            match = None if fenced else MARKDOWN_HEADING.match(line)
            if match:
                found.append(words(match["text"]))
    return found
