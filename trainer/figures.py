"""Low-level figure helpers for the report: label colours, image mosaics, GIF frames."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D

PALETTE = colormaps["tab10"](np.arange(10))  # (10, 4) RGBA, one qualitative colour per label
Limits = tuple[np.ndarray, np.ndarray]  # per-axis (low, high) for fixed animation axes


def mosaic(rows: Sequence[np.ndarray], cols: int) -> np.ndarray:
    """Rows of up to `cols` (k, h, w) images tiled into one array, NaN in the gutters.

    One Axes per picture instead of one per image: matplotlib spends ~20 ms per Axes, which
    made a 20-frame reconstruction GIF take 8 s.
    """
    h, w = rows[0].shape[-2:]
    gap = gutter(h)
    tile = np.full((len(rows) * (h + gap) - gap, cols * (w + gap) - gap), np.nan, np.float32)
    for r, images in enumerate(rows):
        for c, image in enumerate(images):
            y, x = r * (h + gap), c * (w + gap)
            tile[y : y + h, x : x + w] = image
    return tile


def gutter(h: int) -> int:
    return max(1, h // 14)  # 2 px between 28x28 digits, 1 px between 7x7 maps


def row_centres(rows: int, h: int) -> np.ndarray:
    """y pixel of each mosaic row's centre, for row labels."""
    return np.arange(rows) * (h + gutter(h)) + (h - 1) / 2


def show_mosaic(
    ax: Axes, tile: np.ndarray, cmap: str = "gray", vmin: float = 0.0, vmax: float = 1.0
) -> AxesImage:
    """Show a mosaic pixel-exact (nearest), gutters white, no ticks or frame."""
    palette = colormaps[cmap].with_extremes(bad="white")
    shown = ax.imshow(tile, cmap=palette, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return shown


def colours(labels: np.ndarray) -> np.ndarray:
    return PALETTE[np.asarray(labels, dtype=np.int64) % len(PALETTE)]


def dot_size(n: int) -> float:
    """Marker area: small for 10,000 points, bigger for the 1,000-point animation frames."""
    return 2.0 if n > 3000 else 6.0


def legend(fig: Figure, names: list[str]) -> None:
    handles = [
        Line2D([], [], linestyle="", marker="o", color=PALETTE[i % 10], label=n)
        for i, n in enumerate(names)
    ]
    fig.legend(
        handles=handles, loc="outside right center", title="label", fontsize="small", frameon=False
    )


def subsample(n: int, most: int) -> np.ndarray:
    """Up to `most` of range(n) in a fixed random order (seeded: same picture every run)."""
    return np.random.default_rng(0).permutation(n)[:most]


def robust_limits(points: np.ndarray) -> Limits:
    """Axis limits covering all frames; percentiles so a few outliers do not shrink the cloud."""
    lo, hi = np.percentile(points, [0.5, 99.5], axis=0)
    pad = 0.05 * np.maximum(hi - lo, 1e-6)
    return lo - pad, hi + pad


def render(fig: Figure) -> np.ndarray:
    """The figure as an (H, W, 3) uint8 RGB array."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="rgba")  # raw RGBA bytes; typed, unlike Agg's buffer_rgba()
    width, height = fig.canvas.get_width_height(physical=True)
    return np.frombuffer(buffer.getvalue(), np.uint8).reshape(height, width, 4)[..., :3]
