"""nbconvert's HTML exporter with nbgrader's feedback template, set up once per process.

Imported where a page is first rendered, not at start-up: nbconvert and nbgrader take a second
to import. ``HTMLExporter`` ends every page by parsing it again with BeautifulSoup (about half
the time of a feedback page) to give images without a description nbconvert's alt text and the
lab template's cells a tab stop; the feedback template (classic) has none of those cells, so
here the alt text is added to the page as rendered and the page is never parsed again. The
lab's own text reads the same on every student's page: its code is highlighted, and its
markdown rendered, once per process.
"""
from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbformat import NotebookNode
from traitlets.config import Config

NO_DESCRIPTION = 'alt="No description has been provided for this image"'  # nbconvert's words for an image without alt
IMAGE_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)")


def formgrader_folder() -> Path:
    """nbgrader's formgrader extension, whose templates folder holds the feedback template."""
    spec = importlib.util.find_spec("nbgrader")  # the folder without importing nbgrader
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("nbgrader is not installed: feedback pages use its feedback template")
    return Path(spec.submodule_search_locations[0]) / "server_extensions" / "formgrader"


class RememberingHighlight(Highlight2HTML):
    """nbconvert's code highlighting, remembering what it highlighted: the lab's own cells (its text, its tests'
    visible lines) read the same on every student's page, so they are highlighted once per process."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.remembered = lru_cache(maxsize=4096)(self.highlight)

    def highlight(self, source: str, language: str | None, magics_language: str | None) -> str:
        return super().__call__(source, language, {"magics_language": magics_language} if magics_language else None)

    def __call__(self, source: str, language: str | None = None, metadata: dict | None = None) -> str:
        return self.remembered(source, language, (metadata or {}).get("magics_language"))


class FeedbackExporter(HTMLExporter):
    """``HTMLExporter`` rendering a page once: its filters and resources as nbconvert sets them, no re-parse, one
    highlighter per language and one markdown renderer for all the pages."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.highlighters: dict[str | None, RememberingHighlight] = {}
        self.remembered_markdown = lru_cache(maxsize=4096)(self.rendered_markdown)

    @jinja2.pass_context
    def markdown2html(self, context: Any, source: str) -> str:
        """nbconvert's markdown filter, remembering what it rendered; a cell with attachments is rendered anew (its
        images are its own)."""
        if context.get("cell", {}).get("attachments"):
            return super().markdown2html(context, source)
        return self.remembered_markdown(source, context.get("resources", {}).get("metadata", {}).get("path", ""))

    def rendered_markdown(self, source: str, path: str) -> str:
        return super().markdown2html({"resources": {"metadata": {"path": path}}}, source)

    def highlighter(self, lexer: str | None) -> RememberingHighlight:
        if lexer not in self.highlighters:
            self.highlighters[lexer] = RememberingHighlight(pygments_lexer=lexer, parent=self)
        return self.highlighters[lexer]

    def from_notebook_node(self, nb: NotebookNode, resources: dict[str, Any] | None = None,
                           **kw: Any) -> tuple[str, dict[str, Any]]:
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name", None))
        self.register_filter("highlight_code", self.filters.get("highlight_code") or self.highlighter(lexer))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                                       resources=resources))
        page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return IMAGE_WITHOUT_ALT.sub(f"<img {NO_DESCRIPTION}", page), resources


def feedback_exporter() -> FeedbackExporter:
    """An exporter with nbgrader's feedback template and the bootstrap styles it inlines."""
    formgrader = formgrader_folder()
    config = Config()
    config.HTMLExporter.template_name = "feedback"
    config.HTMLExporter.optimistic_validation = True  # the page's notebook validated once, not after each preprocessor
    config.HTMLExporter.extra_template_basedirs = [str(formgrader / "templates")]
    config.HTMLExporter.extra_template_paths = [str(formgrader / "static" / "node_modules" / "bootstrap" / "dist" / "css")]
    return FeedbackExporter(config=config)
