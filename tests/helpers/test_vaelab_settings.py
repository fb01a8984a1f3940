"""Settings, device choice and seeding."""

import random
from pathlib import Path

import numpy as np
import pytest
import torch

import vaelab


@pytest.mark.parametrize("value, expected", [
    ("1", True), ("true", True), ("YES", True), (" True ", True),
    ("0", False), ("", False), ("no", False), ("false", False),
])
def test_flags_read_one_true_yes(monkeypatch, value, expected):
    monkeypatch.setenv("VAELAB_QUICK", value)
    monkeypatch.setenv("VAELAB_OFFLINE", value)
    assert vaelab.quick_mode() is expected
    assert vaelab.offline_mode() is expected


def test_flags_off_when_unset(monkeypatch):
    monkeypatch.delenv("VAELAB_QUICK")
    monkeypatch.delenv("VAELAB_OFFLINE")
    assert not vaelab.quick_mode()
    assert not vaelab.offline_mode()


def test_data_root_defaults_under_home(monkeypatch, tmp_path):
    monkeypatch.delenv("VAELAB_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert vaelab.data_root() == tmp_path / ".cache" / "vaelab" / "data"


def test_data_root_follows_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("VAELAB_DATA", str(tmp_path / "elsewhere"))
    assert vaelab.data_root() == tmp_path / "elsewhere"
    monkeypatch.setenv("VAELAB_DATA", "~/d")
    assert vaelab.data_root() == Path.home() / "d"


def _no_accelerators(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_pick_device_falls_back_to_cpu(monkeypatch):
    _no_accelerators(monkeypatch)
    assert vaelab.pick_device() == torch.device("cpu")
    assert vaelab.pick_device("cuda") == torch.device("cpu")
    assert vaelab.pick_device("mps") == torch.device("cpu")


def test_pick_device_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert vaelab.pick_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert vaelab.pick_device() == torch.device("cuda")
    assert vaelab.pick_device("cpu") == torch.device("cpu")
    assert vaelab.pick_device("cuda:3") == torch.device("cuda")  # no such GPU


def test_seed_everything_repeats_every_generator():
    def draw():
        return random.random(), np.random.rand(), torch.rand(3).tolist()

    vaelab.seed_everything(7)
    first = draw()
    vaelab.seed_everything(7)
    assert draw() == first
    vaelab.seed_everything(8)
    assert draw() != first
