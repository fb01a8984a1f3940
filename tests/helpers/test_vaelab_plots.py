"""Plots return figures, draw what they are given, and show once in a notebook."""

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.figure import Figure

import vaelab
from vaelab.train import History


def _image_sizes(fig: Figure) -> list[tuple[int, ...]]:
    return [ax.images[0].get_array().shape for ax in fig.axes if ax.images]


def test_plot_history_draws_every_term_for_train_and_test():
    history = History(train={"loss": [3.0, 2.0], "kl": [1.0, 0.5]}, test={"loss": [3.5, 2.5]},
                      epochs_done=2)
    fig = vaelab.plot_history(history)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    loss_ax, kl_ax = fig.axes
    assert loss_ax.get_title() == "loss" and len(loss_ax.lines) == 2 and len(kl_ax.lines) == 1
    assert list(loss_ax.lines[1].get_ydata()) == [3.5, 2.5]
    assert len(vaelab.plot_history(history, terms=["kl"]).axes) == 1
    with pytest.raises(ValueError, match="empty"):
        vaelab.plot_history(History())


def test_show_images_tiles_a_grid():
    fig = vaelab.show_images(torch.rand(10, 784), nrow=5, title="digits")
    assert isinstance(fig, Figure) and fig._suptitle.get_text() == "digits"
    assert _image_sizes(fig) == [(2 * 30 + 2, 5 * 30 + 2, 3)]


def test_show_images_maps_the_value_range_to_black_and_white():
    images = torch.stack([torch.full((3, 4, 4), v) for v in (-1.0, 0.0, 1.0)])
    picture = vaelab.show_images(images, nrow=3, value_range=(-1, 1)).axes[0].images[0]
    row = torch.as_tensor(picture.get_array())[3, :, 0]
    assert row[[3, 9, 15]].tolist() == [0.0, 0.5, 1.0]


def test_image_rows_labels_each_row():
    x = torch.rand(6, 1, 28, 28, requires_grad=True)
    fig = vaelab.image_rows({"original": x, "reconstruction": x * 0.5})
    assert [ax.get_ylabel() for ax in fig.axes] == ["original", "reconstruction"]
    assert _image_sizes(fig) == [(32, 6 * 30 + 2, 3)] * 2


def test_plot_2d_draws_data_and_samples():
    train, _ = vaelab.gaussian_2d("diagonal", n=100)
    fig = vaelab.plot_2d(train, samples=train[:10], title="data")
    collections = fig.axes[0].collections
    assert [len(c.get_offsets()) for c in collections] == [70, 10]
    assert len(vaelab.plot_2d(train).axes[0].collections) == 1


def test_latent_scatter_colours_by_label():
    z = torch.randn(60, 5)
    labels = torch.arange(60) % 3
    fig = vaelab.latent_scatter(z, labels, classes=["zero", "one", "two"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["zero", "one", "two"]
    assert [len(c.get_offsets()) for c in ax.collections] == [20, 20, 20]
    assert torch.allclose(torch.as_tensor(ax.collections[1].get_offsets()), z[1::3, :2].double())
    with pytest.raises(ValueError):
        vaelab.latent_scatter(torch.randn(5, 1), labels[:5])


def test_interpolation_strip_one_or_several_rows():
    one = vaelab.interpolation_strip(torch.rand(7, 1, 28, 28), title="steps")
    assert _image_sizes(one) == [(32, 7 * 30 + 2, 3)]
    several = vaelab.interpolation_strip(torch.rand(3, 7, 3, 32, 32))
    assert _image_sizes(several) == [(3 * 34 + 2, 7 * 34 + 2, 3)]


def test_figure_displayed_in_a_notebook_leaves_pyplot():
    fig = vaelab.show_images(torch.rand(4, 1, 28, 28))
    assert plt.fignum_exists(fig.number), "pyplot would not show it after a line ending in ;"
    assert fig._repr_mimebundle_() == {}, "Jupyter's formatter should draw the figure"
    assert not plt.fignum_exists(fig.number), "pyplot would show it a second time"
