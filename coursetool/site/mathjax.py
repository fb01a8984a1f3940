"""The MathJax files the pages load from the site itself, as the ``sphinx-mathjax-offline`` package ships them."""
from __future__ import annotations

from importlib import metadata
from pathlib import Path

DISTRIBUTION = "sphinx-mathjax-offline"
SITE_SCRIPT = "mathjax/tex-chtml.js"  # under the site's _static/: fonts and extensions load from beside it
SINGLE_FILE = "tex-svg-full.js"
# What a page needs of MathJax: the script, the TeX extensions it loads on demand, its fonts and its
# menu. Left out: the other combined scripts and the speech rule engine's data (several MiB).
SITE_PARTS = ("tex-chtml.js", "input/tex/extensions", "output/chtml", "ui", "a11y")  # every TeX extension and SVG output in one script, for single-file handouts


class MathJaxMissing(RuntimeError):
    """The MathJax package is not installed."""


def static_folder() -> Path:
    """The folder holding ``mathjax/``, to serve as part of a site's static files."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise MathJaxMissing(f"{DISTRIBUTION} is not installed: run make install") from None
    folder = Path(str(dist.locate_file(f"{DISTRIBUTION}/static")))
    if not (folder / SITE_SCRIPT).is_file():
        raise MathJaxMissing(f"{folder / SITE_SCRIPT} is missing: reinstall {DISTRIBUTION}")
    return folder


def copy_site_files(static: Path) -> Path:
    """Copy what the pages need of MathJax into a site's ``static`` folder; returns its ``mathjax`` folder."""
    import shutil

    source, target = static_folder() / "mathjax", static / "mathjax"
    for part in SITE_PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part, dirs_exist_ok=True)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / part, target / part)
    return target


def single_file_script() -> str:
    """MathJax as one script, safe to put between ``<script>`` tags."""
    text = (static_folder() / "mathjax" / SINGLE_FILE).read_text(encoding="utf-8")
    return text.replace("</script", "<\\/script").replace("<!--", "<\\!--")
