"""Data sets as in-memory tensors, and a fast batch iterator over them."""

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, TensorDataset
from torchvision import datasets

from . import standin
from .settings import DATA_ENV, OFFLINE_ENV, QUICK_ENV, data_root, offline_mode, quick_mode

# Images per split (train, test) in quick mode.
QUICK_SIZES = {"MNIST": (2048, 512), "CIFAR-10": (1024, 256)}
# Seed of the fixed random order that subsets of a real split are taken from: the same images
# on every machine and in every run, whatever the global random state.
SUBSET_SEED = 0
# Images per split (train, test) of the real data sets; a full-size stand-in has as many.
FULL_SIZES = {"MNIST": (60_000, 10_000), "CIFAR-10": (50_000, 10_000)}
# Where the files of each data set go inside the data folder, for the error message.
_LAYOUT = {
    "MNIST": "MNIST/raw/ (train-images-idx3-ubyte, train-labels-idx1-ubyte, "
    "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte)",
    "CIFAR-10": "cifar-10-batches-py/ (the folder inside cifar-10-python.tar.gz)",
}

# Seed of the fixed Bernoulli draws of stochastic binarisation; each split adds its own index.
BINARISE_SEED = 0

_announced: set[str] = set()


class Binarisation(Enum):
    """How load_mnist turns grey levels into 0/1 pixels.

    STOCHASTIC: pixel 1 with probability equal to its grey level, drawn once from a fixed seed
    (the binarised MNIST of the likelihood literature; the same draw in every run).
    THRESHOLD: pixel 1 where the grey level exceeds 1/2 (no noise at all: a different, easier
    benchmark whose log-likelihoods do not compare with the stochastic version's).
    """

    STOCHASTIC = "stochastic"
    THRESHOLD = "threshold"

Reader = Callable[[Path, bool, bool], tuple[torch.Tensor, torch.Tensor]]  # root, train, download
Maker = Callable[[int, int], tuple[torch.Tensor, torch.Tensor]]  # count, seed


class DataUnavailableError(RuntimeError):
    """The real data could not be found or downloaded, and no stand-in was allowed."""


@dataclass(eq=False)
class ImageDataset(Dataset):
    """Images and labels held in memory; `ds[i]` is `(image, label)` like a torchvision data set."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]
    name: str
    is_standin: bool = False
    value_range: tuple[float, float] = (0.0, 1.0)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index):
        return self.images[index], self.labels[index]

    def __repr__(self) -> str:
        shape = "x".join(str(s) for s in self.images.shape[1:])
        kind = "generated stand-in" if self.is_standin else "real data"
        return f"ImageDataset({self.name}, {len(self)} images of {shape}, {kind})"


def _read_mnist(root: Path, train: bool, download: bool) -> tuple[torch.Tensor, torch.Tensor]:
    mnist = datasets.MNIST(root, train=train, download=download)
    return mnist.data.unsqueeze(1), mnist.targets


def _read_cifar10(root: Path, train: bool, download: bool) -> tuple[torch.Tensor, torch.Tensor]:
    cifar = datasets.CIFAR10(root, train=train, download=download)
    return torch.from_numpy(cifar.data).permute(0, 3, 1, 2), torch.tensor(cifar.targets)


def _subset_size(name: str, train: bool, limit: int | None) -> int | None:
    """How many images to keep: `limit`, else the quick-mode size, else all (None)."""
    if limit is not None:
        return limit
    if quick_mode():
        return QUICK_SIZES[name][0 if train else 1]
    return None


def subset_indices(total: int, size: int | None) -> torch.Tensor | None:
    """Positions of a representative subset of `size` images out of `total`, or None for all.

    A fixed, seeded random sample (not the first `size`: real splits are ordered, MNIST's test
    set by writer), drawn with its own generator so the global random state is left alone.
    Smaller subsets are the first images of larger ones.
    """
    if size is None or size >= total:
        return None
    order = np.random.default_rng(SUBSET_SEED).permutation(total)[:max(size, 0)]
    return torch.from_numpy(order)


def _missing_message(name: str, error: Exception) -> str:
    root = data_root()
    reason = str(error).strip().splitlines()[0]
    return (
        f"{name} is not in {root} and could not be downloaded ({reason}).\n"
        f"To get it, do one of these and run again:\n"
        f"  - connect to the internet: it is downloaded into {root} by itself;\n"
        f"  - copy the files into {root}/{_LAYOUT[name]};\n"
        f"  - set the environment variable {DATA_ENV} to a folder that already holds them.\n"
        f"To run without the real data, set {QUICK_ENV}=1: a small generated stand-in is used."
    )


def _announce_standin(name: str, offline: bool) -> None:
    """Say, once per data set and process, that generated images replace the real ones."""
    if name in _announced:
        return
    _announced.add(name)
    why = f"{OFFLINE_ENV} is set" if offline else "it could not be downloaded"
    print(
        f"vaelab: {name} is not in {data_root()} and {why}, so this run uses generated "
        f"stand-in images with the same shapes, value range and labels. They are not {name}: "
        f"results on them say nothing about {name}. To use the real data, run once with "
        f"internet access and {OFFLINE_ENV} unset, or set {DATA_ENV} to a folder that holds it."
    )


def binarise(images: torch.Tensor, how: Binarisation, seed: int) -> torch.Tensor:
    """Grey levels in [0, 1], (N, ...) -> float32 0/1 of the same shape.

    STOCHASTIC compares every pixel with a uniform number from one generator seeded by `seed`,
    drawn image after image: image i gets the same pixels whatever follows it.
    """
    if not isinstance(how, Binarisation):
        raise TypeError(f"binarise takes a vaelab.Binarisation, not {how!r}")
    if how is Binarisation.THRESHOLD:
        return (images > 0.5).float()
    uniform = np.random.default_rng(seed).random(tuple(images.shape), dtype=np.float32)
    return (torch.from_numpy(uniform) < images).float()


def _load(name: str, train: bool, limit: int | None, read: Reader, make_standin: Maker,
          classes: list[str], binarisation: Binarisation | None = None) -> ImageDataset:
    """The real data set if it can be had, else a stand-in in quick or offline mode.

    A binarisation applies to the whole split before a subset is taken, so that an image has
    the same pixels in every subset that holds it.
    """
    seed = BINARISE_SEED + (0 if train else 1)
    size = _subset_size(name, train, limit)
    offline = offline_mode()
    try:
        images, labels = read(data_root(), train, not offline)
    except (RuntimeError, OSError) as error:
        if not (offline or quick_mode()):
            raise DataUnavailableError(_missing_message(name, error)) from error
        _announce_standin(name, offline)
        count = size if size is not None else FULL_SIZES[name][0 if train else 1]
        images, labels = make_standin(count, 0 if train else 1)
        if binarisation is not None:
            images = binarise(images, binarisation, seed)
        return ImageDataset(images, labels, classes, name, is_standin=True)
    images = images.float().div(255)
    if binarisation is not None:
        images = binarise(images, binarisation, seed)
    keep = subset_indices(len(images), size)
    if keep is not None:
        images, labels = images[keep], labels[keep]
    return ImageDataset(images, labels.long(), classes, name)


def load_mnist(train: bool = True, *, limit: int | None = None,
               binarisation: Binarisation | None = None) -> ImageDataset:
    """MNIST digits: images (N, 1, 28, 28) float32 in [0, 1], labels (N,) int64.

    `limit` keeps a fixed random sample of `limit` images (the same in every run); in quick mode
    the default is QUICK_SIZES["MNIST"]. The stand-in's images are independent draws.
    `binarisation` turns the grey levels into 0/1 pixels (see Binarisation); a stochastic
    draw is seeded by BINARISE_SEED plus 0 (train) or 1 (test) and made over the whole split,
    so the same image gets the same pixels in every run and every subset.
    """
    if binarisation is not None and not isinstance(binarisation, Binarisation):
        raise TypeError(f"binarisation must be a vaelab.Binarisation or None, not {binarisation!r}")
    return _load("MNIST", train, limit, _read_mnist, standin.fake_mnist, standin.MNIST_CLASSES,
                 binarisation)


def load_cifar10(train: bool = True, *, value_range: tuple[float, float] = (0.0, 1.0),
                 limit: int | None = None) -> ImageDataset:
    """CIFAR-10 colour images (N, 3, 32, 32) float32, linearly rescaled to `value_range`."""
    ds = _load("CIFAR-10", train, limit, _read_cifar10, standin.fake_cifar10,
               standin.CIFAR10_CLASSES)
    low, high = value_range
    ds.images = low + (high - low) * ds.images
    ds.value_range = (low, high)
    return ds


GAUSSIAN_MEAN = (2.0, 3.0)
GAUSSIAN_STD = (3.0, 1.0)


def gaussian_2d(kind: str, n: int = 10_000, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Points from a 2-D Gaussian with mean (2, 3) and standard deviations (3, 1).

    kind "diagonal": axis-aligned; "correlated": the same cloud rotated by 45 degrees about its
    mean. Returns float32 (train, test) tensors of shapes (0.7 n, 2) and (0.3 n, 2).
    """
    if kind not in ("diagonal", "correlated"):
        raise ValueError(f'kind must be "diagonal" or "correlated", not {kind!r}')
    g = torch.Generator().manual_seed(seed)
    points = torch.randn(n, 2, generator=g) * torch.tensor(GAUSSIAN_STD)
    if kind == "correlated":
        c = s = math.sqrt(0.5)  # cos and sin of 45 degrees
        points = points @ torch.tensor([[c, s], [-s, c]])
    points = points + torch.tensor(GAUSSIAN_MEAN)
    n_train = round(0.7 * n)
    return points[:n_train], points[n_train:]


def _tensors_of(data) -> tuple[torch.Tensor, ...]:
    """The tensors that batches are cut from."""
    if isinstance(data, ImageDataset):
        return data.images, data.labels
    if isinstance(data, TensorDataset):
        return data.tensors
    if isinstance(data, torch.Tensor):
        return (data,)
    if isinstance(data, (tuple, list)) and all(isinstance(t, torch.Tensor) for t in data):
        return tuple(data)
    raise TypeError(f"batches() takes a vaelab data set, a tensor or a tuple of tensors, "
                    f"not {type(data).__name__}")


class TensorBatches:
    """Mini-batches cut from in-memory tensors, iterated like a torch DataLoader.

    Each pass is one epoch: with `shuffle`, a fresh random order that visits every example once.
    """

    def __init__(self, data, batch_size: int = 128, *, shuffle: bool = True,
                 device: torch.device | str | None = None, seed: int | None = None):
        tensors = _tensors_of(data)
        if len({len(t) for t in tensors}) != 1:
            raise ValueError(f"tensors differ in length: {[len(t) for t in tensors]}")
        self.dataset = data if isinstance(data, Dataset) else TensorDataset(*tensors)
        self.tensors = tuple(t.to(device) for t in tensors) if device is not None else tensors
        self.single = isinstance(data, torch.Tensor)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(seed) if seed is not None else None

    def __len__(self) -> int:
        return math.ceil(len(self.tensors[0]) / self.batch_size)

    def _order(self) -> torch.Tensor:
        n = len(self.tensors[0])
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        return order.to(self.tensors[0].device)

    def __iter__(self) -> Iterator:
        order = self._order()
        for index in order.split(self.batch_size):
            batch = tuple(t.index_select(0, index) for t in self.tensors)
            yield batch[0] if self.single else batch


def batches(data, batch_size: int = 128, *, shuffle: bool = True,
            device: torch.device | str | None = None, seed: int | None = None) -> TensorBatches:
    """Iterate over `data` in mini-batches the way a DataLoader would, without its overhead.

    data: a vaelab data set or TensorDataset (batches are (x, y) tuples), a tuple of tensors
    (tuples), or a tensor (bare batches). The tensors are moved to `device` once, up front.
    `seed` makes the shuffled order reproducible; without it the global torch seed decides.
    """
    return TensorBatches(data, batch_size, shuffle=shuffle, device=device, seed=seed)
