"""Course settings read from ``<source>/course.toml`` (all optional)."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

CONFIG_NAME = "course.toml"


@dataclass(frozen=True)
class CourseConfig:
    """Where the course is published, for the Colab link and the install line."""

    repository: str = "https://github.com/vae-course/autoencoder-labs"
    branch: str = "main"

    @property
    def github_path(self) -> str:
        """``owner/name`` of a GitHub repository URL."""
        return self.repository.removeprefix("https://github.com/").rstrip("/")

    def colab_url(self, lab_name: str) -> str:
        return f"https://colab.research.google.com/github/{self.github_path}/blob/{self.branch}/release/{lab_name}.ipynb"

    @property
    def helpers_requirement(self) -> str:
        return f"vaelab @ git+{self.repository}@{self.branch}#subdirectory=helpers"


def load_config(source_dir: Path) -> CourseConfig:
    path = source_dir / CONFIG_NAME
    if not path.exists():
        return CourseConfig()
    with path.open("rb") as handle:
        course = tomllib.load(handle).get("course", {})
    return CourseConfig(**{key: str(value) for key, value in course.items()})
