"""vaelab: data, building blocks, a training loop and plots for the autoencoder and VAE labs."""

from .data import (
    QUICK_SIZES,
    Binarisation,
    DataUnavailableError,
    ImageDataset,
    TensorBatches,
    batches,
    gaussian_2d,
    load_cifar10,
    load_mnist,
)
from .nn import (
    AutoregressiveDecoder,
    Reshape,
    conv_decoder,
    conv_encoder,
    count_parameters,
    mlp,
    to_images,
)
from .plots import (
    image_rows,
    interpolation_strip,
    latent_scatter,
    plot_2d,
    plot_history,
    show_images,
)
from .runtime import pick_device, seed_everything
from .settings import data_root, offline_mode, progress_style, quick_mode
from .train import History, fit

__all__ = [
    "QUICK_SIZES", "Binarisation", "DataUnavailableError", "ImageDataset", "TensorBatches", "batches",
    "gaussian_2d", "load_cifar10", "load_mnist",
    "AutoregressiveDecoder", "Reshape", "conv_decoder", "conv_encoder", "count_parameters", "mlp", "to_images",
    "image_rows", "interpolation_strip", "latent_scatter", "plot_2d", "plot_history",
    "show_images",
    "pick_device", "seed_everything",
    "data_root", "offline_mode", "progress_style", "quick_mode",
    "History", "fit",
]
