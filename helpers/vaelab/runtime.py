"""Device choice and seeding."""

import random

import numpy as np
import torch


def _is_available(device: torch.device) -> bool:
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        index = device.index or 0
        return torch.cuda.is_available() and index < torch.cuda.device_count()
    if device.type == "mps":
        return torch.backends.mps.is_available()
    return False


def pick_device(prefer: str | None = None) -> torch.device:
    """The device to compute on: `prefer` if it is available, else cuda, then mps, then cpu."""
    if prefer is not None and _is_available(torch.device(prefer)):
        return torch.device(prefer)
    for name in ("cuda", "mps"):
        if _is_available(torch.device(name)):
            return torch.device(name)
    return torch.device("cpu")


def seed_everything(seed: int = 0) -> None:
    """Seed Python's, NumPy's and PyTorch's (CPU and GPU) random number generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
