"""Fixtures for the vaelab tests: a clean, offline environment and tiny data."""

from pathlib import Path

import matplotlib
import pytest

import vaelab.data

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the headless backend)

SHARED_MNIST = (Path(__file__).resolve().parents[2] / "../shared/data/mnist-t10k-shuffled").resolve()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """Quick and offline mode on, an empty data folder, no notice given yet."""
    monkeypatch.setenv("VAELAB_QUICK", "1")
    monkeypatch.setenv("VAELAB_OFFLINE", "1")
    monkeypatch.setenv("VAELAB_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(vaelab.data, "_announced", set())
    yield
    plt.close("all")


@pytest.fixture
def shared_mnist() -> Path:
    """The folder of real MNIST digits beside the checkout; skips the test when it is absent."""
    if not (SHARED_MNIST / "MNIST" / "raw").is_dir():
        pytest.skip(f"no shared MNIST digits at {SHARED_MNIST}")
    return SHARED_MNIST
