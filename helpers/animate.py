"""Animations of the sliding window: watch a convolution or a pooling layer compute.

The animated counterpart of ``hp.show_sliding_window``: one frame per output value, each
showing the (padded) input with its numbers, the window, the kernel, the element-wise
products and their sum being written into the output, which fills in as the frames
advance.

* ``animate_conv2d``           — cross-correlation (``F.conv2d``): one or several input
  channels (one window per channel, summed, plus the bias), one or several output
  channels, padding, stride, dilation;
* ``animate_pool2d``           — max or average pooling (``F.max_pool2d`` /
  ``F.avg_pool2d``), channel by channel, the window's maximum or mean highlighted;
* ``animate_conv_transpose2d`` — the stride-½ (transposed) convolution
  (``F.conv_transpose2d``): zeros inserted between the input's pixels, then an ordinary
  convolution with the flipped kernel.

Each returns a ``WindowAnimation``. Its numbers are data, so tests can compare them with
PyTorch: ``anim.frames[k]`` holds the output cell that frame k writes, the window's
corner, the products (or, for pooling, the window's values) and the number written;
``anim.output`` is every written number in place. Displayed in Jupyter, Colab or on the
book's website it is a small player (play/pause, step, slider) written in plain HTML and
JavaScript: the frames are palette PNGs embedded in the page, the first one shown even
without JavaScript (or in print), with a one-line text alternative as caption. Nothing
is fetched from the network. (Matplotlib's ``Animation.to_jshtml`` player loads its
button icons from a CDN, has no text alternative and stores full-colour frames, hence
this one.)

Inputs larger than a reader can follow are refused (more than ``max_frames`` output
values, or a padded input wider or taller than 12 cells): animate a crop instead.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import math
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image

from .ops import Pair, _check_window_fits, _float_dtype, _padding, _pair, _stride

__all__ = [
    "Frame",
    "WindowAnimation",
    "animate_conv2d",
    "animate_conv_transpose2d",
    "animate_pool2d",
]

MAX_FRAMES = 64  # output values, one frame each: beyond this a reader stops following
MAX_SIDE = 12  # cells per side of the (padded) input that stay readable on a phone
MAX_CHANNELS = 4
# px: wider, a frame would have to shrink below 72% on a phone (about 330 px of column)
MAX_WIDTH = 450

# The book's palette (GitHub Primer, as the marks in _static/book.css): light tints
# behind near-black text (contrast at least 13:1 on every tint), grey for the zeros that
# padding adds (at least 5.4:1; WCAG AA asks 4.5:1 of text), strong outlines for window,
# kernel and result (at least 3.9:1 on every tint; WCAG asks 3:1 of graphics).
# tests/test_animate.py checks these ratios.
INK, MUTED, GRID = "#1f2328", "#57606a", "#8c959f"
BLUE, AMBER, GREEN = "#1f6feb", "#9a6700", "#1a7f37"
WINDOW_TINT, KERNEL_TINT, SUM_TINT = "#ddf4ff", "#fff1c2", "#dafbe1"
PAD_TINT, BLANK_TINT = "#eaeef2", "#f6f8fa"

# per animation (its HTML, frames included): a chapter page stays light on a phone
MAX_BYTES = 1_000_000


def _palette() -> Image.Image:
    """The frames' colours: the book's, and blends of each line or text colour into each
    background (what anti-aliased edges are made of): at most 256, so a frame is a
    palette PNG."""

    def rgb(h: str) -> tuple[int, ...]:
        return tuple(int(h[i : i + 2], 16) for i in (1, 3, 5))

    inks = [rgb(c) for c in (INK, MUTED, GRID, BLUE, AMBER, GREEN)]
    papers = [
        rgb(c)
        for c in ("#ffffff", WINDOW_TINT, KERNEL_TINT, SUM_TINT, PAD_TINT, BLANK_TINT)
    ]
    colours = set(inks + papers)
    for ink, paper in itertools.product(inks, papers):
        colours |= {
            tuple(round(t * a + (1 - t) * b) for a, b in zip(ink, paper, strict=True))
            for t in (0.2, 0.4, 0.6, 0.8)
        }
    image = Image.new("P", (1, 1))
    image.putpalette([v for c in sorted(colours) for v in c])
    return image


# Cell kinds of the input the window slides over.
REAL, PADDING, INSERTED = 0, 1, 2


@dataclass(frozen=True)
class Frame:
    """One step: the window whose top-left corner is ``corner`` (row, column of the
    padded input) gives the output value at ``out`` = (channel, row, column).

    ``terms`` are the numbers that are combined: for a convolution the element-wise
    products of window and kernel, ci×kh×kw (summed, plus the bias); for pooling the
    window's values, kh×kw (their maximum, at ``pick``, or their mean). ``value`` is the
    number written.
    """

    out: tuple[int, int, int]
    corner: tuple[int, int]
    terms: torch.Tensor
    value: float
    pick: tuple[int, int] | None = None


def _fmt(v: float, decimals: int) -> str:
    """A number as a cell shows it: ``decimals`` places, a true minus sign, ±∞ for
    padding."""
    if math.isinf(v):
        return "−∞" if v < 0 else "∞"
    s = f"{v:.{decimals}f}"
    if float(s) == 0:
        s = s.lstrip("-")
    return s.replace("-", "−")


def _decimals(values: torch.Tensor, most: int) -> int:
    """The fewest decimals (at most ``most``) that write every finite value as it rounds
    to ``most`` places: 0 for integers, 2 for quarters, ``most`` for 0.7679."""
    v = values[torch.isfinite(values)].double()
    target = torch.round(v * 10**most)
    for d in range(most + 1):
        if torch.equal(torch.round(v * 10**d) * 10 ** (most - d), target):
            return d
    return most


class WindowAnimation:
    """The frames of a sliding-window computation, and a player for them.

    Built by ``animate_conv2d``, ``animate_pool2d`` or ``animate_conv_transpose2d``.
    ``frames`` (one per output value, in the order the window visits them), ``output``
    (C_out×H_out×W_out, every frame's value in place), ``source`` (ci×Hp×Wp, the padded
    input the window slides over), ``kernel`` (co×ci×kh×kw, or None for pooling),
    ``bias`` (co, or None) and ``alt`` (the one-line text alternative) are plain data.
    ``to_html()`` renders the player; ``draw(k)`` draws frame k as an ordinary figure
    (e.g. for print).
    """

    def __init__(
        self,
        kind: str,
        source: torch.Tensor,
        cells: torch.Tensor,
        kernel: torch.Tensor | None,
        bias: torch.Tensor | None,
        window: tuple[int, int],
        stride: tuple[int, int],
        dilation: tuple[int, int],
        frames: list[Frame],
        output: torch.Tensor,
        alt: str,
        titles: dict[str, str],
        fps: float,
        decimals: int,
    ):
        self.kind, self.source, self.cells, self.kernel, self.bias = (
            kind,
            source,
            cells,
            kernel,
            bias,
        )
        self.window, self.stride, self.dilation = window, stride, dilation
        self.frames, self.output, self.alt, self.titles = frames, output, alt, titles
        self.fps, self.decimals = fps, decimals
        self._html: str | None = None
        self._layout = self._compute_layout()  # raises if the input is too wide to read

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        return f"<WindowAnimation: {self.alt}>"

    # ---------------------------------------------------------------- what a frame says

    def _num(self, v: float) -> str:
        """A number in running text: as few decimals as needed, at most ``decimals``."""
        return _fmt(v, _decimals(torch.tensor([v]), self.decimals))

    def caption(self, k: int) -> str:
        """Frame k in words, e.g. ``'Step 2 of 4: output (0, 1) = 25, the sum of the 4
        products of window and kernel.'``: the player's text alternative for the image
        while frame k shows."""
        f, n = self.frames[k], len(self.frames)
        c, i, j = f.out
        where = (
            f"channel {c}, cell ({i}, {j})"
            if self.output.shape[0] > 1
            else f"({i}, {j})"
        )
        if self.kind == "max":
            how = "the largest value in its window"
        elif self.kind == "avg":
            how = f"the mean of the {f.terms.numel()} values in its window"
        elif f.terms.shape[0] == 1:
            how = f"the sum of the {f.terms[0].numel()} products of window and kernel"
        else:
            how = (
                "the sum of the window-times-kernel products over "
                f"{f.terms.shape[0]} channels"
            )
        if self.kind == "conv" and self.bias is not None:
            how += " plus the bias"
        return f"Step {k + 1} of {n}: output {where} = {self._num(f.value)}, {how}."

    def _footer(self, f: Frame) -> str:
        """The sum (or max, or mean) the frame writes, as a line under the panels."""
        if self.kind == "max":
            return f"max = {self._num(f.value)}"
        if self.kind == "avg":
            total = self._num(float(f.terms.sum()))
            return f"mean = {total} / {f.terms.numel()} = {self._num(f.value)}"
        sums = [self._num(float(s)) for s in f.terms.sum(dim=(1, 2))]
        label = "sum of products" if len(sums) == 1 else "sum over channels"
        if len(sums) == 1 and self.bias is None:
            return f"{label} = {self._num(f.value)}"
        parts = " + ".join(sums)
        if self.bias is not None:
            parts += f" + bias ({self._num(float(self.bias[f.out[0]]))})"
        return f"{label}: {parts} = {self._num(f.value)}"

    # ------------------------------------------------------------------ layout

    def _numbers(self) -> dict[str, torch.Tensor]:
        """Every number each kind of panel shows."""
        kinds = {
            "input": self.source,
            "output": self.output,
            "terms": torch.stack([f.terms for f in self.frames]),
        }
        if self.kernel is not None:
            kinds["kernel"] = self.kernel
        return kinds

    def _label(self, name: str, value: float) -> str:
        return _fmt(value, self._layout["formats"][name])

    def _compute_layout(self) -> dict[str, Any]:
        """Where each panel goes, in pixels: (name, channel, rows, columns, x, y of its
        grid).

        One line per input channel: input ⋆ kernel = products (pooling: input → window →
        output). With one input channel, products (and output) move into a column to the
        right of the input when one line would be wider than ``MAX_WIDTH``; the outputs
        go beside the lines if they fit, else under them. Refuses an input wider than a
        frame.
        """
        numbers = self._numbers()
        # decimals per kind of panel: the fewest (up to ``decimals``) that write every
        # value as it rounds, so that a column of numbers lines up (0.2400, not 0.24)
        formats = {name: _decimals(t, self.decimals) for name, t in numbers.items()}
        ci, hp_, wp = self.source.shape
        (kh, kw), (co, ho, wo) = self.window, self.output.shape
        pool = self.kind in ("max", "avg")
        longest = max(
            len(_fmt(float(v), formats[name]))
            for name, t in numbers.items()
            for v in t.flatten()
        )
        cw, ch = max(26, 8 * longest + 8), 24  # cell width and height
        gap, title_h, top, margin, skip = 30, 18, 28, 8, 14
        shape = {
            "input": (hp_, wp),
            "output": (ho, wo),
            "kernel": (kh, kw),
            "terms": (kh, kw),
        }
        if 2 * margin + wp * cw > MAX_WIDTH:
            example = max(
                (_fmt(float(v), formats["input"]) for v in self.source.flatten()),
                key=len,
            )
            raise ValueError(
                f"too large to animate readably: {wp} columns of numbers such as "
                f"{example} need "
                f"{2 * margin + wp * cw} px, more than {MAX_WIDTH}; animate fewer "
                f"columns or pass decimals=2"
            )
        panels = []

        def width(name: str, c: int) -> float:  # a panel's width, its title included
            return max(shape[name][1] * cw, len(self._title(name, c, 0)) * 6.4)

        def put(name: str, c: int, x: float, y: float) -> tuple[float, float]:
            """Place a panel with its title at (x, y); return where its right and bottom
            edges are."""
            panels.append((name, c, *shape[name], x, y + title_h))
            return x + width(name, c), y + title_h + shape[name][0] * ch

        # pixel positions: ints where they start, floats once a panel's width is added
        x: float
        y: float
        line_bottom: float
        x_under: float
        y_under: float
        x0: float
        y0: float
        right, bottom = 0.0, 0.0
        if pool or ci > 1:
            y = top
            for c in range(ci):
                x, line_bottom = margin, y
                for name in (
                    ("input", "terms", "output")
                    if pool
                    else ("input", "kernel", "terms")
                ):
                    x, b = put(name, c, x, y)
                    x, line_bottom = x + gap, max(line_bottom, b)
                right, y = max(right, x - gap), line_bottom + skip
            bottom, x_under, y_under = y, margin, y
        else:
            x_in, b_in = put("input", 0, margin, top)
            x_k = x_in + gap
            x, b = put("kernel", 0, x_k, top)
            if x + gap + width("terms", 0) <= MAX_WIDTH:  # products on the same line
                x, b2 = put("terms", 0, x + gap, top)
                right, y_col = x, max(b, b2) + skip
            else:  # products under the kernel
                x, b2 = put("terms", 0, x_k, b + skip)
                right, y_col = max(x, x_k + width("kernel", 0)), b2 + skip
            bottom = max(b_in + skip, y_col)
            fits_column = x_k + width("output", 0) <= MAX_WIDTH
            x_under, y_under = (x_k, y_col) if fits_column else (margin, bottom)
        if not pool:
            # the output channels beside ...
            if right + gap + width("output", 0) <= MAX_WIDTH:
                x0, y0, down = right + gap, top, True
            else:  # ... or under the rest
                x0, y0, down = x_under, y_under, ci == 1
            for o in range(co):
                x, b = put("output", o, x0, y0)
                right, bottom = max(right, x), max(bottom, b + skip)
                x0, y0 = (x0, b + skip) if down else (x + gap, y0)
        origin = {(name, c): (x, y) for name, c, _, _, x, y in panels}
        lines = [self._footer(f) for f in self.frames] + [
            self._header(k) for k in range(len(self.frames))
        ]
        # header and footer, 9 pt
        text_width = 2 * margin + 7.5 * max(len(line) for line in lines)
        return {
            "panels": panels,
            "origin": origin,
            "cw": cw,
            "ch": ch,
            "formats": formats,
            "width": int(max(right + margin, text_width, 280)),
            "height": int(bottom + 16),
        }

    # ------------------------------------------------------------------ drawing
    #
    # A frame is three layers: what never changes (the grids, the input's numbers, the
    # titles), the output values written so far (one more per frame), and what belongs
    # to this frame only (the window, the products, the current output cell, the header
    # and footer lines). The player renders the first layer once and draws the other two
    # on top, frame after frame.

    def _cell(
        self,
        ax: Axes,
        name: str,
        c: int,
        r: int,
        q: int,
        face: str,
        label: str = "",
        color: str = INK,
        weight: str = "normal",
    ) -> list[Artist]:
        lay = self._layout
        (x0, y0), cw, ch = lay["origin"][name, c], lay["cw"], lay["ch"]
        x, y = x0 + q * cw, y0 + r * ch
        artists: list[Artist] = [
            ax.add_patch(
                Rectangle((x, y), cw, ch, facecolor=face, edgecolor=GRID, linewidth=0.6)
            )
        ]
        if label:
            artists.append(
                ax.text(
                    x + cw / 2,
                    y + ch / 2,
                    label,
                    ha="center",
                    va="center",
                    fontsize=9,
                    color=color,
                    fontweight=weight,
                )
            )
        return artists

    def _outline(
        self,
        ax: Axes,
        name: str,
        c: int,
        r: int,
        q: int,
        rows: int,
        cols: int,
        color: str,
    ) -> list[Artist]:
        lay = self._layout
        (x0, y0), cw, ch = lay["origin"][name, c], lay["cw"], lay["ch"]
        return [
            ax.add_patch(
                Rectangle(
                    (x0 + q * cw, y0 + r * ch),
                    cols * cw,
                    rows * ch,
                    fill=False,
                    edgecolor=color,
                    linewidth=2.4 if color != AMBER else 1.8,
                )
            )
        ]

    def _draw_static(self, ax: Axes) -> None:
        lay = self._layout
        cw, ch = lay["cw"], lay["ch"]
        polys, faces, one_kernel = (
            [],
            [],
            self.kernel is not None and self.kernel.shape[0] == 1,
        )
        for name, c, rows, cols, x0, y0 in lay["panels"]:
            for r, q in itertools.product(range(rows), range(cols)):
                face = {"input": "white", "kernel": KERNEL_TINT}.get(name, BLANK_TINT)
                if name == "input" and int(self.cells[r, q]) != REAL:
                    face = PAD_TINT
                x, y = x0 + q * cw, y0 + r * ch
                polys.append([(x, y), (x + cw, y), (x + cw, y + ch), (x, y + ch)])
                faces.append(face)
                label, color = "", INK
                if name == "input":
                    label = self._label("input", float(self.source[c, r, q]))
                    color = INK if int(self.cells[r, q]) == REAL else MUTED
                elif name == "kernel" and one_kernel:
                    # one_kernel: a kernel is there
                    k = self.kernel[0, c, r, q]  # type: ignore[index]
                    label = self._label("kernel", float(k))
                if label:
                    ax.text(
                        x + cw / 2,
                        y + ch / 2,
                        label,
                        ha="center",
                        va="center",
                        fontsize=9,
                        color=color,
                    )
            if name == "kernel" and one_kernel:
                self._outline(ax, name, c, 0, 0, rows, cols, AMBER)
            if name != "kernel" or one_kernel:
                ax.text(
                    x0,
                    y0 - 4,
                    self._title(name, c, 0),
                    ha="left",
                    va="bottom",
                    fontsize=8,
                    color=INK,
                )
        ax.add_collection(
            PolyCollection(polys, facecolors=faces, edgecolors=GRID, linewidths=0.6)
        )
        panels = lay["panels"]
        pairs = itertools.pairwise(panels)
        for (n1, c1, r1, _, _, y1), (n2, c2, r2, _, x2, y2) in pairs:
            # an operator between two panels on one line
            if c1 == c2 and y1 == y2 and n2 != "input":
                symbol = "⋆" if n2 == "kernel" else ("=" if n1 == "kernel" else "→")
                ax.text(
                    x2 - 15,
                    y2 + min(r1, r2) * ch / 2,
                    symbol,
                    ha="center",
                    va="center",
                    fontsize=16 if symbol == "⋆" else 13,
                    color=INK,
                )
        ax.set_xlim(0, lay["width"])
        ax.set_ylim(lay["height"], 0)
        ax.axis("off")

    def _draw_written(self, ax: Axes, k: int) -> list[Artist]:
        """The output value frame k writes, as it stays once the window has moved on."""
        f = self.frames[k]
        return self._cell(
            ax,
            "output",
            f.out[0],
            f.out[1],
            f.out[2],
            "white",
            self._label("output", f.value),
        )

    def _draw_current(self, ax: Axes, k: int) -> list[Artist]:
        """What frame k alone shows: window, kernel slice, products, current cell,
        header, footer."""
        f, pool = self.frames[k], self.kind in ("max", "avg")
        o, (kh, kw), (dh, dw) = f.out[0], self.window, self.dilation
        art = []
        for c in [o] if pool else range(self.source.shape[0]):
            for a, b in itertools.product(range(kh), range(kw)):
                r, q = f.corner[0] + a * dh, f.corner[1] + b * dw
                # added zeros stay grey
                color = INK if int(self.cells[r, q]) == REAL else MUTED
                art += self._cell(
                    ax,
                    "input",
                    c,
                    r,
                    q,
                    WINDOW_TINT,
                    self._label("input", float(self.source[c, r, q])),
                    color,
                )
                if self.kernel is not None and self.kernel.shape[0] > 1:
                    art += self._cell(
                        ax,
                        "kernel",
                        c,
                        a,
                        b,
                        KERNEL_TINT,
                        self._label("kernel", float(self.kernel[o, c, a, b])),
                    )
                value = f.terms[a, b] if pool else f.terms[c, a, b]
                bold = "bold" if f.pick == (a, b) else "normal"
                art += self._cell(
                    ax,
                    "terms",
                    c,
                    a,
                    b,
                    WINDOW_TINT if pool else SUM_TINT,
                    self._label("terms", float(value)),
                    weight=bold,
                )
            art += self._outline(
                ax,
                "input",
                c,
                f.corner[0],
                f.corner[1],
                dh * (kh - 1) + 1,
                dw * (kw - 1) + 1,
                BLUE,
            )
            if self.kernel is not None and self.kernel.shape[0] > 1:
                art += self._outline(ax, "kernel", c, 0, 0, kh, kw, AMBER)
                x0, y0 = self._layout["origin"]["kernel", c]
                art.append(
                    ax.text(
                        x0,
                        y0 - 4,
                        self._title("kernel", c, o),
                        ha="left",
                        va="bottom",
                        fontsize=8,
                        color=INK,
                    )
                )
            if f.pick is not None:
                art += self._outline(ax, "terms", c, f.pick[0], f.pick[1], 1, 1, GREEN)
        art += self._cell(
            ax,
            "output",
            *f.out,
            SUM_TINT,
            self._label("output", f.value),
            weight="bold",
        )
        art += self._outline(ax, "output", o, f.out[1], f.out[2], 1, 1, GREEN)
        art.append(
            ax.text(
                8,
                6,
                self._header(k),
                ha="left",
                va="top",
                fontsize=9,
                color=INK,
                fontweight="bold",
            )
        )
        art.append(
            ax.text(
                8,
                self._layout["height"] - 4,
                self._footer(f),
                ha="left",
                va="bottom",
                fontsize=9,
                color=INK,
            )
        )
        return art

    def _header(self, k: int) -> str:
        c, i, j = self.frames[k].out
        where = (
            f"output channel {c}, cell ({i}, {j})"
            if self.output.shape[0] > 1
            else f"output cell ({i}, {j})"
        )
        return f"step {k + 1} of {len(self.frames)}: {where}"

    def _title(self, name: str, c: int, o: int) -> str:
        ci, co = self.source.shape[0], self.output.shape[0]
        if name == "input":
            return self.titles["input"] + (f", channel {c}" if ci > 1 else "")
        if name == "kernel":
            index = (
                f" [{o}, {c}]"
                if self.kernel.shape[0] > 1  # type: ignore[union-attr]  # a kernel panel
                else (f" [{c}]" if ci > 1 else "")
            )
            return self.titles["kernel"] + index
        if name == "terms":
            return "window" if self.kind in ("max", "avg") else "products"
        return "output" + (f" channel {c}" if co > 1 else "")

    # ------------------------------------------------------------------ output

    def draw(self, k: int = 0) -> None:
        """Draw frame k as an ordinary matplotlib figure (shown when the cell ends):
        e.g. the first frame for a printed page."""
        if not 0 <= k < len(self.frames):
            raise ValueError(f"frame {k} is outside 0..{len(self.frames) - 1}")
        width, height = self._layout["width"], self._layout["height"]
        ax = plt.figure(figsize=(width / 100, height / 100), dpi=100).add_axes(
            (0, 0, 1, 1)
        )
        self._draw_static(ax)
        for done in range(k):
            self._draw_written(ax, done)
        self._draw_current(ax, k)

    def frame_pngs(self) -> list[bytes]:
        """Every frame as a palette PNG (the book's colours and their blends), as the
        player embeds them.

        The figure is drawn once; each frame restores it, adds the value written so far
        and draws its own window, products and output cell on top (matplotlib's
        blitting).
        """
        width, height = self._layout["width"], self._layout["height"]
        fig = Figure(figsize=(width / 100, height / 100), dpi=100)
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        self._draw_static(ax)
        canvas.draw()
        pngs, palette = [], _palette()
        for k in range(len(self.frames)):
            for artist in self._draw_written(ax, k):  # stays for the next frames
                ax.draw_artist(artist)
                artist.remove()
            background = canvas.copy_from_bbox(fig.bbox)
            current = self._draw_current(ax, k)
            for artist in current:
                ax.draw_artist(artist)
                artist.remove()
            rgb = np.asarray(canvas.buffer_rgba())[..., :3]
            buffer = io.BytesIO()
            # dither=0 is Image.Dither.NONE (the enum needs Pillow 9.1; we allow 9.0)
            quantized = Image.fromarray(rgb).quantize(palette=palette, dither=0)  # type: ignore[arg-type]
            quantized.save(buffer, format="png", optimize=True)
            pngs.append(buffer.getvalue())
            canvas.restore_region(background)
        return pngs

    def to_html(self, max_bytes: int = MAX_BYTES) -> str:
        """The player: the frames as palette PNGs, buttons, a slider and the caption.

        Refuses (``ValueError``) to return more than ``max_bytes`` of HTML: a page holds
        several.
        """
        if self._html is None:
            self._html = _player(self)
        if len(self._html.encode()) > max_bytes:
            raise ValueError(
                f"the animation is {len(self._html.encode()):,} bytes, more than "
                f"max_bytes="
                f"{max_bytes:,}: animate a smaller input (fewer frames) or pass "
                f"decimals=2"
            )
        return self._html

    def _repr_html_(self) -> str:
        return self.to_html()


_counter = itertools.count()


def _player(anim: WindowAnimation) -> str:
    """The HTML of the player: a figure (first frame, controls, caption) and its script.

    The first frame is the <img>'s own source, so it shows without JavaScript, in print
    and where a notebook viewer strips scripts; the others are in the script. The
    image's alt text is the current step in words; the caption, the one-line description
    of the whole. A frame shrinks to fit a narrow column down to 72% of its size, then
    scrolls sideways.
    """
    pngs = anim.frame_pngs()
    frames = [
        "data:image/png;base64," + base64.b64encode(p).decode("ascii") for p in pngs
    ]
    width, height = Image.open(io.BytesIO(pngs[0])).size
    digest = hashlib.sha1("".join(frames).encode()).hexdigest()[:10]
    uid = f"cnnanim-{digest}-{next(_counter)}"
    steps = [anim.caption(k) for k in range(len(anim))]
    n = len(frames)
    # The player's HTML and script, long lines left as they are (noqa below): wrapping
    # them would change every stored animation.
    return f"""<figure id="{uid}" class="cnn-anim" style="margin:0.5em 0;max-width:{width + 2}px;overflow-x:auto">
<img src="{frames[0]}" alt="{html.escape(steps[0], quote=True)}" width="{width}" height="{height}"
 style="display:block;width:100%;max-width:{width}px;min-width:{round(0.72 * width)}px;height:auto;border:1px solid #d0d7de">
<div class="cnn-anim-controls" style="display:flex;flex-wrap:wrap;align-items:center;gap:4px;margin-top:4px">
<button type="button" data-step="first" title="First step" aria-label="First step">«</button>
<button type="button" data-step="prev" title="Previous step" aria-label="Previous step">‹</button>
<button type="button" data-step="play" title="Play" aria-label="Play" style="min-width:4.5em">▶&#xFE0E; Play</button>
<button type="button" data-step="next" title="Next step" aria-label="Next step">›</button>
<button type="button" data-step="last" title="Last step" aria-label="Last step">»</button>
<input type="range" min="0" max="{n - 1}" step="1" value="0" aria-label="Step" style="flex:1 1 6em;min-width:6em">
<span class="cnn-anim-count" style="font-variant-numeric:tabular-nums">1 / {n}</span>
</div>
<figcaption style="font-size:0.9em;margin-top:2px">{html.escape(anim.alt)}</figcaption>
</figure>
<script>
(function () {{
  var root = document.getElementById("{uid}");
  if (!root || root.getAttribute("data-ready")) return;
  root.setAttribute("data-ready", "1");
  var frames = {json.dumps(frames[1:])}, steps = {json.dumps(steps)};
  var img = root.querySelector("img"), slider = root.querySelector("input"),
      count = root.querySelector(".cnn-anim-count"), play = root.querySelector("[data-step=play]");
  frames.unshift(img.getAttribute("src"));
  var k = 0, last = frames.length - 1, timer = null;
  function show(i) {{
    k = Math.max(0, Math.min(last, i));
    img.src = frames[k]; img.alt = steps[k];
    slider.value = k; count.textContent = (k + 1) + " / " + frames.length;
  }}
  function stop() {{
    if (timer) clearInterval(timer);
    timer = null; play.innerHTML = "\u25b6\ufe0e Play"; play.setAttribute("aria-label", "Play");
  }}
  function start() {{
    if (k === last) show(0);
    play.textContent = "Pause"; play.setAttribute("aria-label", "Pause");
    timer = setInterval(function () {{ show(k + 1); if (k === last) stop(); }}, {round(1000 / anim.fps)});
  }}
  root.querySelectorAll("button").forEach(function (b) {{
    b.addEventListener("click", function () {{
      var s = b.getAttribute("data-step");
      if (s === "play") {{ if (timer) stop(); else start(); return; }}
      stop();
      show({{first: 0, prev: k - 1, next: k + 1, last: last}}[s]);
    }});
  }});
  slider.addEventListener("input", function () {{ stop(); show(parseInt(slider.value, 10)); }});
}})();
</script>"""  # noqa: E501


# ---------------------------------------------------------------------- validation


def _as_2d_or_3d(X: object, name: str) -> torch.Tensor:
    """H×W, C×H×W, or 1×C×H×W (a batch of one, as nn layers take it) → C×H×W."""
    if not isinstance(X, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(X).__name__}")
    if X.ndim == 4 and X.shape[0] == 1:
        X = X[0]
    if X.ndim == 2:
        X = X[None]
    if X.ndim != 3 or X.numel() == 0:
        raise ValueError(
            f"{name} must be H×W, C×H×W or 1×C×H×W, got shape {tuple(X.shape)}"
        )
    return X.detach().cpu()


def _check_size(
    what: str, source: torch.Tensor, n_frames: int, max_frames: int
) -> None:
    _, h, w = source.shape
    if n_frames > max_frames:
        raise ValueError(
            f"too large to animate readably: {n_frames} output values (one frame "
            f"each) is more than "
            f"max_frames={max_frames}; animate a crop of the input"
        )
    if max(h, w) > MAX_SIDE:
        raise ValueError(
            f"too large to animate readably: the {what} is {h}×{w}, more than "
            f"{MAX_SIDE} cells "
            f"on a side; animate a crop of the input"
        )
    if source.shape[0] > MAX_CHANNELS:
        raise ValueError(
            f"too large to animate readably: {source.shape[0]} channels, more "
            f"than {MAX_CHANNELS}"
        )


def _bias(bias: object, co: int, dtype: torch.dtype) -> torch.Tensor | None:
    if bias is None:
        return None
    b = torch.as_tensor(bias).detach().cpu().to(dtype).reshape(-1)
    if b.numel() == 1 and co > 1:
        b = b.expand(co)
    if b.numel() != co:
        raise ValueError(
            f"bias must hold one value per output channel ({co}), got {b.numel()}"
        )
    return b


def _size_words(t: tuple[int, ...]) -> str:
    return "×".join(str(v) for v in t)


def _each(n: int) -> str:
    return "its only step" if n == 1 else f"each of its {n} steps"


# ----------------------------------------------------------------- the three animations


def _slide(
    source: torch.Tensor,
    kernel: torch.Tensor | None,
    bias: torch.Tensor | None,
    mode: str,
    window: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> tuple[list[Frame], torch.Tensor]:
    """Visit every output position as the textbook's loops do; return the frames and the
    output."""
    ci, hp_, wp = source.shape
    kh, kw = window
    (sh, sw), (dh, dw) = stride, dilation
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    ho, wo = (hp_ - span_h) // sh + 1, (wp - span_w) // sw + 1
    channels = kernel.shape[0] if kernel is not None else ci
    output = torch.zeros((channels, ho, wo), dtype=source.dtype)
    frames: list[Frame] = []
    for o, i, j in itertools.product(range(channels), range(ho), range(wo)):
        r0, c0 = i * sh, j * sw
        patch = source[:, r0 : r0 + span_h : dh, c0 : c0 + span_w : dw]  # ci×kh×kw
        pick = None
        if mode == "conv":
            terms = patch * kernel[o]  # type: ignore[index]  # conv: a kernel is given
            value = terms.sum() + (bias[o] if bias is not None else 0)
        else:
            terms = patch[o]
            if mode == "max":
                flat = int(terms.argmax())
                value, pick = terms.max(), (flat // kw, flat % kw)
            else:
                value = terms.sum() / (kh * kw)
        output[o, i, j] = value
        frames.append(
            Frame((o, i, j), (r0, c0), terms.clone(), float(output[o, i, j]), pick)
        )
    return frames, output


def animate_conv2d(
    X: torch.Tensor,
    K: torch.Tensor,
    bias: torch.Tensor | float | None = None,
    padding: Pair = 0,
    stride: Pair = 1,
    dilation: Pair = 1,
    *,
    alt: str | None = None,
    max_frames: int = MAX_FRAMES,
    fps: float = 1.5,
    decimals: int = 4,
) -> WindowAnimation:
    """Animate a cross-correlation (``F.conv2d``), one frame per output value.

    X is H×W, C×H×W or 1×C×H×W; K is kh×kw, ci×kh×kw (one output channel) or co×ci×kh×kw
    (as ``nn.Conv2d.weight``); ``bias`` is None, a number or one value per output
    channel. ``padding``, ``stride`` and ``dilation`` take an int or a (height, width)
    pair, padding per side as in PyTorch. Frames run over output channels, then rows,
    then columns; each shows every input channel's window, its kernel slice and their
    products, and writes the sum (plus the bias) into the output. ``alt`` replaces the
    generated one-line text alternative. ``anim.output`` equals ``F.conv2d(X, K, bias,
    stride, padding, dilation)``.
    """
    X = _as_2d_or_3d(X, "X")
    if not isinstance(K, torch.Tensor) or K.ndim not in (2, 3, 4):
        raise ValueError(
            f"K must be kh×kw, ci×kh×kw or co×ci×kh×kw, got "
            f"{getattr(K, 'shape', type(K).__name__)}"
        )
    K = K.detach().cpu()
    K = K.reshape(1, 1, *K.shape) if K.ndim == 2 else (K[None] if K.ndim == 3 else K)
    if K.shape[1] != X.shape[0]:
        raise ValueError(
            f"channel mismatch: X has {X.shape[0]} input channels but K expects "
            f"{K.shape[1]}"
        )
    if K.shape[0] > MAX_CHANNELS:
        raise ValueError(
            f"too large to animate readably: {K.shape[0]} output channels, more "
            f"than {MAX_CHANNELS}"
        )
    (ph, pw), (sh, sw), (dh, dw) = (
        _padding(padding),
        _stride(stride),
        _pair(dilation, "dilation"),
    )
    if min(dh, dw) < 1:
        raise ValueError(f"dilation must be positive, got {dilation!r}")
    kh, kw = K.shape[2:]
    _check_window_fits(
        tuple(X.shape[1:]), (dh * (kh - 1) + 1, dw * (kw - 1) + 1), (ph, pw), "kernel"
    )
    dtype = _float_dtype(X, K)
    X, K = X.to(dtype), K.to(dtype)
    source = F.pad(X, (pw, pw, ph, ph))
    cells = F.pad(
        torch.zeros(X.shape[1:], dtype=torch.long), (pw, pw, ph, ph), value=PADDING
    )
    n = (
        K.shape[0]
        * ((source.shape[1] - dh * (kh - 1) - 1) // sh + 1)
        * ((source.shape[2] - dw * (kw - 1) - 1) // sw + 1)
    )
    _check_size("padded input", source, n, max_frames)
    b = _bias(bias, K.shape[0], dtype)
    frames, output = _slide(source, K, b, "conv", (kh, kw), (sh, sw), (dh, dw))
    if alt is None:
        settings = [
            f"padding {padding}" if ph or pw else "no padding",
            f"stride {stride}",
        ]
        if dh > 1 or dw > 1:
            settings.append(f"dilation {dilation}")
        chans = f"{X.shape[0]}-channel " if X.shape[0] > 1 else ""
        size = _size_words(tuple(output.shape[1:]))
        target = (
            f"the {size} output"
            if K.shape[0] == 1
            else f"one of {K.shape[0]} output channels ({size} each)"
        )
        steps = (
            "multiplies one window by the kernel, sums the products"
            if X.shape[0] == 1
            else "multiplies the window of each channel by that channel's kernel "
            "slice, sums all the products"
        )
        steps += ", adds the bias" if b is not None else ""
        alt = (
            f"Animation: a {kh}×{kw} kernel slides over a "
            f"{chans}{_size_words(tuple(X.shape[1:]))} input "
            f"({', '.join(settings)}); {_each(len(frames))} {steps} and writes "
            f"the result into {target}."
        )
    titles = {
        "input": "input" + (f" (padding {padding})" if ph or pw else ""),
        "kernel": "kernel",
    }
    return WindowAnimation(
        "conv",
        source,
        cells,
        K,
        b,
        (kh, kw),
        (sh, sw),
        (dh, dw),
        frames,
        output,
        alt,
        titles,
        fps,
        decimals,
    )


def animate_pool2d(
    X: torch.Tensor,
    pool_size: Pair,
    mode: str = "max",
    padding: Pair = 0,
    stride: Pair = 1,
    *,
    alt: str | None = None,
    max_frames: int = MAX_FRAMES,
    fps: float = 1.5,
    decimals: int = 4,
) -> WindowAnimation:
    """Animate max or average pooling of an H×W, C×H×W or 1×C×H×W input, channel by
    channel.

    As ``hp.pool2d``: ``stride`` defaults to 1 (pass ``stride=pool_size`` for
    ``nn.MaxPool2d(pool_size)``), max pooling pads with −∞, average pooling with zeros
    and divides by the full window (``count_include_pad=True``). Each frame shows the
    window's values with the maximum highlighted (or their mean) and writes it into the
    output. ``anim.output`` equals ``F.max_pool2d`` / ``F.avg_pool2d`` with the same
    settings.
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    X = _as_2d_or_3d(X, "X")
    (kh, kw), (ph, pw), (sh, sw) = (
        _pair(pool_size, "pool_size"),
        _padding(padding),
        _stride(stride),
    )
    if min(kh, kw) < 1:
        raise ValueError(f"pool_size must be positive, got {pool_size!r}")
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError(
            f"padding {(ph, pw)} must be at most half the window {(kh, kw)}"
        )
    _check_window_fits(tuple(X.shape[1:]), (kh, kw), (ph, pw), "pooling window")
    X = X.to(_float_dtype(X))
    fill = float("-inf") if mode == "max" else 0.0
    source = F.pad(X, (pw, pw, ph, ph), value=fill)
    cells = F.pad(
        torch.zeros(X.shape[1:], dtype=torch.long), (pw, pw, ph, ph), value=PADDING
    )
    n = (
        X.shape[0]
        * ((source.shape[1] - kh) // sh + 1)
        * ((source.shape[2] - kw) // sw + 1)
    )
    _check_size("padded input", source, n, max_frames)
    frames, output = _slide(source, None, None, mode, (kh, kw), (sh, sw), (1, 1))
    if alt is None:
        what = "largest value" if mode == "max" else "mean"
        chans = (
            f", one channel at a time ({X.shape[0]} channels)" if X.shape[0] > 1 else ""
        )
        pad = (
            f"padding {padding} of {'−∞' if mode == 'max' else 'zeros'}, "
            if ph or pw
            else ""
        )
        target = "that channel's" if X.shape[0] > 1 else "the"
        alt = (
            f"Animation: a {kh}×{kw} {'maximum' if mode == 'max' else 'average'} "
            f"pooling window ({pad}stride "
            f"{stride}) slides over a {_size_words(tuple(X.shape[1:]))} "
            f"input{chans}; {_each(len(frames))} writes "
            f"the window's {what} into {target} "
            f"{_size_words(tuple(output.shape[1:]))} output."
        )
    titles = {"input": "input" + (f" (padding {padding})" if ph or pw else "")}
    return WindowAnimation(
        mode,
        source,
        cells,
        None,
        None,
        (kh, kw),
        (sh, sw),
        (1, 1),
        frames,
        output,
        alt,
        titles,
        fps,
        decimals,
    )


def animate_conv_transpose2d(
    X: torch.Tensor,
    K: torch.Tensor,
    bias: torch.Tensor | float | None = None,
    stride: Pair = 2,
    padding: Pair = 0,
    *,
    alt: str | None = None,
    max_frames: int = MAX_FRAMES,
    fps: float = 1.5,
    decimals: int = 4,
) -> WindowAnimation:
    """Animate a transposed convolution (``F.conv_transpose2d``), the "stride ½" of
    stride 2.

    One channel in and out: X is H×W (or 1×1×H×W), K is kh×kw (or 1×1×kh×kw). The input
    gets s−1 zeros between neighbouring pixels and k−1−p zeros around it, and an
    ordinary stride-1 cross-correlation with the *flipped* kernel runs over the result:
    output size (H−1)·s − 2p + k per axis. ``anim.output`` equals
    ``F.conv_transpose2d(X, K, bias, stride, padding)``; the frames show the zero-filled
    input and the flipped kernel.
    """
    X = _as_2d_or_3d(X, "X")
    if X.shape[0] != 1:
        raise ValueError(
            f"animate_conv_transpose2d takes one channel, got {X.shape[0]}"
        )
    if (
        not isinstance(K, torch.Tensor)
        or K.numel() == 0
        or K.ndim not in (2, 4)
        or tuple(K.shape[:-2]) not in ((), (1, 1))
    ):
        raise ValueError(
            f"K must be kh×kw or 1×1×kh×kw, got {getattr(K, 'shape', type(K).__name__)}"
        )
    K = K.detach().cpu().reshape(K.shape[-2:])
    (sh, sw), (ph, pw) = _stride(stride), _padding(padding)
    kh, kw = K.shape
    if ph > kh - 1 or pw > kw - 1:
        raise ValueError(f"padding {(ph, pw)} must be less than the kernel {(kh, kw)}")
    dtype = _float_dtype(X, K)
    h, w = X.shape[1:]
    spread = torch.zeros((h - 1) * sh + 1, (w - 1) * sw + 1, dtype=dtype)
    spread[::sh, ::sw] = X[0].to(dtype)
    kinds = torch.full(spread.shape, INSERTED, dtype=torch.long)
    kinds[::sh, ::sw] = REAL
    qh, qw = kh - 1 - ph, kw - 1 - pw
    source = F.pad(spread, (qw, qw, qh, qh))[None]
    cells = F.pad(kinds, (qw, qw, qh, qh), value=PADDING)
    if source.shape[1] < kh or source.shape[2] < kw:
        raise ValueError(
            f"kernel {kh}×{kw} is larger than the zero-filled input "
            f"{tuple(source.shape[1:])}"
        )
    n = (source.shape[1] - kh + 1) * (source.shape[2] - kw + 1)
    _check_size("zero-filled input", source, n, max_frames)
    flipped = K.flip(0, 1).to(dtype).reshape(1, 1, kh, kw)
    b = _bias(bias, 1, dtype)
    frames, output = _slide(source, flipped, b, "conv", (kh, kw), (1, 1), (1, 1))
    if alt is None:
        inverse = (
            {2: "½", 3: "⅓", 4: "¼"}.get(sh, f"1/{sh}")
            if sh == sw
            else f"(1/{sh}, 1/{sw})"
        )

        def plural(n: int, word: str) -> str:
            return f"{n} {word}" + ("s" if n != 1 else "")

        around = (
            f"{plural(qh, 'row')} and column" + ("s" if qh != 1 else "")
            if qh == qw
            else f"{plural(qh, 'row')} and {plural(qw, 'column')}"
        )
        alt = (
            f"Animation: a transposed convolution with stride {stride} (a stride "
            f"of {inverse}): the "
            f"{h}×{w} input gets zeros between its pixels and {around} of zeros "
            f"around them, and the "
            f"flipped {kh}×{kw} kernel slides over it; {_each(len(frames))} "
            f"writes one value of the "
            f"{_size_words(tuple(output.shape[1:]))} output."
        )
    titles = {
        "input": f"input, zeros between (stride {stride}) and around",
        "kernel": "kernel, flipped",
    }
    return WindowAnimation(
        "conv",
        source,
        cells,
        flipped,
        b,
        (kh, kw),
        (1, 1),
        (1, 1),
        frames,
        output,
        alt,
        titles,
        fps,
        decimals,
    )
