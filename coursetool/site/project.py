"""The Sphinx project of the website: written into a scratch folder from the build, then built with MyST-NB.

Everything comes from one fresh build of the sources: the home page from the parsed labs, each
lab page from its release notebook. The downloadable notebooks are the release notebooks byte
for byte. Nothing is executed (release notebooks have no outputs) and nothing is fetched: the
theme and MathJax are installed packages whose files are copied into the site.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from coursetool.build import build_files, parse_course
from coursetool.config import load_config
from coursetool.site import mathjax
from coursetool.site.course import LabSummary, summarise
from coursetool.site.home import home_markdown
from coursetool.site.pages import PageLinks, lab_page

DEFAULT_TITLE = "Autoencoders and variational autoencoders with PyTorch"
STATIC = Path(__file__).with_name("static")
MARKER = ".coursetool-site"  # names a folder this tool made, so that a rebuild may empty it
EXTRA = "extra"  # copied as is into the site: the notebooks to download
DOWNLOADS = "notebooks"
BUILD = "_build"  # Sphinx's output and caches, inside the scratch folder


@dataclass(frozen=True)
class BuiltSite:
    """What a site build made."""

    index: Path
    labs: dict[str, Path] = field(default_factory=dict)  # lab name -> its page


def conf_py(title: str) -> str:
    """The Sphinx configuration of the site."""
    settings = {
        "project": title,
        "html_title": title,
        "extensions": ["myst_nb", "sphinx.ext.mathjax"],
        "html_theme": "furo",
        "html_static_path": ["_static"],
        "html_css_files": ["course.css"],
        "html_extra_path": [EXTRA],
        "exclude_patterns": [EXTRA, BUILD],
        "mathjax_path": mathjax.SITE_SCRIPT,
        "myst_enable_extensions": ["dollarmath", "amsmath"],
        "myst_heading_anchors": 3,
        "nb_execution_mode": "off",
        "html_copy_source": False,
        "html_show_sourcelink": False,
        "html_show_sphinx": False,
        "html_show_copyright": False,
        "language": "en",
    }
    lines = ['"""Sphinx settings of the course website (written by `python -m coursetool site`)."""']
    return "\n".join(lines + [f"{name} = {value!r}" for name, value in settings.items()]) + "\n"


def page_links(summary: LabSummary) -> PageLinks:
    """A lab page's buttons: Colab at the course's release, and the release notebook beside the site's pages."""
    name = f"{summary.name}.ipynb"
    return PageLinks(colab=summary.colab_url, download=f"../{DOWNLOADS}/{name}", download_name=name)


def write_project(source_dir: Path, work: Path, title: str = DEFAULT_TITLE) -> list[LabSummary]:
    """Write the Sphinx project of the course into ``work`` (emptied first); the labs' summaries."""
    files = build_files(source_dir)
    config = load_config(source_dir)
    summaries = [summarise(lab, config) for lab in parse_course(source_dir)]
    fresh_folder(work)
    (work / "labs").mkdir(parents=True)
    (work / EXTRA / DOWNLOADS).mkdir(parents=True)
    shutil.copytree(STATIC, work / "_static")
    mathjax.copy_site_files(work / "_static")
    (work / "conf.py").write_text(conf_py(title), encoding="utf-8")
    (work / "index.md").write_text(home_markdown(title, summaries, config), encoding="utf-8")
    for summary in summaries:
        release = files[f"release/{summary.name}.ipynb"]
        (work / EXTRA / DOWNLOADS / f"{summary.name}.ipynb").write_bytes(release)
        page = lab_page(nbformat.reads(release.decode(), as_version=4), page_links(summary))
        nbformat.write(page, work / "labs" / f"{summary.name}.ipynb")
    return summaries


def fresh_folder(folder: Path) -> None:
    """Empty ``folder`` for a new build, refusing one that is not empty and was not made by this tool."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise FileExistsError(f"{folder} is not empty and was not made by `coursetool site`: choose another folder")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("made by python -m coursetool site: emptied by every build\n", encoding="utf-8")


def run_sphinx(work: Path) -> Path:
    """Build the HTML of the project in ``work`` inside it; any Sphinx warning fails the build. Returns the HTML folder.

    MyST-NB keeps notebooks beside Sphinx's output folder, so the output stays inside ``work``
    and is copied out afterwards.
    """
    from sphinx.cmd.build import build_main

    html = work / BUILD / "html"
    status = build_main(["-b", "html", "-q", "-W", "--keep-going", "-d", str(work / BUILD / "doctrees"),
                         str(work), str(html)])
    if status != 0:
        raise RuntimeError(f"sphinx failed (exit status {status}); its messages are above")
    return html


def build_site(source_dir: Path, out: Path, work: Path, title: str = DEFAULT_TITLE) -> BuiltSite:
    """The website of the course in ``out``, from a Sphinx project written into ``work``."""
    summaries = write_project(source_dir, work, title)
    html = run_sphinx(work)
    fresh_folder(out)
    shutil.copytree(html, out, dirs_exist_ok=True)
    return BuiltSite(index=out / "index.html", labs={s.name: out / "labs" / f"{s.name}.html" for s in summaries})
