"""Shared test settings: quick mode, headless plots, the real MNIST subset when it is beside the checkout."""
import os
from pathlib import Path

import pytest

from tests.conditions import add_slow_to_tiers, unmet_need

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist-t10k-shuffled"

os.environ.setdefault("VAELAB_QUICK", "1")
os.environ.setdefault("VAELAB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
if (SHARED_MNIST / "MNIST").is_dir():
    os.environ.setdefault("VAELAB_DATA", str(SHARED_MNIST))

# Golden notebooks are expected outputs to compare against, not notebooks to run.
collect_ignore_glob = ["fixtures/*"]


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    add_slow_to_tiers(items)


def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = unmet_need(item)
    if reason:
        pytest.skip(reason)
