"""Data loading: real data, stand-ins, the notice, the error, quick mode and batches."""

import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

import vaelab
import vaelab.data
from vaelab import standin

from tests.helpers.support import write_mnist_folder


def _class_means_separate(images: torch.Tensor, labels: torch.Tensor) -> float:
    """Accuracy of the nearest class mean on the images themselves: high when classes differ."""
    flat = images.flatten(1)
    means = torch.stack([flat[labels == c].mean(0) for c in range(10)])
    return (torch.cdist(flat, means).argmin(1) == labels).float().mean().item()


# Stand-ins

@pytest.mark.parametrize("make, shape", [(standin.fake_mnist, (1, 28, 28)),
                                         (standin.fake_cifar10, (3, 32, 32))])
def test_standin_looks_like_the_real_thing(make, shape):
    images, labels = make(600, seed=0)
    assert images.shape == (600, *shape) and images.dtype == torch.float32
    assert labels.shape == (600,) and labels.dtype == torch.int64
    assert images.min() >= 0 and images.max() <= 1
    assert set(labels.tolist()) == set(range(10))
    levels = images * 255
    assert torch.equal(levels, levels.round()), "values are not 8-bit grey levels"
    assert images.std() > 0.1, "images are nearly blank"
    assert _class_means_separate(images, labels) > 0.5, "classes are not told apart"


def test_standin_digits_are_dark_with_bright_strokes():
    images, _ = standin.fake_mnist(200)
    ink = (images > 0.5).float().mean().item()
    assert (images == 0).float().mean() > 0.6, "background is not black"
    assert 0.05 < ink < 0.3, f"{ink:.0%} of pixels are ink"


@pytest.mark.parametrize("make", [standin.fake_mnist, standin.fake_cifar10])
def test_standin_is_deterministic(make):
    a, la = make(50, seed=3)
    b, lb = make(50, seed=3)
    c, _ = make(50, seed=4)
    assert torch.equal(a, b) and torch.equal(la, lb)
    assert not torch.equal(a, c)


def test_standin_is_used_offline_and_said_once(capsys):
    train = vaelab.load_mnist(train=True)
    test = vaelab.load_mnist(train=False)
    assert train.is_standin and test.is_standin
    assert train.images.shape == (2048, 1, 28, 28) and test.images.shape == (512, 1, 28, 28)
    assert train.classes == standin.MNIST_CLASSES
    assert repr(train) == "ImageDataset(MNIST, 2048 images of 1x28x28, generated stand-in)"
    assert not torch.equal(train.images[:512], test.images), "train and test are the same"
    out = capsys.readouterr().out
    assert out.count("stand-in") == 1 and "MNIST" in out
    vaelab.load_cifar10()
    out = capsys.readouterr().out
    assert out.count("stand-in") == 1 and "CIFAR-10" in out
    vaelab.load_cifar10(train=False)
    assert capsys.readouterr().out == ""


def test_limit_overrides_quick_mode():
    assert len(vaelab.load_mnist(limit=10)) == 10
    assert len(vaelab.load_cifar10(train=False, limit=7)) == 7


def test_full_size_standin_outside_quick_mode(monkeypatch):
    monkeypatch.delenv("VAELAB_QUICK")
    monkeypatch.setitem(vaelab.data.FULL_SIZES, "MNIST", (300, 100))
    assert len(vaelab.load_mnist()) == 300
    assert len(vaelab.load_mnist(train=False)) == 100


class _FailingDownload:
    """Stands in for a torchvision data set class on a machine without internet."""

    calls: list = []

    def __init__(self, root, train=True, download=False):
        _FailingDownload.calls.append((Path(root), download))
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: no network")


def test_missing_data_without_quick_or_offline_explains_what_to_do(monkeypatch):
    monkeypatch.delenv("VAELAB_QUICK")
    monkeypatch.delenv("VAELAB_OFFLINE")
    monkeypatch.setattr(vaelab.data.datasets, "MNIST", _FailingDownload)
    _FailingDownload.calls = []
    with pytest.raises(vaelab.DataUnavailableError) as error:
        vaelab.load_mnist()
    message = str(error.value)
    root = vaelab.data_root()
    assert _FailingDownload.calls == [(root, True)], "did not try to download into the data folder"
    assert f"{root}/MNIST/raw/" in message and "train-images-idx3-ubyte" in message
    assert "VAELAB_DATA" in message and "VAELAB_QUICK=1" in message
    assert "no network" in message


def test_failed_download_in_quick_mode_uses_the_standin(monkeypatch, capsys):
    monkeypatch.delenv("VAELAB_OFFLINE")
    monkeypatch.setattr(vaelab.data.datasets, "CIFAR10", _FailingDownload)
    ds = vaelab.load_cifar10()
    assert ds.is_standin and "could not be downloaded" in capsys.readouterr().out


def test_offline_mode_never_downloads(monkeypatch):
    monkeypatch.setattr(vaelab.data.datasets, "MNIST", _FailingDownload)
    _FailingDownload.calls = []
    vaelab.load_mnist()
    assert _FailingDownload.calls == [(vaelab.data_root(), False)]


def _mnist_folder(root: Path) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (40, 28, 28), generator=g, dtype=torch.uint8)
    labels = torch.arange(40) % 10
    write_mnist_folder(root, images, labels, train=True)
    write_mnist_folder(root, images[:20], labels[:20], train=False)
    return images, labels


def test_real_mnist_is_read_from_the_data_folder(monkeypatch, capsys):
    images, labels = _mnist_folder(vaelab.data_root())
    monkeypatch.delenv("VAELAB_QUICK")
    ds = vaelab.load_mnist()
    assert not ds.is_standin and capsys.readouterr().out == ""
    assert ds.images.shape == (40, 1, 28, 28) and ds.images.dtype == torch.float32
    assert torch.equal(ds.images, images.unsqueeze(1).float() / 255)
    assert torch.equal(ds.labels, labels) and ds.labels.dtype == torch.int64
    assert len(vaelab.load_mnist(train=False)) == 20
    assert len(vaelab.load_mnist(limit=5)) == 5
    image, label = ds[3]
    assert image.shape == (1, 28, 28) and label == 3


def _sorted_mnist_folder(root: Path, per_class: int = 100) -> tuple[torch.Tensor, torch.Tensor]:
    """A train split ordered by class, as real splits are ordered by writer: 0s first, 9s last."""
    labels = torch.arange(10).repeat_interleave(per_class)
    images = (torch.arange(len(labels)) % 256).to(torch.uint8).view(-1, 1, 1).expand(-1, 28, 28)
    write_mnist_folder(root, images.contiguous(), labels, train=True)
    write_mnist_folder(root, images[:10].contiguous(), labels[:10], train=False)
    return images, labels


def _positions(ds, images: torch.Tensor) -> list[int]:
    """Where each image of `ds` sits in the split `images` (uint8, all different)."""
    flat = images.flatten(1).float() / 255
    return [int((flat == image.flatten()).all(1).nonzero()[0]) for image in ds.images]


def test_quick_mode_keeps_a_random_sample_not_the_first_images(monkeypatch):
    monkeypatch.setitem(vaelab.data.QUICK_SIZES, "MNIST", (8, 4))
    images, labels = _mnist_folder(vaelab.data_root())
    ds = vaelab.load_mnist()
    assert len(ds) == 8 and len(vaelab.load_mnist(train=False)) == 4
    assert not torch.equal(ds.images, images[:8].unsqueeze(1).float() / 255), "the first 8 images"
    # Every image is one of the split's, with its own label, and none is taken twice.
    positions = _positions(ds, images)
    assert len(set(positions)) == 8 and torch.equal(ds.labels, labels[positions])


def test_subsets_are_the_same_in_every_run():
    images, _ = _mnist_folder(vaelab.data_root())
    first = vaelab.load_mnist(limit=12)
    torch.manual_seed(123)
    np.random.seed(123)
    second = vaelab.load_mnist(limit=12)
    assert torch.equal(first.images, second.images) and torch.equal(first.labels, second.labels)
    # The same sample a fresh process draws: a fixed seed, not the global state.
    assert _positions(first, images) == vaelab.data.subset_indices(40, 12).tolist()
    assert vaelab.data.subset_indices(40, 12).tolist() != list(range(12))
    # Smaller subsets are the first images of larger ones.
    assert torch.equal(vaelab.load_mnist(limit=5).images, first.images[:5])


def test_subsets_leave_the_global_random_state_alone():
    _mnist_folder(vaelab.data_root())
    torch.manual_seed(7)
    np.random.seed(7)
    random.seed(7)
    states = torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()
    vaelab.load_mnist(limit=10)
    vaelab.load_mnist(train=False)
    assert torch.equal(torch.get_rng_state(), states[0]), "torch's global generator was used"
    assert np.array_equal(np.random.get_state()[1], states[1]), "numpy's global generator was used"
    assert random.getstate() == states[2], "the random module's generator was used"


def test_a_subset_of_an_ordered_split_mixes_its_classes():
    _, labels = _sorted_mnist_folder(vaelab.data_root())
    ds = vaelab.load_mnist(limit=200)
    counts = torch.bincount(ds.labels, minlength=10)
    # 20 of each class expected; a first-200 subset would hold only 0s and 1s.
    assert counts.min() >= 8 and counts.max() <= 34, f"class counts {counts.tolist()}"


def test_without_a_subset_the_split_is_whole_and_in_order(monkeypatch):
    monkeypatch.delenv("VAELAB_QUICK")
    images, labels = _sorted_mnist_folder(vaelab.data_root())
    ds = vaelab.load_mnist()
    assert torch.equal(ds.labels, labels)
    assert torch.equal(ds.images, images.unsqueeze(1).float() / 255)
    assert torch.equal(vaelab.load_mnist(limit=5000).labels, labels), "a limit above the size"


class _FakeCifar:
    def __init__(self, root, train=True, download=False):
        self.data = np.arange(5 * 32 * 32 * 3, dtype=np.int64).reshape(5, 32, 32, 3) % 256
        self.data = self.data.astype(np.uint8)
        self.targets = [0, 1, 2, 3, 9]


class _SortedCifar:
    """100 images of each class, in class order; each image is filled with its position."""

    def __init__(self, root, train=True, download=False):
        self.data = np.repeat((np.arange(1000) % 256).astype(np.uint8), 32 * 32 * 3)
        self.data = self.data.reshape(1000, 32, 32, 3)
        self.targets = [i // 100 for i in range(1000)]


def test_real_cifar_is_channels_first_and_rescaled(monkeypatch):
    monkeypatch.setattr(vaelab.data.datasets, "CIFAR10", _FakeCifar)
    ds = vaelab.load_cifar10(value_range=(-1.0, 1.0))
    assert not ds.is_standin and ds.value_range == (-1.0, 1.0)
    assert ds.images.shape == (5, 3, 32, 32) and ds.images.dtype == torch.float32
    pixels = torch.from_numpy(_FakeCifar("").data).permute(0, 3, 1, 2).float() / 255
    assert torch.allclose(ds.images, pixels * 2 - 1)
    assert ds.labels.tolist() == [0, 1, 2, 3, 9] and ds.classes[9] == "truck"


def test_cifar_subsets_are_a_fixed_random_sample(monkeypatch):
    monkeypatch.setattr(vaelab.data.datasets, "CIFAR10", _SortedCifar)
    ds = vaelab.load_cifar10(limit=200)
    counts = torch.bincount(ds.labels, minlength=10)
    assert counts.min() >= 8 and counts.max() <= 34, f"class counts {counts.tolist()}"
    keep = vaelab.data.subset_indices(1000, 200)
    assert torch.equal(ds.labels, keep // 100)
    assert torch.equal(ds.images[:, 0, 0, 0], (keep % 256).float() / 255)
    assert torch.equal(vaelab.load_cifar10(limit=200).images, ds.images)
    monkeypatch.setitem(vaelab.data.QUICK_SIZES, "CIFAR-10", (64, 16))
    assert torch.equal(vaelab.load_cifar10().labels, keep[:64] // 100)


def test_standin_cifar_is_rescaled():
    ds = vaelab.load_cifar10(value_range=(-1.0, 1.0), limit=200)
    assert ds.images.min() >= -1 and ds.images.max() <= 1 and ds.images.min() < -0.5


def test_shared_mnist_digits(monkeypatch, shared_mnist, capsys):
    monkeypatch.setenv("VAELAB_DATA", str(shared_mnist))
    monkeypatch.delenv("VAELAB_QUICK")
    train, test = vaelab.load_mnist(), vaelab.load_mnist(train=False)
    assert not train.is_standin and not test.is_standin and capsys.readouterr().out == ""
    assert len(train) == 8000 and len(test) == 2000
    assert 0.1 < train.images.mean() < 0.16, "not MNIST's mean brightness"
    assert torch.bincount(train.labels).min() > 600
    monkeypatch.setenv("VAELAB_QUICK", "1")
    quick_train, quick_test = vaelab.load_mnist(), vaelab.load_mnist(train=False)
    assert len(quick_train) == 2048 and len(quick_test) == 512
    # A quick-mode split looks like the whole split: every class near its share, the same ink.
    for quick, whole in ((quick_train, train), (quick_test, test)):
        share = torch.bincount(quick.labels, minlength=10) / len(quick)
        whole_share = torch.bincount(whole.labels, minlength=10) / len(whole)
        assert (share - whole_share).abs().max() < 0.035, f"class shares {share.tolist()}"
        ink, whole_ink = quick.images.sum((1, 2, 3)), whole.images.sum((1, 2, 3))
        error = whole_ink.std() / len(quick) ** 0.5
        assert abs(ink.mean() - whole_ink.mean()) < 4 * error, "mean ink unlike the split's"


# 2-D Gaussian data

def _entropy(points: torch.Tensor) -> float:
    covariance = torch.cov(points.T.double())
    return math.log(2 * math.pi * math.e) + 0.5 * torch.logdet(covariance).item()


@pytest.mark.parametrize("kind, covariance", [("diagonal", [[9.0, 0.0], [0.0, 1.0]]),
                                              ("correlated", [[5.0, 4.0], [4.0, 5.0]])])
def test_gaussian_2d_statistics(kind, covariance):
    train, test = vaelab.gaussian_2d(kind)
    assert train.shape == (7000, 2) and test.shape == (3000, 2)
    assert train.dtype == torch.float32
    data = torch.cat([train, test])
    assert torch.allclose(data.mean(0), torch.tensor([2.0, 3.0]), atol=0.1)
    assert torch.allclose(torch.cov(data.T), torch.tensor(covariance), atol=0.3)
    assert abs(_entropy(data) - 3.9365) < 0.03


def test_gaussian_2d_is_seeded():
    a, _ = vaelab.gaussian_2d("correlated", n=100, seed=1)
    b, _ = vaelab.gaussian_2d("correlated", n=100, seed=1)
    c, _ = vaelab.gaussian_2d("correlated", n=100, seed=2)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert len(a) == 70


def test_gaussian_2d_rejects_unknown_kind():
    with pytest.raises(ValueError, match="diagonal"):
        vaelab.gaussian_2d("round")


# batches

def test_batches_visit_every_example_once_per_epoch():
    loader = vaelab.batches(torch.arange(10), batch_size=4, seed=0)
    assert len(loader) == 3
    epochs = [[batch.tolist() for batch in loader] for _ in range(2)]
    for epoch in epochs:
        assert [len(b) for b in epoch] == [4, 4, 2]
        assert sorted(sum(epoch, [])) == list(range(10))
    assert epochs[0] != epochs[1], "every epoch has the same order"


def test_batches_are_reproducible_with_a_seed():
    def order(seed):
        return [b.tolist() for b in vaelab.batches(torch.arange(50), 8, seed=seed)]

    assert order(1) == order(1)
    assert order(1) != order(2)
    torch.manual_seed(0)
    first = [b.tolist() for b in vaelab.batches(torch.arange(50), 8)]
    torch.manual_seed(0)
    assert [b.tolist() for b in vaelab.batches(torch.arange(50), 8)] == first


def test_batches_without_shuffle_keep_the_order():
    batches = list(vaelab.batches(torch.arange(7), 3, shuffle=False))
    assert [b.tolist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]


def test_batches_yield_pairs_for_labelled_data():
    ds = vaelab.load_mnist(limit=20)
    loader = vaelab.batches(ds, batch_size=8, shuffle=False)
    assert loader.dataset is ds and loader.batch_size == 8
    x, y = next(iter(loader))
    assert torch.equal(x, ds.images[:8]) and torch.equal(y, ds.labels[:8])
    for data in [(ds.images, ds.labels), TensorDataset(ds.images, ds.labels)]:
        x, y = next(iter(vaelab.batches(data, 8, shuffle=False)))
        assert torch.equal(y, ds.labels[:8])
    assert len(vaelab.batches(torch.zeros(20, 2)).dataset) == 20


def test_batches_keep_examples_and_labels_together():
    x = torch.arange(30).float().unsqueeze(1)
    for xb, yb in vaelab.batches((x, torch.arange(30) * 2), 7, seed=0):
        assert torch.equal(yb, xb[:, 0].long() * 2)


def test_batches_move_the_data_to_the_device():
    loader = vaelab.batches((torch.zeros(10, 3), torch.zeros(10)), 4, device="meta")
    assert all(t.device.type == "meta" for batch in loader for t in batch)


def test_batches_reject_bad_data():
    with pytest.raises(ValueError, match="length"):
        vaelab.batches((torch.zeros(3), torch.zeros(4)))
    with pytest.raises(TypeError, match="tensor"):
        vaelab.batches([[1, 2], [3, 4]])


# Binarised MNIST

@pytest.mark.parametrize("how", list(vaelab.Binarisation))
def test_binarised_standin_is_zeros_and_ones_and_the_same_every_run(how, capsys):
    grey = vaelab.load_mnist(train=False, limit=50)
    torch.manual_seed(5)
    first = vaelab.load_mnist(train=False, limit=50, binarisation=how)
    torch.manual_seed(6)
    second = vaelab.load_mnist(train=False, limit=50, binarisation=how)
    assert first.is_standin and "stand-in" in capsys.readouterr().out
    assert first.images.shape == grey.images.shape and first.images.dtype == torch.float32
    assert set(first.images.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(first.images, second.images), "the global seed changed the binary pixels"
    assert torch.equal(first.labels, grey.labels)


def test_stochastic_binarisation_follows_the_grey_levels():
    grey = vaelab.load_mnist(limit=400).images
    binary = vaelab.load_mnist(limit=400, binarisation=vaelab.Binarisation.STOCHASTIC).images
    assert torch.all(binary[grey == 0] == 0) and torch.all(binary[grey == 1] == 1)
    middle = (grey > 0.3) & (grey < 0.7)
    # Pixels with grey level g are 1 with probability g: the mean over many such pixels matches.
    assert middle.sum() > 1000
    assert abs(binary[middle].mean() - grey[middle].mean()) < 0.03
    assert not torch.equal(binary, (grey > 0.5).float()), "stochastic binarisation thresholded"


def test_binarisation_is_seeded_per_split_and_kept_by_subsets(monkeypatch):
    images, _ = _mnist_folder(vaelab.data_root())
    stochastic = vaelab.Binarisation.STOCHASTIC
    monkeypatch.delenv("VAELAB_QUICK")
    whole = vaelab.load_mnist(binarisation=stochastic)
    subset = vaelab.load_mnist(limit=12, binarisation=stochastic)
    # A subset's image has the pixels it has in the whole split.
    assert torch.equal(subset.images, whole.images[vaelab.data.subset_indices(40, 12)])
    # The test split (its first 20 images equal the train split's here) gets its own draw.
    test = vaelab.load_mnist(train=False, binarisation=stochastic)
    assert not torch.equal(test.images, whole.images[:20])
    threshold = vaelab.load_mnist(binarisation=vaelab.Binarisation.THRESHOLD)
    assert torch.equal(threshold.images, (images.unsqueeze(1) > 127).float())


def test_binarisation_must_be_a_binarisation():
    with pytest.raises(TypeError, match="Binarisation"):
        vaelab.load_mnist(binarisation="stochastic")


def test_binarised_shared_mnist_digits(monkeypatch, shared_mnist):
    monkeypatch.setenv("VAELAB_DATA", str(shared_mnist))
    grey = vaelab.load_mnist(train=False)
    binary = vaelab.load_mnist(train=False, binarisation=vaelab.Binarisation.STOCHASTIC)
    again = vaelab.load_mnist(train=False, binarisation=vaelab.Binarisation.STOCHASTIC)
    assert not binary.is_standin and len(binary) == len(grey) == 512
    assert set(binary.images.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(binary.images, again.images)
    assert abs(binary.images.mean() - grey.images.mean()) < 0.005, "not MNIST's ink, binarised"
