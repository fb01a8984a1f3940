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
        "exclude_patterns": [EXTRA, ".doctrees"],
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
    if work.exists():
        shutil.rmtree(work)
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


def prepare_output(out: Path) -> None:
    """Empty ``out`` for a new build, refusing a folder that is not empty and was not made here."""
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise FileExistsError(f"{out} is not empty and holds no site built by this tool: choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def run_sphinx(work: Path, out: Path) -> None:
    """Build the HTML of the project in ``work`` into ``out``; any Sphinx warning fails the build."""
    from sphinx.cmd.build import build_main

    status = build_main(["-b", "html", "-q", "-W", "--keep-going", "-d", str(work / ".doctrees"), str(work), str(out)])
    if status != 0:
        raise RuntimeError(f"sphinx failed (exit status {status}); its messages are above")


def build_site(source_dir: Path, out: Path, work: Path, title: str = DEFAULT_TITLE) -> BuiltSite:
    """The website of the course in ``out``, from a Sphinx project written into ``work``."""
    summaries = write_project(source_dir, work, title)
    prepare_output(out)
    run_sphinx(work, out)
    (out / MARKER).write_text("built by python -m coursetool site\n", encoding="utf-8")
    return BuiltSite(index=out / "index.html", labs={s.name: out / "labs" / f"{s.name}.html" for s in summaries})
