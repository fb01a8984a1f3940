"""Plots for the labs. Each function returns a matplotlib Figure and works without a display.

In a notebook the figure shows exactly once: as the value of a cell, after a line ending in
`;`, or when assigned (`fig = ...`). Elsewhere, save it with fig.savefig(path).
"""

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from torchvision.utils import make_grid

from .nn import to_images
from .train import History

ValueRange = tuple[float, float]
_INCHES_PER_PIXEL = 0.035


class LabFigure(Figure):
    """A matplotlib Figure that a notebook shows once, whether or not it is a cell's value.

    pyplot shows every open figure when a cell ends. A figure that is displayed before that
    (as the cell's value, or by IPython.display.display) leaves pyplot as it is displayed, so
    that it is not shown a second time. Jupyter's own matplotlib formatter draws it.
    """

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        plt.close(self)
        return {}


def _figure(nrows: int = 1, ncols: int = 1, **kwargs):
    """A new LabFigure and its (nrows, ncols) array of axes."""
    return plt.subplots(nrows, ncols, squeeze=False, FigureClass=LabFigure, **kwargs)


def _finish(fig: Figure, title: str | None = None) -> Figure:
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _grid(images: torch.Tensor, nrow: int, value_range: ValueRange) -> torch.Tensor:
    """Images tiled into one (H, W, 3) picture with values in [0, 1]."""
    images = to_images(images.detach().cpu().float())
    low, high = value_range
    images = ((images - low) / (high - low)).clamp(0, 1)
    return make_grid(images, nrow=nrow, padding=2, pad_value=1.0).permute(1, 2, 0)


def _show_grid(ax, grid: torch.Tensor, label: str | None = None) -> None:
    """Draw an image grid on `ax` without ticks or frame, with `label` on its left."""
    ax.imshow(grid.numpy())
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if label:
        ax.set_ylabel(label, rotation=0, ha="right", va="center")


def plot_history(history: History, terms: Sequence[str] | None = None) -> Figure:
    """Training curves: one panel per loss term, train (solid) and test (dashed) per epoch."""
    if terms is None:
        terms = list(dict.fromkeys([*history.train, *history.test]))
    if not terms:
        raise ValueError("the history is empty: no epoch has finished yet")
    fig, axes = _figure(1, len(terms), figsize=(4 * len(terms), 3))
    for ax, term in zip(axes[0], terms):
        for split, values, style in (("train", history.train, "-"), ("test", history.test, "--")):
            if term in values:
                epochs = range(1, len(values[term]) + 1)
                ax.plot(epochs, values[term], style, marker=".", label=split)
        ax.set(title=term, xlabel="epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend()
    return _finish(fig)


def show_images(images: torch.Tensor, *, nrow: int = 8, title: str | None = None,
                value_range: ValueRange = (0, 1)) -> Figure:
    """A grid of images, `nrow` per row. Images: (N, C, H, W), (N, H, W) or flat (N, 784)."""
    grid = _grid(images, nrow, value_range)
    height, width = grid.shape[:2]
    fig, axes = _figure(figsize=(max(2.0, width * _INCHES_PER_PIXEL),
                                 max(1.0, height * _INCHES_PER_PIXEL)))
    _show_grid(axes[0, 0], grid)
    return _finish(fig, title)


def image_rows(rows: Mapping[str, torch.Tensor], *, value_range: ValueRange = (0, 1),
               title: str | None = None) -> Figure:
    """One labelled row per entry, e.g. originals above their reconstructions."""
    grids = [_grid(images, len(images), value_range) for images in rows.values()]
    width = max(grid.shape[1] for grid in grids)
    fig, axes = _figure(len(grids), 1, figsize=(max(3.0, width * _INCHES_PER_PIXEL + 1),
                                                0.4 + 1.1 * len(grids)))
    for ax, name, grid in zip(axes[:, 0], rows, grids):
        _show_grid(ax, grid, name)
    return _finish(fig, title)


def plot_2d(points: torch.Tensor, *, samples: torch.Tensor | None = None,
            title: str | None = None) -> Figure:
    """2-D data as a scatter plot, with model samples over it when given."""
    fig, axes = _figure(figsize=(5, 5))
    ax = axes[0, 0]
    points = points.detach().cpu()
    ax.scatter(points[:, 0], points[:, 1], s=4, alpha=0.4, label="data")
    if samples is not None:
        samples = samples.detach().cpu()
        ax.scatter(samples[:, 0], samples[:, 1], s=4, alpha=0.4, label="samples")
    ax.set(xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
    ax.legend(markerscale=3)
    return _finish(fig, title)


def latent_scatter(z: torch.Tensor, labels: torch.Tensor, *, title: str | None = None,
                   classes: Sequence[str] | None = None) -> Figure:
    """Latent codes as points coloured by label (the first two latent dimensions)."""
    z, labels = z.detach().cpu(), labels.detach().cpu()
    if z.dim() != 2 or z.shape[1] < 2:
        raise ValueError(f"z must have shape (N, 2) or (N, more), got {tuple(z.shape)}")
    fig, axes = _figure(figsize=(6, 5))
    ax = axes[0, 0]
    cmap = plt.get_cmap("tab10")
    for label in labels.unique().tolist():
        chosen = labels == label
        name = classes[label] if classes is not None else str(label)
        ax.scatter(z[chosen, 0], z[chosen, 1], s=4, alpha=0.6, color=cmap(label % 10),
                   label=name)
    ax.set(xlabel="$z_1$", ylabel="$z_2$")
    ax.legend(markerscale=3, loc="center left", bbox_to_anchor=(1, 0.5))
    return _finish(fig, title)


def interpolation_strip(images: torch.Tensor, *, title: str | None = None,
                        value_range: ValueRange = (0, 1)) -> Figure:
    """Images side by side from first (left) to last (right), e.g. decoded interpolation steps.

    images: one strip (steps, C, H, W), (steps, H, W) or (steps, 784), or several strips
    stacked as (strips, steps, C, H, W), drawn one above the other.
    """
    steps = images.shape[1] if images.dim() == 5 else len(images)
    grid = _grid(images.flatten(0, 1) if images.dim() == 5 else images, steps, value_range)
    fig, axes = _figure(figsize=(max(3.0, grid.shape[1] * _INCHES_PER_PIXEL),
                                 0.4 + grid.shape[0] * _INCHES_PER_PIXEL))
    _show_grid(axes[0, 0], grid)
    return _finish(fig, title)
