"""vaelab: data, building blocks, a training loop and plots for the autoencoder and VAE labs.

Each name is loaded from its submodule the first time it is used (PEP 562), so that
``import vaelab.probes`` (numpy only) does not import torch or matplotlib. ``from vaelab import
fit``, ``vaelab.fit`` and ``from vaelab import *`` work as with names imported eagerly.
"""
from __future__ import annotations

import importlib
from typing import Any

_SUBMODULE_OF = {  # public name -> the submodule that defines it
    **dict.fromkeys(("QUICK_SIZES", "Binarisation", "DataUnavailableError", "ImageDataset", "TensorBatches", "batches",
                     "gaussian_2d", "load_cifar10", "load_mnist"), "data"),
    **dict.fromkeys(("AutoregressiveDecoder", "Reshape", "conv_decoder", "conv_encoder", "count_parameters", "mlp",
                     "to_images"), "nn"),
    **dict.fromkeys(("image_rows", "interpolation_strip", "latent_scatter", "plot_2d", "plot_history",
                     "show_images"), "plots"),
    **dict.fromkeys(("pick_device", "seed_everything"), "runtime"),
    **dict.fromkeys(("data_root", "offline_mode", "progress_style", "quick_mode"), "settings"),
    **dict.fromkeys(("History", "fit"), "train"),
}
_SUBMODULES = frozenset(("data", "nn", "plots", "probes", "runtime", "settings", "standin", "train"))

__all__ = list(_SUBMODULE_OF)


def __getattr__(name: str) -> Any:
    """A public name or a submodule, imported on first use and kept in the package's namespace."""
    if name in _SUBMODULE_OF:
        value = getattr(importlib.import_module(f".{_SUBMODULE_OF[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})
