"""A class of lab 1 for the similarity tests and benchmark: independent work, blanks and planted copies.

Amara, Ben and Chloe solved the lab each in their own way (names, structure, idioms); Dmitri
wrote four exercises himself and copied two of Amara's. The copies: Amara's notebook with every
identifier renamed, Ben's with its comments reworded and its spacing changed, Chloe's with its
cells and functions reordered, and the lab's solution key with new names and comments.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
LAB = "lab1_autoencoders"
RELEASE = REPO / "release" / f"{LAB}.ipynb"
SOLUTIONS = REPO / "solutions" / f"{LAB}.ipynb"
AUTOGRADER_SOURCE = REPO / "autograder" / "source" / LAB

AMARA = {
    "solution-1": '''class Autoencoder(nn.Module):
    """Fully connected autoencoder for (B, 1, 28, 28) images: 784 -> 128 -> 64 -> 128 -> 784."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Flatten(start_dim=1),
            nn.Linear(784, 128), nn.ReLU(),
            nn.Linear(128, 64))
        self.decoder = nn.Sequential(
            nn.Linear(64, 128), nn.ReLU(),
            nn.Linear(128, 784),
            nn.Unflatten(dim=1, unflattened_size=(1, 28, 28)))

    def logits(self, x):
        """Unbounded reconstruction scores, shape (B, 1, 28, 28)."""
        z = self.encoder(x)   # the 64 numbers
        return self.decoder(z)

    def forward(self, x):
        """Reconstruction with values in [0, 1], shape (B, 1, 28, 28)."""
        return self.logits(x).sigmoid()
''',
    "solution-2": '''class DenoisingAutoencoder(nn.Module):
    """Adds Gaussian noise of standard deviation noise_factor to the input, then reconstructs it."""

    def __init__(self, autoencoder, noise_factor=0.5):
        super().__init__()
        self.autoencoder = autoencoder
        self.noise_factor = noise_factor

    def add_noise(self, x):
        """x + noise_factor * standard normal noise, not clipped; x itself is left unchanged."""
        eps = torch.randn_like(x)
        corrupted = x + eps * self.noise_factor
        return corrupted

    def forward(self, x):
        """Reconstruction of a freshly corrupted copy of x."""
        noisy = self.add_noise(x)
        return self.autoencoder(noisy)
''',
    "solution-3": '''def reconstruction_loss(model, batch):
    """Squared error between model(x) and x, summed over pixels, averaged over the batch."""
    images, _ = batch
    diff = model(images) - images
    per_image = (diff * diff).sum(dim=(1, 2, 3))
    return per_image.mean()
''',
    "solution-4": '''class ConvAutoencoder(nn.Module):
    """Convolutional autoencoder: three conv + pool stages down, transposed convolutions up."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 4, 3, padding=1), nn.MaxPool2d(2, ceil_mode=True),
        )
        # (n - 1) * 2 - 2 + 3 + op: 4 -> 7 with op 0, then 7 -> 14 -> 28 with op 1
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(4, 16, 3, 2, 1, 0), nn.BatchNorm2d(16), nn.ReLU(),
            nn.ConvTranspose2d(16, 8, 3, 2, 1, 1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.ConvTranspose2d(8, 1, 3, 2, 1, 1),
        )

    def logits(self, x):
        return self.decoder(self.encoder(x))

    def forward(self, x):
        return torch.sigmoid(self.logits(x))
''',
    "solution-5": '''def bernoulli_nll(logits, x):
    """-log p(x | logits) under independent Bernoulli pixels, summed over pixels, mean over the batch."""
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return bce.flatten(1).sum(dim=1).mean()


def gaussian_nll(mean, x, sigma):
    """-log N(x | mean, sigma^2 I), summed over pixels, mean over the batch (sigma: a positive float)."""
    var = sigma ** 2
    nll = (x - mean) ** 2 / (2 * var) + 0.5 * math.log(2 * math.pi * var)
    return nll.flatten(1).sum(dim=1).mean()
''',
    "solution-6": '''def make_denoiser():
    """A fresh, untrained model: noisy (B, 1, 28, 28) images -> clean estimates (B, 1, 28, 28)."""
    # three same-size convolutions, about 10k parameters, no pooling
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 1, 3, padding=1), nn.Sigmoid(),
    )


DENOISER_LR = (
    3e-3
)
''',
}

BEN = {
    "solution-1": '''class Autoencoder(nn.Module):
    """Fully connected autoencoder for (B, 1, 28, 28) images: 784 -> 128 -> 64 -> 128 -> 784."""

    def __init__(self):
        super().__init__()
        # layer widths, shared by the encoder and (reversed) by the decoder
        widths = [28 * 28, 128, 64]
        down = [nn.Flatten()]
        for i in range(len(widths) - 1):
            down.append(nn.Linear(widths[i], widths[i + 1]))
            if i < len(widths) - 2:
                down.append(nn.ReLU())
        self.encoder = nn.Sequential(*down)
        up = []
        rev = widths[::-1]
        for i in range(len(rev) - 1):
            up.append(nn.Linear(rev[i], rev[i + 1]))
            if i < len(rev) - 2:
                up.append(nn.ReLU())
        up.append(nn.Unflatten(1, (1, 28, 28)))
        self.decoder = nn.Sequential(*up)

    def logits(self, x):
        """Unbounded reconstruction scores, shape (B, 1, 28, 28)."""
        return self.decoder(self.encoder(x))

    def forward(self, x):
        """Reconstruction with values in [0, 1], shape (B, 1, 28, 28)."""
        logit_values = self.logits(x)
        return torch.sigmoid(logit_values)
''',
    "solution-2": '''class DenoisingAutoencoder(nn.Module):
    """Adds Gaussian noise of standard deviation noise_factor to the input, then reconstructs it."""

    def __init__(self, autoencoder, noise_factor=0.5):
        super().__init__()
        self.autoencoder = autoencoder
        self.noise_factor = noise_factor

    def add_noise(self, x):
        """x + noise_factor * standard normal noise, not clipped; x itself is left unchanged."""
        return torch.add(x, torch.randn_like(x), alpha=self.noise_factor)

    def forward(self, x):
        """Reconstruction of a freshly corrupted copy of x."""
        return self.autoencoder.forward(self.add_noise(x))
''',
    "solution-3": '''def reconstruction_loss(model, batch):
    """Squared error between model(x) and x, summed over pixels, averaged over the batch."""
    x = batch[0]
    n = x.shape[0]
    # sum over everything, then divide by the number of images
    return F.mse_loss(model(x), x, reduction="sum") / n
''',
    "solution-4": '''def conv_block(c_in, c_out):
    """conv, batch norm, relu, 2x2 max pool"""
    return [nn.Conv2d(c_in, c_out, kernel_size=3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]


def up_block(c_in, c_out, extra):
    return [nn.ConvTranspose2d(c_in, c_out, kernel_size=3, stride=2, padding=1, output_padding=extra),
            nn.BatchNorm2d(c_out), nn.ReLU()]


class ConvAutoencoder(nn.Module):
    """Convolutional autoencoder: three conv + pool stages down, transposed convolutions up."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            *conv_block(1, 16), *conv_block(16, 32),
            nn.Conv2d(32, 4, kernel_size=3, padding=1), nn.MaxPool2d(2, ceil_mode=True))
        self.decoder = nn.Sequential(
            *up_block(4, 64, 0), *up_block(64, 32, 1),
            nn.ConvTranspose2d(32, 1, kernel_size=3, stride=2, padding=1, output_padding=1))

    def logits(self, x):
        return self.decoder(self.encoder(x))

    def forward(self, x):
        return torch.sigmoid(self.logits(x))
''',
    "solution-5": '''def bernoulli_nll(logits, x):
    """-log p(x | logits) under independent Bernoulli pixels, summed over pixels, mean over the batch."""
    # log(1 + e^l) - x l, the stable form of the cross-entropy
    per_pixel = F.softplus(logits) - x * logits
    return per_pixel.reshape(len(x), -1).sum(1).mean()


def gaussian_nll(mean, x, sigma):
    """-log N(x | mean, sigma^2 I), summed over pixels, mean over the batch (sigma: a positive float)."""
    z = (x - mean) / sigma
    log_density = -0.5 * z.pow(2) - math.log(sigma) - 0.5 * math.log(2 * math.pi)
    return -log_density.reshape(len(x), -1).sum(1).mean()
''',
    "solution-6": '''def make_denoiser():
    """A fresh, untrained model: noisy (B, 1, 28, 28) images -> clean estimates (B, 1, 28, 28)."""
    model = nn.Sequential()
    model.add_module("first", nn.Conv2d(1, 24, 5, padding=2))
    model.add_module("act1", nn.LeakyReLU(0.1))
    model.add_module("wide", nn.Conv2d(24, 24, 3, padding=2, dilation=2))  # sees 9x9 pixels, full resolution
    model.add_module("act2", nn.LeakyReLU(0.1))
    model.add_module("out", nn.Conv2d(24, 1, 1))
    model.add_module("squash", nn.Sigmoid())
    return model


DENOISER_LR = (
    0.005
)
''',
}

CHLOE = {
    "solution-1": '''from collections import OrderedDict


class Autoencoder(nn.Module):
    """Fully connected autoencoder for (B, 1, 28, 28) images: 784 -> 128 -> 64 -> 128 -> 784."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(OrderedDict(
            flat=nn.Flatten(),
            hidden=nn.Linear(in_features=784, out_features=128),
            relu=nn.ReLU(inplace=True),
            code=nn.Linear(in_features=128, out_features=64),
        ))
        self.decoder = nn.Sequential(OrderedDict(
            hidden=nn.Linear(in_features=64, out_features=128),
            relu=nn.ReLU(inplace=True),
            pixels=nn.Linear(in_features=128, out_features=784),
            image=nn.Unflatten(1, torch.Size([1, 28, 28])),
        ))

    def logits(self, x):
        """Unbounded reconstruction scores, shape (B, 1, 28, 28)."""
        h = self.encoder(x)
        out = self.decoder(h)
        return out

    def forward(self, x):
        """Reconstruction with values in [0, 1], shape (B, 1, 28, 28)."""
        return F.sigmoid(self.logits(x))
''',
    "solution-2": '''class DenoisingAutoencoder(nn.Module):
    """Adds Gaussian noise of standard deviation noise_factor to the input, then reconstructs it."""

    def __init__(self, autoencoder, noise_factor=0.5):
        super().__init__()
        self.autoencoder = autoencoder
        self.noise_factor = noise_factor

    def add_noise(self, x):
        """x + noise_factor * standard normal noise, not clipped; x itself is left unchanged."""
        noise = torch.normal(0.0, 1.0, size=x.shape, device=x.device, dtype=x.dtype)
        return x.clone() + self.noise_factor * noise

    def forward(self, x):
        """Reconstruction of a freshly corrupted copy of x."""
        x_tilde = self.add_noise(x)
        x_hat = self.autoencoder(x_tilde)
        return x_hat
''',
    "solution-3": '''def reconstruction_loss(model, batch):
    """Squared error between model(x) and x, summed over pixels, averaged over the batch."""
    inputs = batch[0]
    outputs = model(inputs)
    errors = torch.square(outputs - inputs).view(inputs.size(0), -1)
    return torch.mean(torch.sum(errors, dim=1))
''',
    "solution-4": '''class ConvAutoencoder(nn.Module):
    """Convolutional autoencoder: three conv + pool stages down, transposed convolutions up."""

    def __init__(self):
        super().__init__()
        layers = []
        channels = [1, 16, 32]
        for c_in, c_out in zip(channels, channels[1:]):
            layers += [nn.Conv2d(c_in, c_out, 3, 1, 1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]
        layers += [nn.Conv2d(channels[-1], 4, 3, 1, 1), nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)]
        self.encoder = nn.Sequential(*layers)
        # 4 -> 7: k=3, s=2, p=1, op=0;  7 -> 14 and 14 -> 28: k=3, s=2, p=1, op=1
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(4, 24, 3, 2, 1, 0),
            nn.BatchNorm2d(24),
            nn.ReLU(),
            nn.ConvTranspose2d(24, 12, 3, 2, 1, 1),
            nn.BatchNorm2d(12),
            nn.ReLU(),
            nn.ConvTranspose2d(12, 1, 3, 2, 1, 1),
        )

    def logits(self, x):
        return self.decoder(self.encoder(x))

    def forward(self, x):
        return torch.sigmoid(self.logits(x))
''',
    "solution-5": '''def bernoulli_nll(logits, x):
    """-log p(x | logits) under independent Bernoulli pixels, summed over pixels, mean over the batch."""
    dist = torch.distributions.Bernoulli(logits=logits)
    log_p = dist.log_prob(x)
    return -log_p.flatten(1).sum(-1).mean()


def gaussian_nll(mean, x, sigma):
    """-log N(x | mean, sigma^2 I), summed over pixels, mean over the batch (sigma: a positive float)."""
    normal = torch.distributions.Normal(mean, torch.full_like(mean, sigma))
    return -normal.log_prob(x).flatten(1).sum(-1).mean()
''',
    "solution-6": '''class TinyDenoiser(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.GELU(),
            nn.Conv2d(width, width, 3, padding=1), nn.GELU(),
            nn.Conv2d(width, width, 3, padding=1), nn.GELU(),
            nn.Conv2d(width, 1, 3, padding=1),
        )

    def forward(self, noisy):
        # predict the noise and take it away (a residual denoiser)
        return torch.clamp(noisy - self.body(noisy), 0.0, 1.0)


def make_denoiser():
    """A fresh, untrained model: noisy (B, 1, 28, 28) images -> clean estimates (B, 1, 28, 28)."""
    return TinyDenoiser(width=16)


DENOISER_LR = (
    5e-3
)
''',
}

# Dmitri's own exercises 1.1, 1.3, 1.4 and 1.10; exercises 1.6 and 1.8 are copied from Amara below.
DMITRI = {
    "solution-1": '''class Autoencoder(nn.Module):
    """Fully connected autoencoder for (B, 1, 28, 28) images: 784 -> 128 -> 64 -> 128 -> 784."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential()
        self.encoder.append(nn.Flatten())
        self.encoder.append(nn.Linear(784, 128))
        self.encoder.append(nn.ReLU())
        self.encoder.append(nn.Linear(128, 64))
        self.decoder = nn.Sequential()
        self.decoder.append(nn.Linear(64, 128))
        self.decoder.append(nn.ReLU())
        self.decoder.append(nn.Linear(128, 784))
        self.decoder.append(nn.Unflatten(-1, (1, 28, 28)))

    def logits(self, x):
        """Unbounded reconstruction scores, shape (B, 1, 28, 28)."""
        return self.decoder.forward(self.encoder.forward(x))

    def forward(self, x):
        """Reconstruction with values in [0, 1], shape (B, 1, 28, 28)."""
        return 1 / (1 + torch.exp(-self.logits(x)))
''',
    "solution-2": '''class DenoisingAutoencoder(nn.Module):
    """Adds Gaussian noise of standard deviation noise_factor to the input, then reconstructs it."""

    def __init__(self, autoencoder, noise_factor=0.5):
        super().__init__()
        self.autoencoder = autoencoder
        self.noise_factor = noise_factor

    def add_noise(self, x):
        """x + noise_factor * standard normal noise, not clipped; x itself is left unchanged."""
        return x + torch.randn(x.shape, device=x.device) * self.noise_factor

    def forward(self, x):
        """Reconstruction of a freshly corrupted copy of x."""
        return self.autoencoder(self.add_noise(x))
''',
    "solution-3": '''def reconstruction_loss(model, batch):
    """Squared error between model(x) and x, summed over pixels, averaged over the batch."""
    total = 0
    x = batch[0]
    recon = model(x)
    for i in range(x.shape[0]):
        total = total + ((recon[i] - x[i]) ** 2).sum()
    return total / x.shape[0]
''',
    "solution-6": '''def make_denoiser():
    """A fresh, untrained model: noisy (B, 1, 28, 28) images -> clean estimates (B, 1, 28, 28)."""
    hidden = 40
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, hidden),
        nn.Tanh(),
        nn.Linear(hidden, 784),
        nn.Sigmoid(),
        nn.Unflatten(1, (1, 28, 28)),
    )


DENOISER_LR = (
    1e-2
)
''',
}

RENAMES_AMARA = {"z": "code_vector", "eps": "gauss", "corrupted": "result", "noisy": "x_noisy", "images": "imgs",
                 "diff": "delta", "per_image": "losses", "bce": "cross_ent", "var": "variance", "nll": "negll",
                 "_": "labels"}

REWORDED_BEN = {
    "# layer widths, shared by the encoder and (reversed) by the decoder": "# sizes of the layers (decoder uses them backwards)",
    "# sum over everything, then divide by the number of images": "# total squared error divided by batch size",
    "# log(1 + e^l) - x l, the stable form of the cross-entropy": "# numerically stable BCE: softplus(l) - x*l",
}


def rename(code: str, names: dict[str, str]) -> str:
    """Every whole-word occurrence of each name replaced (what a student's find-and-replace does)."""
    for old, new in names.items():
        code = re.sub(rf"(?<![\w.]){re.escape(old)}(?!\w)", new, code)
    return code


def reword(code: str, comments: dict[str, str]) -> str:
    """New comments, more blank lines and different spacing around operators and commas."""
    for old, new in comments.items():
        code = code.replace(old, new)
    code = code.replace(", ", ",").replace(" = ", "=").replace("\n    def ", "\n\n    def ")
    return code + "\n\n# done\n"


def swap_functions(code: str) -> str:
    """The two top-level functions of a cell in the other order."""
    first, second = code.split("\n\n\ndef ", 1)
    return "def " + second.rstrip("\n") + "\n\n\n" + first + "\n"


def release() -> nbformat.NotebookNode:
    return nbformat.read(RELEASE, as_version=4)


def notebook(solutions: dict[str, str]) -> nbformat.NotebookNode:
    """The release notebook with the given solution cells filled in."""
    nb = release()
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in solutions:
            cell.source = solutions[grade_id]
    return nb


def key_solutions() -> dict[str, str]:
    """The solution key's code cells, by grade id."""
    nb = nbformat.read(SOLUTIONS, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}


def reordered(solutions: dict[str, str]) -> nbformat.NotebookNode:
    """The notebook with its solution cells moved (the last exercise first) and one cell's functions swapped."""
    changed = dict(solutions, **{"solution-5": swap_functions(solutions["solution-5"])})
    nb = notebook(changed)
    cells = nb.cells
    moved = [c for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") in ("solution-6", "solution-4")]
    rest = [c for c in cells if c not in moved]
    nb.cells = rest[:4] + moved[::-1] + rest[4:]
    return nb


def nearly_blank() -> nbformat.NotebookNode:
    """Two exercises started with one line each, the rest as released."""
    nb = release()
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "solution-3":
            cell.source = cell.source.replace('raise NotImplementedError("Exercise 1.4: replace this line with your code")',
                                              "x = batch[0]")
        if grade_id == "solution-6":
            cell.source = cell.source.replace('todo("Exercise 1.10")', "1e-3")
    return nb


def class_notebooks() -> dict[str, nbformat.NotebookNode]:
    """Every student's notebook, by student id."""
    key = key_solutions()
    key_renames = {"squared_error": "sq_err", "per_pixel": "elementwise", "x": "inp"}
    return {
        "amara": notebook(AMARA),
        "ben": notebook(BEN),
        "chloe": notebook(CHLOE),
        "dmitri": notebook({**DMITRI, "solution-4": AMARA["solution-4"], "solution-5": AMARA["solution-5"]}),
        "blank": release(),
        "nearly-blank": nearly_blank(),
        "renamed-amara": notebook({k: rename(v, RENAMES_AMARA) for k, v in AMARA.items()}),
        "reworded-ben": notebook({k: reword(v, REWORDED_BEN) for k, v in BEN.items()}),
        "reordered-chloe": reordered(CHLOE),
        "key-copy": notebook({k: rename(v, key_renames).replace("# 16 x 14 x 14", "# after stage one")
                              for k, v in key.items()}),
    }


# Each planted copy and the work it was taken from (SOLUTION: the lab's own solution notebook), and
# the one pair that shares planted code without either copying the other: Dmitri's two exercises
# are Amara's, and so are those of her renamed copy.
PLANTED = {frozenset(p) for p in [("amara", "renamed-amara"), ("ben", "reworded-ben"), ("chloe", "reordered-chloe"),
                                  ("amara", "dmitri"), ("key-copy", "SOLUTION"), ("dmitri", "renamed-amara")]}


def write_class(folder: Path) -> dict[str, Path]:
    """The class as one folder per student; returns each student's notebook path."""
    paths = {}
    for student, nb in class_notebooks().items():
        path = folder / student / f"{LAB}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        paths[student] = path
    return paths
