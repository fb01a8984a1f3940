"""Settings read from environment variables: quick mode, offline mode and the data folder."""

import os
from pathlib import Path

QUICK_ENV = "VAELAB_QUICK"
OFFLINE_ENV = "VAELAB_OFFLINE"
DATA_ENV = "VAELAB_DATA"
DEFAULT_DATA_ROOT = Path("~/.cache/vaelab/data")

_TRUE_WORDS = {"1", "true", "yes"}


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE_WORDS


def quick_mode() -> bool:
    """True when VAELAB_QUICK is 1, true or yes: data sets shrink so a lab runs in seconds."""
    return _flag(QUICK_ENV)


def offline_mode() -> bool:
    """True when VAELAB_OFFLINE is 1, true or yes: nothing is ever downloaded."""
    return _flag(OFFLINE_ENV)


def data_root() -> Path:
    """The folder where data sets are downloaded and looked for (VAELAB_DATA)."""
    return Path(os.environ.get(DATA_ENV) or DEFAULT_DATA_ROOT).expanduser()
