"""Pictures: image grids, kernels and feature maps, training curves, the sliding window,
confusion matrices and misclassified images.

Every function draws one new figure and returns nothing: in a notebook the figure is
shown once, when the cell ends; elsewhere use ``plt.gcf()`` to get it, e.g. to save it.
(Returning the figure would show it twice in Jupyter, and a trailing ``;`` does not help
under ``pytest --nbval``, which runs cells without storing history.)

They draw what they are given: uint8 images on the 0–255 scale, float images on [0, 1]
(pixels outside it are clipped, with a warning that says so: 0–255 values stored as
floats would otherwise be drawn white). Tensors and NumPy arrays both work. What cannot
be drawn faithfully is refused with a one-line ``ValueError``: an image without its
batch axis, an N×H×W×C batch, too few class names, predictions without labels, a
confusion matrix of fractions shown as counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from torch import nn

from .checks import in_unit_range, layout_fix, pixel_range, warn
from .models import layer_summary
from .ops import Pair, _pair, corr2d
from .train import History

__all__ = [
    "architecture_stages",
    "plot_history",
    "show_architecture",
    "show_confusion_matrix",
    "show_feature_maps",
    "show_images",
    "show_kernels",
    "show_misclassified",
    "show_sliding_window",
]


def _grid(n: int, ncols: int) -> tuple[int, int]:
    ncols = max(1, min(ncols, n))
    return -(-n // ncols), ncols


def _pixel_scale(X: torch.Tensor) -> int:
    """The top of the colour scale for X: 255 for uint8, 1 for floats (a warning when
    float pixels fall outside [0, 1] and will be clipped); other dtypes are refused."""
    if X.dtype == torch.uint8:
        return 255
    if not X.is_floating_point():
        raise ValueError(
            f"X holds {X.dtype} pixels; images are uint8 (0–255) or float in [0, "
            f"1]: X.to(torch.uint8) if they hold 0–255"
        )
    low, high = pixel_range(X)
    if not in_unit_range(low, high):
        fix = (
            "0–255 values? divide by 255 or pass uint8 images"
            if low >= 0
            else "standardised images? undo it: X * std + mean"
        )
        warn(
            f"X holds float pixels from {low:g} to {high:g}; they are drawn "
            f"clipped to [0, 1] ({fix})"
        )
    return 1


def _image(t: torch.Tensor) -> tuple[np.ndarray, str | None]:
    """C×H×W (C = 1 or 3) → something ``imshow`` takes, and its colour map. uint8 stays
    uint8 (``imshow`` reads RGB bytes as 0–255); float RGB is clipped to [0, 1] here, as
    ``imshow`` would."""
    t = t.detach().cpu()
    t = t if t.dtype == torch.uint8 else t.float()
    if t.ndim == 3 and t.shape[0] == 3:
        rgb = t.permute(1, 2, 0)
        return (rgb if t.dtype == torch.uint8 else rgb.clamp(0, 1)).numpy(), None
    return t.reshape(t.shape[-2:]).numpy(), "gray"


def _class_indices(
    labels: object, n: int, name: str, class_names: Sequence[str] | None
) -> list[int] | None:
    """Labels as a list of class indices: one-hot/probability rows become their arg-max.
    Each must name a class: an index into ``class_names`` when given, else a
    non-negative int."""
    if labels is None:
        return None
    indices_or_rows = torch.as_tensor(labels)
    if indices_or_rows.ndim == 2:
        indices_or_rows = indices_or_rows.argmax(dim=1)
    if len(indices_or_rows) < n:
        raise ValueError(f"{n} images to show but only {len(indices_or_rows)} {name}")
    indices = [int(v) for v in indices_or_rows[:n]]
    top = len(class_names) if class_names else None
    bad = [v for v in indices if v < 0 or (top is not None and v >= top)]
    if bad and top is not None:
        raise ValueError(
            f"class_names has {top} names, but {name} include {bad[0]}; give one "
            f"name per class, e.g. hp.class_names(...)"
        )
    if bad:
        raise ValueError(f"{name} must be class indices 0, 1, 2, …, got {bad[0]}")
    return indices


def show_images(
    X: torch.Tensor,
    labels: torch.Tensor | Sequence[int] | None = None,
    class_names: Sequence[str] | None = None,
    ncols: int = 8,
    max_images: int = 32,
    predictions: torch.Tensor | Sequence[int] | None = None,
    size: float = 1.3,
) -> None:
    """Grid of the first ``max_images`` images of X (N×1×H×W or N×3×H×W, a tensor or a
    NumPy array).

    uint8 images are drawn on the 0–255 scale, float images on [0, 1]; float pixels
    outside [0, 1] are clipped, with a warning. Titles show ``class_names[label]`` (or
    the label); with ``predictions``, a wrong prediction is shown in red after the true
    label. ``labels`` and ``predictions`` are class indices (N,) or one-hot rows N×C,
    with at least one per image shown; ``predictions`` need ``labels`` to be compared
    with.
    """
    X = torch.as_tensor(X)
    if X.ndim != 4 or X.shape[1] not in (1, 3):
        raise ValueError(
            f"show_images expects N×1×H×W or N×3×H×W, got shape "
            f"{tuple(X.shape)}{layout_fix(X)}"
        )
    if len(X) == 0:
        raise ValueError(f"X holds no images (shape {tuple(X.shape)})")
    if not isinstance(max_images, int) or max_images < 1:
        raise ValueError(f"max_images must be a positive int, got {max_images!r}")
    if predictions is not None and labels is None:
        raise ValueError(
            "predictions are shown beside the true labels: pass those too, "
            "show_images(X, labels, class_names, predictions=...)"
        )
    n = min(len(X), max_images)
    vmax = _pixel_scale(X[:n])
    labels = _class_indices(labels, n, "labels", class_names)
    predictions = _class_indices(predictions, n, "predictions", class_names)
    nrows, ncols = _grid(n, ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows * 1.15), squeeze=False
    )
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= n:
            continue
        img, cmap = _image(X[k])
        ax.imshow(img, cmap=cmap, vmin=0, vmax=vmax)
        if labels is not None:
            label = labels[k]
            title = class_names[label] if class_names else str(label)
            color = "black"
            if predictions is not None and predictions[k] != label:
                pred = predictions[k]
                title, color = (
                    f"{title}\n→ {class_names[pred] if class_names else pred}",
                    "red",
                )
            ax.set_title(title, fontsize=8, color=color)
    fig.tight_layout()


def _show_maps(
    maps: torch.Tensor, title: str, ncols: int, size: float, cmap: str
) -> None:
    n = len(maps)
    nrows, ncols = _grid(n, ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows + 0.4), squeeze=False
    )
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            ax.imshow(
                torch.as_tensor(maps[k]).detach().float().cpu().numpy(), cmap=cmap
            )
            ax.set_title(str(k), fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()


def show_kernels(
    conv: nn.Conv2d,
    in_channel: int = 0,
    max_kernels: int = 32,
    ncols: int = 8,
    size: float = 1.0,
) -> None:
    """The kh×kw kernels of a Conv2d for one input channel, one panel per output
    channel."""
    if not isinstance(conv, nn.Conv2d):
        raise ValueError(f"show_kernels needs an nn.Conv2d, got {type(conv).__name__}")
    if not 0 <= in_channel < conv.in_channels:
        raise ValueError(
            f"in_channel must be in [0, {conv.in_channels}), got {in_channel}"
        )
    kernels = conv.weight[:max_kernels, in_channel]
    _show_maps(
        kernels,
        f"{len(kernels)} kernels of {tuple(conv.weight.shape)} (input channel "
        f"{in_channel})",
        ncols,
        size,
        "RdBu_r",
    )


def show_feature_maps(
    maps: torch.Tensor,
    max_maps: int = 32,
    ncols: int = 8,
    size: float = 1.2,
    title: str = "feature maps",
) -> None:
    """Feature maps of one image, C×H×W (or 1×C×H×W; a tensor or a NumPy array), one
    panel per channel."""
    maps = torch.as_tensor(maps)
    if maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(
            f"show_feature_maps expects C×H×W or 1×C×H×W, got shape {tuple(maps.shape)}"
        )
    _show_maps(
        maps[:max_maps],
        f"{title}: {min(len(maps), max_maps)} of {len(maps)} channels",
        ncols,
        size,
        "viridis",
    )


def plot_history(
    histories: History | Mapping[str, History], size: tuple[float, float] = (9.0, 3.2)
) -> None:
    """Loss (left) and accuracy (right) per epoch for one or several named runs.

    Train accuracy is dashed, test accuracy solid, one colour per run. ``histories`` is
    what ``hp.train`` returns, or a dict that names several: ``{"MLP": h_mlp, "CNN":
    h_cnn}``.
    """
    if isinstance(histories, History):
        histories = {"model": histories}
    if not isinstance(histories, Mapping) or not histories:
        got = (
            "an empty dict"
            if isinstance(histories, Mapping)
            else f"a {type(histories).__name__}"
        )
        raise ValueError(
            f"histories must be a History or a dict of them, got {got}; name each run: "
            f"plot_history({{'run 1': h1, 'run 2': h2}})"
        )
    for name, h in histories.items():
        if not isinstance(h, History):
            raise ValueError(
                f"histories[{name!r}] must be a History (what hp.train returns), "
                f"got a {type(h).__name__}"
            )
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=size)
    for k, (name, h) in enumerate(histories.items()):
        color = f"C{k}"
        epochs = range(1, h.epochs + 1)
        ax_loss.plot(epochs, h.train_loss, color=color, label=name)
        ax_acc.plot(
            epochs, h.train_acc, color=color, linestyle="--", label=f"{name} train"
        )
        if h.test_acc:
            ax_acc.plot(epochs, h.test_acc, color=color, label=f"{name} test")
    ax_loss.set(xlabel="epoch", ylabel="train loss", yscale="log", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()


def _draw_matrix(
    ax: Axes,
    M: torch.Tensor,
    title: str,
    highlight: tuple[int, int, int, int] | None,
    color: str,
) -> None:
    h, w = M.shape
    ax.imshow(np.zeros((h, w)), cmap="Greys", vmin=0, vmax=1)
    for r in range(h):
        for c in range(w):
            ax.text(c, r, f"{float(M[r, c]):g}", ha="center", va="center", fontsize=9)
    for axis in (ax.xaxis, ax.yaxis):  # keep minor grid lines that fall on major ticks
        axis.remove_overlapping_locs = False
    ax.set_xticks([x - 0.5 for x in range(w + 1)], minor=True)
    ax.set_yticks([y - 0.5 for y in range(h + 1)], minor=True)
    ax.grid(which="minor", color="0.6", linewidth=0.8)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    if highlight is not None:
        r, c, hh, ww = highlight
        ax.add_patch(
            Rectangle(
                (c - 0.5, r - 0.5),
                ww,
                hh,
                fill=True,
                alpha=0.25,
                color=color,
                linewidth=2,
            )
        )
    ax.set_title(title, fontsize=10)


def show_sliding_window(
    X: torch.Tensor,
    K: torch.Tensor,
    i: int,
    j: int,
    stride: Pair = 1,
    padding: Pair = 0,
) -> None:
    """Input (H×W), kernel (kh×kw) and output of ``corr2d``, with the window that
    produces output cell (i, j) shaded in the input and that cell shaded in the output.

    ``stride`` and ``padding`` take an int or a (height, width) pair, as in ``corr2d``.
    """
    Y = corr2d(X, K, padding, stride)
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
    if not (0 <= i < Y.shape[0] and 0 <= j < Y.shape[1]):
        raise ValueError(
            f"output cell ({i}, {j}) is outside the {Y.shape[0]}×{Y.shape[1]} output"
        )
    Xp = torch.nn.functional.pad(X, (pw, pw, ph, ph)) if ph or pw else X
    kh, kw = K.shape
    widths = [Xp.shape[1], kw, Y.shape[1]]
    fig, axes = plt.subplots(
        1,
        3,
        figsize=(0.55 * sum(widths) + 1.5, 0.55 * max(Xp.shape[0], kh) + 0.8),
        gridspec_kw={"width_ratios": widths},
    )
    padded = f" (padding {padding})" if ph or pw else ""
    _draw_matrix(axes[0], Xp, f"input{padded}", (i * sh, j * sw, kh, kw), "tab:blue")
    _draw_matrix(axes[1], K, "kernel", (0, 0, kh, kw), "tab:orange")
    _draw_matrix(
        axes[2],
        Y,
        f"output: cell ({i}, {j}) = {float(Y[i, j]):g}",
        (i, j, 1, 1),
        "tab:green",
    )
    fig.tight_layout()


def show_confusion_matrix(
    cm: torch.Tensor,
    class_names: Sequence[str],
    normalize: bool = False,
    title: str | None = None,
    size: float = 5.5,
) -> None:
    """A C×C confusion matrix (rows: true class, columns: predicted) as a coloured grid.

    Each cell shows its count, or with ``normalize`` its fraction of the row (the
    diagonal is then the per-class accuracy); both axes are labelled with
    ``class_names``. ``cm`` holds counts (as from ``hp.confusion_matrix``): a matrix of
    fractions is refused, since its cells would print as 0.
    """
    cm = torch.as_tensor(cm).detach().cpu()
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square C×C matrix, got shape {tuple(cm.shape)}")
    if not torch.equal(cm, cm.round()) or (cm < 0).any():
        odd = cm[(cm != cm.round()) | (cm < 0)][0].item()
        raise ValueError(
            f"cm must hold counts (whole numbers ≥ 0), got {odd:g}; pass the "
            f"counts from hp.confusion_matrix "
            f"and normalize=True to show each row's fractions"
        )
    if len(class_names) != len(cm):
        raise ValueError(f"{len(cm)} classes in cm but {len(class_names)} class names")
    values = cm.double()
    if normalize:
        values = values / values.sum(dim=1, keepdim=True).clamp(min=1)
    shown = values.numpy()
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(shown, cmap="Blues", vmin=0, vmax=max(float(shown.max()), 1e-12))
    threshold = shown.max() / 2
    for i in range(len(cm)):
        for j in range(len(cm)):
            text = f"{shown[i, j]:.2f}" if normalize else f"{int(cm[i, j])}"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=7,
                color="white" if shown[i, j] > threshold else "black",
            )
    ticks = range(len(cm))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(ticks, class_names, fontsize=8)
    ax.set(xlabel="predicted class", ylabel="true class")
    default = (
        "confusion matrix (fraction of each true class)"
        if normalize
        else f"confusion matrix ({int(cm.sum()):,} examples)"
    )
    ax.set_title(title or default, fontsize=10)
    fig.tight_layout()


def show_misclassified(
    X: torch.Tensor,
    y_true: torch.Tensor,
    y_pred: torch.Tensor,
    class_names: Sequence[str],
    max_images: int = 24,
    ncols: int = 8,
    size: float = 1.3,
) -> None:
    """The first ``max_images`` images of X (N×1×H×W or N×3×H×W) whose prediction is
    wrong.

    Each title reads "true class → predicted class" (in red, as in ``show_images``); the
    figure's title says how many of the N were wrong. ``y_true`` and ``y_pred`` are
    class indices (N,) or one-hot/probability rows N×C (their arg-max is the class).
    """
    X = torch.as_tensor(X)
    y_true, y_pred = (torch.as_tensor(y).cpu() for y in (y_true, y_pred))
    y_true, y_pred = (y.argmax(dim=1) if y.ndim == 2 else y for y in (y_true, y_pred))
    if not (len(X) == len(y_true) == len(y_pred)):
        raise ValueError(
            f"X, y_true and y_pred must have the same length, got {len(X)}, "
            f"{len(y_true)}, {len(y_pred)}"
        )
    wrong = (y_true != y_pred).nonzero().flatten()
    if len(wrong) == 0:
        raise ValueError("no misclassified images: every prediction is right")
    shown = wrong[:max_images]
    show_images(
        X[shown.to(X.device)],
        y_true[shown],
        class_names,
        ncols=ncols,
        max_images=max_images,
        predictions=y_pred[shown],
        size=size,
    )
    fig = plt.gcf()
    fig.suptitle(
        f"{len(shown)} of {len(wrong):,} misclassified (of {len(X):,}): true → "
        f"predicted",
        fontsize=10,
    )
    fig.tight_layout()


_ACTIVATIONS = (nn.ReLU, nn.Sigmoid, nn.Tanh)


def _pair_label(
    name: str, pair: tuple[int, ...], default: tuple[int, int] | None = None
) -> str:
    """ ", stride 2" for (2, 2), ", stride 2×1" for (2, 1), "" for ``default``."""
    a, b = pair
    if (a, b) == default:
        return ""
    return f", {name} {a}" if a == b else f", {name} {a}×{b}"


def _layer_label(layer: nn.Module) -> str | None:
    """A short name for a layer in an architecture diagram (``None``: not drawn, e.g.
    dropout)."""
    if isinstance(layer, nn.Conv2d):
        kh, kw = layer.kernel_size
        if isinstance(layer.padding, str):  # padding="valid" (none) or "same"
            pad = "" if layer.padding == "valid" else f", pad {layer.padding}"
        else:
            pad = _pair_label("pad", layer.padding, (0, 0))
        return f"conv {kh}×{kw}{pad}" + _pair_label("stride", layer.stride, (1, 1))
    if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
        k = _pair(layer.kernel_size, "kernel_size")
        s = _pair(layer.stride or layer.kernel_size, "stride")
        kind = "max" if isinstance(layer, nn.MaxPool2d) else "avg"
        return f"{kind} pool {k[0]}×{k[1]}" + _pair_label("stride", s)
    if isinstance(layer, nn.Flatten):
        return "flatten"
    if isinstance(layer, nn.Linear):
        return "dense"
    if isinstance(layer, nn.Dropout):
        return None
    return type(layer).__name__


def architecture_stages(
    model: nn.Module, input_shape: Sequence[int]
) -> list[tuple[str, tuple[int, ...]]]:
    """The diagram's content: ``[(operation, output shape without batch axis), ...]``.

    The first entry is ``("input", input shape)``; an activation that follows a layer
    is written into that layer's operation ("conv 3×3, pad 1 + ReLU") instead of making
    a stage of its own. Shapes come from ``layer_summary`` (a real forward pass through
    each top-level child).
    """
    rows = layer_summary(model, input_shape, show=False)
    stages = [("input", tuple(input_shape[1:]))]
    for layer, (_, shape) in zip(model.children(), rows, strict=True):
        if isinstance(layer, _ACTIVATIONS) and len(stages) > 1:
            stages[-1] = (f"{stages[-1][0]} + {type(layer).__name__}", shape[1:])
            continue
        label = _layer_label(layer)
        if label is not None:
            stages.append((label, shape[1:]))
    return stages


def show_architecture(
    model: nn.Module,
    input_shape: Sequence[int],
    size: tuple[float, float] | None = None,
) -> None:
    """Draw a network as a row of boxes, one per tensor the data passes through, left
    to right.

    ``input_shape`` is a batch shape like (1, 1, 28, 28). A C×H×W tensor is a box whose
    height follows H and whose width grows with the number of channels; a vector is a
    thin bar whose height grows with its length. Each box is labelled with its shape,
    each arrow with the layer that produced the next tensor (see
    ``architecture_stages``).
    """
    stages = architecture_stages(model, input_shape)
    maps = [s for _, s in stages if len(s) == 3]
    h_max = max((s[1] for s in maps), default=1)
    c_max = max((s[0] for s in maps), default=1)
    n_max = max((int(np.prod(s)) for _, s in stages), default=1)
    step = 1.4  # from one box's left edge to the next one's
    fig, ax = plt.subplots(figsize=size or (1.25 * len(stages), 2.4))
    right_of_previous = 0.0
    for k, (op, shape) in enumerate(stages):
        x = k * step
        if len(shape) == 3:
            c, h, _ = shape
            width = 0.25 + 0.45 * np.log1p(c) / np.log1p(c_max)
            height = 0.15 + 0.85 * h / h_max
            text = "×".join(str(d) for d in shape)
        else:
            n = int(np.prod(shape))
            width, height = 0.12, 0.15 + 0.85 * np.log1p(n) / np.log1p(n_max)
            text = f"{n:,}"
        ax.add_patch(
            Rectangle(
                (x, -height / 2),
                width,
                height,
                facecolor="C0" if len(shape) == 3 else "C1",
                alpha=0.35,
                edgecolor="black",
            )
        )
        ax.text(x + width / 2, -0.6, text, ha="center", va="top", fontsize=8)
        if k > 0:
            ax.annotate(
                "",
                xy=(x - 0.04, 0),
                xytext=(right_of_previous + 0.04, 0),
                arrowprops={"arrowstyle": "->", "color": "gray"},
            )
            label = op.replace(" + ", "\n+ ").replace(", ", ",\n")
            ax.text(
                (x + right_of_previous) / 2,
                0.56,
                label,
                ha="center",
                va="bottom",
                fontsize=7,
            )
        right_of_previous = x + width
    ax.set_xlim(-0.1, right_of_previous + 0.1)
    ax.set_ylim(-1.0, 1.25)
    ax.axis("off")
    fig.tight_layout()
