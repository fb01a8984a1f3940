"""One epoch of the same MLP VAE three ways: vaelab, a torchvision DataLoader, compute only.

    python bench/bench_training.py [--repeats 9] [--threads N] [--standin]

All three train the same 784-400-20 VAE (binary cross-entropy) on the same images with the same
batch size and number of optimiser steps:

  vaelab      vaelab.fit over vaelab.batches (progress bars on, written to /dev/null)
  DataLoader  a plain loop over DataLoader(MNIST(transform=ToTensor()), shuffle=True)
  compute     the same steps over batches made in advance: no data pipeline, no bars

Each is timed by the wall clock and by the CPU time of this process; with one torch thread
everything runs in this process, so CPU time hardly changes when other programs share the CPU.

The images are the real MNIST digits of ../shared/data/mnist-t10k-shuffled when that folder
exists (8,000 training images), else vaelab's generated stand-in written to MNIST files in a
temporary folder, so that torchvision reads them exactly as it reads the real ones.
"""

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

import vaelab
from vaelab.standin import fake_mnist

SHARED_MNIST = (Path(__file__).resolve().parents[1] / "../shared/data/mnist-t10k-shuffled").resolve()
STANDIN_SIZES = {"train": 8000, "t10k": 2000}


class MlpVae(nn.Module):
    """784-400-20 VAE with a Bernoulli decoder; forward returns its losses per image."""

    def __init__(self):
        super().__init__()
        self.encoder = vaelab.mlp([784, 400], final_activation=nn.ReLU)
        self.mean = nn.Linear(400, 20)
        self.log_var = nn.Linear(400, 20)
        self.decoder = vaelab.mlp([20, 400, 784])

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = x.flatten(1)
        h = self.encoder(x)
        mean, log_var = self.mean(h), self.log_var(h)
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
        logits = self.decoder(z)
        reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
        kl = -0.5 * torch.sum(1 + log_var - mean**2 - log_var.exp()) / len(x)
        return {"loss": reconstruction + kl, "reconstruction": reconstruction, "kl": kl}


def write_mnist_files(root: Path) -> None:
    """Write stand-in digits as the idx files torchvision's MNIST reads, under root/MNIST/raw."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for seed, (prefix, n) in enumerate(STANDIN_SIZES.items()):
        images, labels = fake_mnist(n, seed=seed)
        pixels = images.mul(255).round().to(torch.uint8).numpy()
        header = np.array([0x803, n, 28, 28], dtype=">u4").tobytes()
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(header + pixels.tobytes())
        header = np.array([0x801, n], dtype=">u4").tobytes()
        labels = labels.to(torch.uint8).numpy()
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(header + labels.tobytes())


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    model(x)["loss"].backward()
    optimizer.step()


def run_vaelab(model, optimizer, train_set, batch_size) -> int:
    loader = vaelab.batches(train_set, batch_size)
    with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
        vaelab.fit(model, loader, optimizer, 1)
    return len(loader)


def run_dataloader(model, optimizer, mnist, batch_size) -> int:
    steps = 0
    model.train()
    for x, _ in DataLoader(mnist, batch_size=batch_size, shuffle=True):
        train_step(model, optimizer, x)
        steps += 1
    return steps


def run_compute(model, optimizer, premade: list[torch.Tensor]) -> int:
    model.train()
    for x in premade:
        train_step(model, optimizer, x)
    return len(premade)


def timed(run: Callable[[nn.Module, torch.optim.Optimizer], int]) -> tuple[float, float, int]:
    """Wall and CPU seconds for one epoch from the same initial model, and the steps taken."""
    torch.manual_seed(0)
    model = MlpVae()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    wall, cpu = time.perf_counter(), time.process_time()
    steps = run(model, optimizer)
    return time.perf_counter() - wall, time.process_time() - cpu, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="torch threads (default: torch's own choice, as a user gets)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--standin", action="store_true",
                        help="use the generated stand-in even when the shared MNIST folder exists")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        if (SHARED_MNIST / "MNIST" / "raw").is_dir() and not args.standin:
            root, source = SHARED_MNIST, f"real MNIST digits from {SHARED_MNIST}"
        else:
            root, source = Path(tmp), "generated stand-in digits written to MNIST files"
            write_mnist_files(root)
        os.environ.update(VAELAB_DATA=str(root), VAELAB_OFFLINE="1")
        os.environ.pop("VAELAB_QUICK", None)
        # Each way reads the files once, outside the timing.
        train_set = vaelab.load_mnist(train=True)
        mnist = datasets.MNIST(root, train=True, transform=transforms.ToTensor())
        premade = list(train_set.images.split(args.batch_size))

        runs = {
            "vaelab": lambda m, o: run_vaelab(m, o, train_set, args.batch_size),
            "DataLoader": lambda m, o: run_dataloader(m, o, mnist, args.batch_size),
            "compute": lambda m, o: run_compute(m, o, premade),
        }
        wall: dict[str, list[float]] = {name: [] for name in runs}
        cpu: dict[str, list[float]] = {name: [] for name in runs}
        names = list(runs)
        for round_ in range(args.repeats + 1):  # round 0 is the warm-up
            for name in names[round_ % 3:] + names[:round_ % 3]:  # vary the order
                wall_s, cpu_s, steps = timed(runs[name])
                assert steps == len(premade), f"{name} took {steps} steps, not {len(premade)}"
                if round_ > 0:
                    wall[name].append(wall_s)
                    cpu[name].append(cpu_s)

    print(f"One epoch of a 784-400-20 MLP VAE on {len(train_set)} images, {source}")
    print(f"batch size {args.batch_size}, {len(premade)} steps, {args.threads} torch thread(s), "
          f"{args.repeats} runs after a warm-up\n")
    print(f"{'':12}{'wall median':>12}{'wall min':>10}{'wall max':>10}{'CPU median':>12}")
    for name in runs:
        print(f"{name:12}{statistics.median(wall[name]):12.3f}{min(wall[name]):10.3f}"
              f"{max(wall[name]):10.3f}{statistics.median(cpu[name]):12.3f}")
    print(f"\n{'ratio of medians':24}{'wall':>8}{'CPU':>8}{'target':>10}")
    for label, slow, fast, target in [("DataLoader / vaelab", "DataLoader", "vaelab", ">= 1.8"),
                                      ("vaelab / compute", "vaelab", "compute", "<= 1.1")]:
        ratios = [statistics.median(t[slow]) / statistics.median(t[fast]) for t in (wall, cpu)]
        print(f"{label:24}{ratios[0]:7.2f}x{ratios[1]:7.2f}x{target:>10}")


if __name__ == "__main__":
    main()
