"""Fixtures for the vaelab tests: a clean, offline environment and tiny data."""

from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch

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


def write_mnist_folder(root: Path, images: torch.Tensor, labels: torch.Tensor,
                       train: bool) -> None:
    """Write uint8 images (N, 28, 28) and labels as the idx files torchvision's MNIST reads."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    prefix = "train" if train else "t10k"
    n = len(images)
    header = np.array([0x00000803, n, 28, 28], dtype=">u4").tobytes()
    (raw / f"{prefix}-images-idx3-ubyte").write_bytes(header + images.numpy().tobytes())
    header = np.array([0x00000801, n], dtype=">u4").tobytes()
    labels = labels.to(torch.uint8).numpy()
    (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(header + labels.tobytes())
