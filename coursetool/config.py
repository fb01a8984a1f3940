"""Course settings read from ``<source>/course.toml`` (all optional)."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from coursetool.errors import BuildError, SourceError

CONFIG_NAME = "course.toml"
REF_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


@dataclass(frozen=True)
class CourseConfig:
    """Where the course is published, and the git ref (a tag) its notebooks are released at.

    The Colab link and the helpers' install line of every released notebook name ``ref``, so a
    notebook opens and installs the helpers of its own release, whatever changes later.
    """

    repository: str = "https://github.com/vae-course/autoencoder-labs"
    ref: str = "main"

    @property
    def github_path(self) -> str:
        """``owner/name`` of a GitHub repository URL."""
        return self.repository.removeprefix("https://github.com/").rstrip("/")

    def colab_url(self, lab_name: str) -> str:
        return f"https://colab.research.google.com/github/{self.github_path}/blob/{self.ref}/release/{lab_name}.ipynb"

    @property
    def helpers_requirement(self) -> str:
        return f"vaelab @ git+{self.repository}@{self.ref}#subdirectory=helpers"


def config_errors(path: Path, course: dict) -> list[SourceError]:
    """Unknown keys and a ref that cannot name a git tag or branch."""
    known = {field.name for field in fields(CourseConfig)}
    errors = [SourceError(path, 0, f"unknown setting {key!r} in [course]", f"known: {', '.join(sorted(known))}")
              for key in course if key not in known]
    ref = course.get("ref")
    if ref is not None and not REF_PATTERN.fullmatch(str(ref)):
        errors.append(SourceError(path, 0, f"ref {ref!r} is not a git tag or branch name",
                                  'a release tag such as "v2026.1"'))
    return errors


def load_config(source_dir: Path) -> CourseConfig:
    path = source_dir / CONFIG_NAME
    if not path.exists():
        return CourseConfig()
    with path.open("rb") as handle:
        course = tomllib.load(handle).get("course", {})
    errors = config_errors(path, course)
    if errors:
        raise BuildError(errors)
    return CourseConfig(**{key: str(value) for key, value in course.items()})
