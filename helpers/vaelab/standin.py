"""Generated stand-ins for MNIST and CIFAR-10, for machines where the real data cannot be had.

The images have the real data sets' shapes, value range and labels, and each class has a look
of its own, so that a model trained on them learns something visible. They are not the real
data: numbers measured on them mean nothing about MNIST or CIFAR-10.
"""

import functools
import math

import torch
import torch.nn.functional as F

MNIST_CLASSES = [
    "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
    "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
]
CIFAR10_CLASSES = [
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
]

_CHUNK = 1024  # images rendered at once, to bound memory


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, steps: int = 8):
    """Points along an ellipse from angle `start` to `end` (degrees, counter-clockwise, y down)."""
    angles = [math.radians(start + (end - start) * i / steps) for i in range(steps + 1)]
    return [(cx + rx * math.cos(a), cy - ry * math.sin(a)) for a in angles]


# Each digit is a list of strokes; each stroke a polyline in a unit box (x right, y down).
_DIGIT_STROKES = [
    [_arc(0.5, 0.5, 0.42, 0.5, 0, 360, 10)],
    [[(0.25, 0.22), (0.55, 0.0), (0.55, 1.0)]],
    [_arc(0.5, 0.3, 0.42, 0.3, 160, -30, 6) + [(0.05, 1.0), (0.95, 1.0)]],
    [_arc(0.48, 0.26, 0.38, 0.26, 150, -90, 6), _arc(0.48, 0.74, 0.44, 0.26, 90, -150, 6)],
    [[(0.68, 1.0), (0.68, 0.0), (0.05, 0.68), (0.95, 0.68)]],
    [[(0.9, 0.0), (0.2, 0.0), (0.12, 0.45)] + _arc(0.5, 0.68, 0.42, 0.32, 140, -150, 6)],
    [[(0.8, 0.0), (0.35, 0.3)] + _arc(0.5, 0.7, 0.4, 0.3, 160, -200, 8)],
    [[(0.05, 0.0), (0.95, 0.0), (0.35, 1.0)]],
    [_arc(0.5, 0.24, 0.33, 0.24, -90, 270, 7), _arc(0.5, 0.72, 0.42, 0.28, 90, 450, 8)],
    [_arc(0.5, 0.3, 0.42, 0.3, 0, 360, 8) + [(0.85, 1.0)]],
]


def _digit_segments() -> torch.Tensor:
    """Segments of every digit as a (10, S, 2, 2) tensor, padded by repeating the last one."""
    per_digit = []
    for strokes in _DIGIT_STROKES:
        segments = [(a, b) for stroke in strokes for a, b in zip(stroke[:-1], stroke[1:])]
        per_digit.append(segments)
    longest = max(len(s) for s in per_digit)
    padded = [s + [s[-1]] * (longest - len(s)) for s in per_digit]
    return torch.tensor(padded, dtype=torch.float32)


def _to_uint8_range(images: torch.Tensor) -> torch.Tensor:
    """Round to the 256 grey levels that real 8-bit images have, as float32 in [0, 1]."""
    return images.clamp(0, 1).mul(255).round().div(255)


_GLYPH_SIZE = 56  # glyphs are drawn at twice the image size, then resampled
_STROKE_HALF_WIDTHS = (0.9, 1.25, 1.6)  # in pixels of the 28x28 image


@functools.lru_cache(maxsize=1)
def _digit_glyphs() -> torch.Tensor:
    """Every digit at every stroke width, centred: (10 * widths, 1, 56, 56) in [0, 1]."""
    scale = _GLYPH_SIZE / 28
    segments = (_digit_segments() - 0.5) * torch.tensor([13.0, 19.0]) * scale
    segments = segments + (_GLYPH_SIZE - 1) / 2  # (10, S, 2 ends, 2 coordinates)
    coords = torch.arange(_GLYPH_SIZE, dtype=torch.float32)
    py, px = torch.meshgrid(coords, coords, indexing="ij")
    px, py = px.reshape(1, 1, -1), py.reshape(1, 1, -1)
    sx, sy = segments[:, :, 0, 0:1], segments[:, :, 0, 1:2]  # (10, S, 1)
    dx, dy = segments[:, :, 1, 0:1] - sx, segments[:, :, 1, 1:2] - sy
    # Distance from every pixel to the nearest point of every segment, then to the glyph.
    t = (((px - sx) * dx + (py - sy) * dy) / (dx**2 + dy**2).clamp_min(1e-6)).clamp(0, 1)
    distance = ((px - sx - t * dx) ** 2 + (py - sy - t * dy) ** 2).amin(dim=1).sqrt()
    glyphs = [(w * scale + 0.5 * scale - distance).clamp(0, scale) / scale
              for w in _STROKE_HALF_WIDTHS]
    return torch.stack(glyphs, dim=1).view(-1, 1, _GLYPH_SIZE, _GLYPH_SIZE)


def _render_digits(labels: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Digit glyphs with random stroke width, size, slant, rotation, shift and wobble."""
    n = len(labels)
    widths = len(_STROKE_HALF_WIDTHS)
    glyphs = _digit_glyphs()[labels * widths + torch.randint(0, widths, (n,), generator=g)]
    # Where each output pixel reads from in the glyph, in [-1, 1] coordinates.
    scale = 0.85 + 0.3 * torch.rand(n, generator=g)
    slant = 0.4 * (torch.rand(n, generator=g) - 0.5)
    angle = math.radians(12) * (torch.rand(n, generator=g) * 2 - 1)
    shift = 0.15 * (torch.rand(n, 2, generator=g) * 2 - 1)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([
        torch.stack([cos, -sin + slant, shift[:, 0]], dim=1),
        torch.stack([sin, cos, shift[:, 1]], dim=1),
    ], dim=1)  # (n, 2, 3)
    grid = F.affine_grid(theta, [n, 1, 28, 28], align_corners=False)
    wobble = 0.06 * torch.randn(n, 2, 4, 4, generator=g)
    grid = grid + F.interpolate(wobble, size=(28, 28), mode="bicubic").permute(0, 2, 3, 1)
    ink = F.grid_sample(glyphs, grid, mode="bilinear", align_corners=False)
    brightness = 0.8 + 0.2 * torch.rand(n, 1, 1, 1, generator=g)
    grain = 1 + 0.1 * torch.randn(n, 1, 28, 28, generator=g)
    return _to_uint8_range(ink * brightness * grain)


def fake_mnist(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` digit-like images (n, 1, 28, 28) float32 in [0, 1] and their labels (n,) int64."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (n,), generator=g)
    images = [_render_digits(chunk, g) for chunk in labels.split(_CHUNK)]
    return torch.cat(images) if images else torch.zeros(0, 1, 28, 28), labels


# Signed distance (negative inside) of each class's shape at coordinates (u, v) of size s.
def _disc(u, v, s):
    return (u**2 + v**2).sqrt() - s


def _square(u, v, s):
    return torch.maximum(u.abs(), v.abs()) - 0.8 * s


def _triangle(u, v, s):
    normals = [(0.0, 1.0), (0.866, -0.5), (-0.866, -0.5)]
    return torch.stack([nu * u + nv * v for nu, nv in normals]).amax(0) - 0.5 * s


def _ring(u, v, s):
    return ((u**2 + v**2).sqrt() - s).abs() - 0.3 * s


def _cross(u, v, s):
    w = 0.3 * s
    bar_1 = torch.maximum(u.abs() - s, v.abs() - w)
    bar_2 = torch.maximum(v.abs() - s, u.abs() - w)
    return torch.minimum(bar_1, bar_2)


def _diamond(u, v, s):
    return (u.abs() + v.abs() - 1.2 * s) / math.sqrt(2)


def _bar(u, v, s):
    return torch.maximum(u.abs() - 1.3 * s, v.abs() - 0.35 * s)


def _stripes(u, v, s):
    inside = _disc(u, v, 1.1 * s)
    stripe = (torch.sin(u * 2.2) * 2).neg()
    return torch.maximum(inside, stripe)


def _checker(u, v, s):
    inside = _square(u, v, 1.2 * s)
    checker = (torch.sin(u * 1.4) * torch.sin(v * 1.4) * 3).neg()
    return torch.maximum(inside, checker)


def _crescent(u, v, s):
    return torch.maximum(_disc(u, v, s), -_disc(u - 0.5 * s, v, 0.8 * s))


_SHAPES = [_triangle, _bar, _diamond, _disc, _crescent, _ring, _checker, _cross, _stripes, _square]
# Per class: background colours (top, bottom) and the shape's colour, RGB in [0, 1].
_PALETTES = torch.tensor([
    [[0.55, 0.7, 0.95], [0.85, 0.9, 1.0], [0.9, 0.9, 0.92]],
    [[0.3, 0.3, 0.35], [0.5, 0.5, 0.5], [0.85, 0.15, 0.1]],
    [[0.5, 0.75, 0.95], [0.4, 0.6, 0.3], [0.35, 0.25, 0.15]],
    [[0.6, 0.5, 0.4], [0.4, 0.3, 0.25], [0.95, 0.7, 0.35]],
    [[0.35, 0.55, 0.25], [0.55, 0.45, 0.25], [0.65, 0.45, 0.25]],
    [[0.75, 0.7, 0.6], [0.5, 0.45, 0.4], [0.9, 0.85, 0.75]],
    [[0.2, 0.4, 0.15], [0.1, 0.25, 0.1], [0.4, 0.8, 0.2]],
    [[0.6, 0.75, 0.4], [0.35, 0.5, 0.2], [0.45, 0.25, 0.1]],
    [[0.6, 0.8, 1.0], [0.1, 0.3, 0.6], [0.95, 0.95, 0.95]],
    [[0.7, 0.7, 0.75], [0.3, 0.3, 0.3], [0.9, 0.8, 0.1]],
])


def _render_shapes(labels: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Draw each class's shape, randomly placed, sized and turned, on a gradient background."""
    n = len(labels)
    coords = torch.arange(32, dtype=torch.float32) - 15.5
    gx, gy = torch.meshgrid(coords, coords, indexing="xy")  # (32, 32)
    centre = 5.0 * (torch.rand(n, 2, 1, 1, generator=g) * 2 - 1)
    size = 7.0 + 4.0 * torch.rand(n, 1, 1, generator=g)
    angle = 2 * math.pi * torch.rand(n, 1, 1, generator=g)
    dx, dy = gx - centre[:, 0], gy - centre[:, 1]
    u = torch.cos(angle) * dx + torch.sin(angle) * dy
    v = -torch.sin(angle) * dx + torch.cos(angle) * dy

    alpha = torch.empty(n, 1, 32, 32)
    for label, shape in enumerate(_SHAPES):
        mask = labels == label
        alpha[mask, 0] = (0.5 - shape(u[mask], v[mask], size[mask])).clamp(0, 1)

    palette = _PALETTES[labels] + 0.12 * torch.randn(n, 3, 3, generator=g)  # (n, 3 colours, RGB)
    top, bottom, ink = (palette[:, i].view(n, 3, 1, 1) for i in range(3))
    ramp = (gy + 15.5) / 31  # 0 at the top row, 1 at the bottom row
    background = top + (bottom - top) * ramp
    noise = 0.03 * torch.randn(n, 3, 32, 32, generator=g)
    return _to_uint8_range(background * (1 - alpha) + ink * alpha + noise)


def fake_cifar10(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` colour images (n, 3, 32, 32) float32 in [0, 1], one shape per class, and labels."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (n,), generator=g)
    images = [_render_shapes(chunk, g) for chunk in labels.split(_CHUNK)]
    return torch.cat(images) if images else torch.zeros(0, 3, 32, 32), labels
