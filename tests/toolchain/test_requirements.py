"""The conda environment and the pip requirements name the same packages and ranges."""
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def requirement_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_environment_yml_pip_list_equals_requirements_txt():
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert [p for p in pip if not p.startswith("-e ")] == requirement_lines((REPO / "requirements.txt").read_text())
    assert "-e ./helpers" in pip


def test_constraints_pin_every_requirement_exactly():
    pins = {line.split("==")[0].lower() for line in requirement_lines((REPO / "constraints.txt").read_text())}
    for requirement in requirement_lines((REPO / "requirements.txt").read_text()):
        name = requirement.split(">=")[0].split("==")[0].lower()
        assert name in pins, f"{name} is not pinned in constraints.txt"
