"""Headless Chromium, to look at built pages as a reader's browser shows them (scripts run, MathJax typeset)."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--disable-background-networking", "--disable-component-update")


@dataclass(frozen=True)
class Browser:
    """A Chromium executable and how long pages may run their scripts before they are read."""

    executable: str
    script_ms: int = 20_000  # virtual time: MathJax finishes long before, on any machine
    timeout_s: float = 180.0

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([self.executable, *FLAGS, f"--virtual-time-budget={self.script_ms}", *args],
                              capture_output=True, text=True, timeout=self.timeout_s, check=False)

    def dom(self, page: Path) -> str:
        """The page's DOM after its scripts ran, as HTML."""
        done = self.run("--dump-dom", page.resolve().as_uri())
        if done.returncode != 0 or "<html" not in done.stdout:
            raise RuntimeError(f"chromium could not read {page}: {done.stderr.strip()[-500:]}")
        return done.stdout

    def screenshot(self, page: Path, png: Path, width: int = 1280, height: int = 2000) -> Path:
        """A PNG of the top ``height`` pixels of the page at a window ``width`` pixels wide."""
        done = self.run(f"--window-size={width},{height}", f"--screenshot={png.resolve()}", page.resolve().as_uri())
        if done.returncode != 0 or not png.is_file():
            raise RuntimeError(f"chromium took no screenshot of {page}: {done.stderr.strip()[-500:]}")
        return png


def find_browser() -> Browser | None:
    """Chromium where one is installed (``apt-get install chromium``), else None."""
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return Browser(path)
    return None
