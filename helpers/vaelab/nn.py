"""Model building blocks: layer stacks by size lists and image shape helpers."""

from collections.abc import Sequence

import torch
from torch import nn

Activation = type[nn.Module] | nn.Module


def _as_module(activation: Activation) -> nn.Module:
    """An activation given as a class (nn.ReLU) or as a module (nn.ReLU()), as a module."""
    return activation() if isinstance(activation, type) else activation


def _stack(layers: list[nn.Module], activation: Activation,
           final_activation: Activation | None) -> nn.Sequential:
    """Layers with `activation` between them and `final_activation`, if any, after the last."""
    modules: list[nn.Module] = []
    for i, layer in enumerate(layers):
        if i > 0:
            modules.append(_as_module(activation))
        modules.append(layer)
    if final_activation is not None:
        modules.append(_as_module(final_activation))
    return nn.Sequential(*modules)


def mlp(sizes: Sequence[int], activation: Activation = nn.ReLU,
        final_activation: Activation | None = None) -> nn.Sequential:
    """Linear layers between consecutive `sizes`, with `activation` between them.

    mlp([784, 400, 20]) is Linear(784, 400), ReLU, Linear(400, 20). No activation follows the
    last layer unless `final_activation` is given (nn.Sigmoid() or nn.Sigmoid).
    """
    if len(sizes) < 2:
        raise ValueError(f"mlp needs at least two sizes (input and output), got {list(sizes)}")
    layers = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    return _stack(layers, activation, final_activation)


def conv_encoder(channels: Sequence[int], activation: Activation = nn.ReLU,
                 final_activation: Activation | None = None) -> nn.Sequential:
    """Convolutions between consecutive `channels`, each halving the height and width.

    Each layer is Conv2d(kernel 4, stride 2, padding 1): an even size H becomes H / 2 exactly.
    conv_encoder([3, 32, 64]) maps (N, 3, 32, 32) to (N, 64, 8, 8).
    """
    if len(channels) < 2:
        raise ValueError(f"conv_encoder needs at least two channel counts, got {list(channels)}")
    layers = [nn.Conv2d(a, b, 4, stride=2, padding=1) for a, b in zip(channels[:-1], channels[1:])]
    return _stack(layers, activation, final_activation)


def conv_decoder(channels: Sequence[int], activation: Activation = nn.ReLU,
                 final_activation: Activation | None = None) -> nn.Sequential:
    """Transposed convolutions between consecutive `channels`, each doubling height and width.

    Each layer is ConvTranspose2d(kernel 4, stride 2, padding 1): size H becomes 2 H exactly.
    conv_decoder([64, 32, 3]) maps (N, 64, 8, 8) to (N, 3, 32, 32).
    """
    if len(channels) < 2:
        raise ValueError(f"conv_decoder needs at least two channel counts, got {list(channels)}")
    layers = [nn.ConvTranspose2d(a, b, 4, stride=2, padding=1)
              for a, b in zip(channels[:-1], channels[1:])]
    return _stack(layers, activation, final_activation)


class Reshape(nn.Module):
    """Reshape every example of a batch: Reshape(1, 28, 28) turns (N, 784) into (N, 1, 28, 28)."""

    def __init__(self, *shape: int):
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(len(x), *self.shape)

    def extra_repr(self) -> str:
        return ", ".join(str(s) for s in self.shape)


class AutoregressiveDecoder(nn.Module):
    """Decoder logits for images in which every pixel also reads the pixels before it.

    The logit of pixel i (in reading order: row by row, left to right) is a function of the code
    z plus a linear function of the `context` pixels just before it, i - context .. i - 1. With
    context=0 it is a plain decoder of z; with context=pixels - 1 each pixel reads all earlier
    ones. forward(z, x) takes the images x being explained (teacher forcing): logits (N, 1, H, W)
    for x of shape (N, 1, H, W) and z of shape (N, latent_dim).
    """

    def __init__(self, latent_dim: int, context: int, hidden: int = 256, side: int = 28):
        super().__init__()
        pixels = side * side
        if not 0 <= context < pixels:
            raise ValueError(f"context must be between 0 and {pixels - 1}, got {context}")
        self.side = side
        self.context = context
        self.from_code = mlp([latent_dim, hidden, pixels])
        self.from_before = nn.Linear(pixels, pixels, bias=False)
        position = torch.arange(pixels)
        distance = position[:, None] - position[None, :]  # row: pixel predicted, column: pixel read
        self.register_buffer("mask", ((distance >= 1) & (distance <= context)).float())

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        before = nn.functional.linear(x.flatten(1), self.from_before.weight * self.mask)
        return (self.from_code(z) + before).view(-1, 1, self.side, self.side)

    def extra_repr(self) -> str:
        return f"context={self.context}"


def to_images(x: torch.Tensor, shape: Sequence[int] | None = None) -> torch.Tensor:
    """A batch of images (N, C, H, W) from flat vectors (N, D) or grey images (N, H, W).

    Without `shape`, a flat D is read as one square channel (784 -> 1x28x28) or three
    (3072 -> 3x32x32). Image batches (N, C, H, W) are returned as they are.
    """
    if shape is not None:
        return x.reshape(len(x), *shape)
    if x.dim() == 4:
        return x
    if x.dim() == 3:
        return x.unsqueeze(1)
    if x.dim() == 2:
        for c in (1, 3):
            side = round((x.shape[1] / c) ** 0.5)
            if c * side * side == x.shape[1]:
                return x.reshape(len(x), c, side, side)
    raise ValueError(f"cannot tell the image shape of a tensor of shape {tuple(x.shape)}; "
                     f"pass shape=(C, H, W)")


def count_parameters(model: nn.Module) -> int:
    """The number of parameters (weights and biases) of `model`."""
    return sum(p.numel() for p in model.parameters())
