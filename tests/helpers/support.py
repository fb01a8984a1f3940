"""Helpers the vaelab tests import (fixtures live in conftest.py)."""
from pathlib import Path

import numpy as np
import torch


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
