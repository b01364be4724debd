"""From-scratch convolution and pooling, written for reading rather than speed.

Every function here loops over output positions exactly as the textbook draws
it, and is tested against ``torch.nn.functional``. Shapes follow PyTorch:

* a single-channel image is H×W, a multi-channel one C×H×W;
* a kernel is kh×kw, ci×kh×kw (one output channel) or co×ci×kh×kw;
* ``padding`` is the number of rows/columns added on *each* side (PyTorch's
  convention; the textbook's p_h counts both sides together);
* ``padding`` and ``stride`` take an int or an (height, width) pair.

Bad input raises ``ValueError`` with a one-line message instead of garbage.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = [
    "apply_conv2d",
    "conv_macs",
    "conv_matrix",
    "conv_output_shape",
    "conv_output_size",
    "corr2d",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_multi_in_out_1x1",
    "pool2d",
]

Pair = int | tuple[int, int]


# --------------------------------------------------------------------------- checks


def _pair(value: Pair, name: str) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return value, value
    if (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return int(value[0]), int(value[1])
    raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")


def _stride(value: Pair) -> tuple[int, int]:
    s = _pair(value, "stride")
    if min(s) < 1:
        raise ValueError(f"stride must be positive, got {value!r}")
    return s


def _padding(value: Pair) -> tuple[int, int]:
    p = _pair(value, "padding")
    if min(p) < 0:
        raise ValueError(f"padding must be non-negative, got {value!r}")
    return p


def _tensor(X: object, ndim: int, name: str, layout: str) -> torch.Tensor:
    if not isinstance(X, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(X).__name__}")
    if X.ndim != ndim:
        raise ValueError(
            f"{name} must be {ndim}-D ({layout}), got shape {tuple(X.shape)}"
        )
    if X.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(X.shape)})")
    return X


def _check_window_fits(
    hw: tuple[int, ...], window: tuple[int, ...], padding: tuple[int, int], what: str
) -> None:
    padded = (hw[0] + 2 * padding[0], hw[1] + 2 * padding[1])
    if window[0] > padded[0] or window[1] > padded[1]:
        raise ValueError(
            f"{what} {window[0]}×{window[1]} is larger than the (padded) input "
            f"{padded[0]}×{padded[1]}"
        )


def _float_dtype(*tensors: torch.Tensor) -> torch.dtype:
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    return dtype if dtype.is_floating_point else torch.float32


# --------------------------------------------------------------------------- shapes


def conv_output_size(
    n: int, kernel: int, padding: int = 0, stride: int = 1, ceil_mode: bool = False
) -> int:
    """Output length along one axis: ⌊(n + 2p − k) / s⌋ + 1.

    ``n`` is the input length, ``kernel`` the window, ``padding`` per side.
    ``ceil_mode=True`` rounds up instead (as ``nn.MaxPool2d(ceil_mode=True)``),
    dropping a last window that would start in the right-hand padding.
    """
    for value, name in ((n, "input size"), (kernel, "kernel size")):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    (p, _), (s, _) = _padding(padding), _stride(stride)
    _check_window_fits((n, n), (kernel, kernel), (p, p), "kernel")
    if not ceil_mode:
        return (n + 2 * p - kernel) // s + 1
    out = math.ceil((n + 2 * p - kernel) / s) + 1
    if (out - 1) * s >= n + p:  # the last window would start inside the right padding
        out -= 1
    return out


def conv_output_shape(
    input_hw: tuple[int, int],
    kernel_size: Pair,
    padding: Pair = 0,
    stride: Pair = 1,
    ceil_mode: bool = False,
) -> tuple[int, int]:
    """(H_out, W_out) of a conv or pooling layer applied to an H×W input."""
    h, w = _pair(input_hw, "input_hw")
    (kh, kw), (ph, pw), (sh, sw) = (
        _pair(kernel_size, "kernel_size"),
        _padding(padding),
        _stride(stride),
    )
    return conv_output_size(h, kh, ph, sh, ceil_mode), conv_output_size(
        w, kw, pw, sw, ceil_mode
    )


def conv_macs(
    in_channels: int,
    out_channels: int,
    input_hw: tuple[int, int],
    kernel_size: Pair,
    padding: Pair = 0,
    stride: Pair = 1,
) -> int:
    """Multiply-adds of one forward pass of a conv layer on one c_in×H×W image.

    Each of the c_out·H_out·W_out outputs is a sum of c_in·k_h·k_w products, so the cost
    is c_in · c_out · k_h · k_w · H_out · W_out (PyTorch's FLOP counter reports twice
    that).
    """
    for value, name in ((in_channels, "in_channels"), (out_channels, "out_channels")):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    kh, kw = _pair(kernel_size, "kernel_size")
    h_out, w_out = conv_output_shape(input_hw, (kh, kw), padding, stride)
    return in_channels * out_channels * kh * kw * h_out * w_out


# -------------------------------------------------------------------------- convolution


def corr2d(
    X: torch.Tensor, K: torch.Tensor, padding: Pair = 0, stride: Pair = 1
) -> torch.Tensor:
    """2-D cross-correlation of an H×W input with a kh×kw kernel → H_out×W_out.

    Output cell (i, j) is the sum of the element-wise product of K with the
    window of X whose top-left corner is (i·s_h, j·s_w) in the zero-padded input.
    Gradients flow through it, so it can back a trainable layer.
    """
    X, K = _tensor(X, 2, "X", "H×W"), _tensor(K, 2, "K", "kh×kw")
    (ph, pw), (sh, sw) = _padding(padding), _stride(stride)
    _check_window_fits(tuple(X.shape), tuple(K.shape), (ph, pw), "kernel")
    Xp = F.pad(X, (pw, pw, ph, ph)) if ph or pw else X
    kh, kw = K.shape
    h_out, w_out = (Xp.shape[0] - kh) // sh + 1, (Xp.shape[1] - kw) // sw + 1
    Y = torch.zeros((h_out, w_out), dtype=_float_dtype(X, K), device=X.device)
    for i in range(h_out):
        for j in range(w_out):
            Y[i, j] = (Xp[i * sh : i * sh + kh, j * sw : j * sw + kw] * K).sum()
    return Y


def corr2d_multi_in(
    X: torch.Tensor, K: torch.Tensor, padding: Pair = 0, stride: Pair = 1
) -> torch.Tensor:
    """Multi-input-channel cross-correlation: C×H×W input, C×kh×kw kernel → H_out×W_out.

    One 2-D cross-correlation per channel, then the sum over channels.
    """
    X, K = _tensor(X, 3, "X", "C×H×W"), _tensor(K, 3, "K", "C×kh×kw")
    if X.shape[0] != K.shape[0]:
        raise ValueError(
            f"channel mismatch: X has {X.shape[0]} input channels but K has "
            f"{K.shape[0]}"
        )
    # zip: X and K have the same length (checked above); the sum of at least one
    # channel's tensor is a tensor, never the start value 0
    return sum(corr2d(x, k, padding, stride) for x, k in zip(X, K))  # type: ignore[return-value]  # noqa: B905


def corr2d_multi_in_out(
    X: torch.Tensor, K: torch.Tensor, padding: Pair = 0, stride: Pair = 1
) -> torch.Tensor:
    """Multi-output-channel cross-correlation: ci×H×W input, co×ci×kh×kw kernel →
    co×H_out×W_out.

    Each of the co kernels (a ci×kh×kw block) gives one output channel.
    """
    X, K = _tensor(X, 3, "X", "C×H×W"), _tensor(K, 4, "K", "co×ci×kh×kw")
    if X.shape[0] != K.shape[1]:
        raise ValueError(
            f"channel mismatch: X has {X.shape[0]} input channels but K expects "
            f"{K.shape[1]}"
        )
    return torch.stack([corr2d_multi_in(X, k, padding, stride) for k in K])


def corr2d_multi_in_out_1x1(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """1×1 convolution as one matrix product: ci×H×W input, co×ci×1×1 kernel → co×H×W.

    Every pixel's ci-vector is multiplied by the same co×ci matrix: a fully
    connected layer applied at each position.
    """
    X, K = _tensor(X, 3, "X", "C×H×W"), _tensor(K, 4, "K", "co×ci×1×1")
    if tuple(K.shape[2:]) != (1, 1):
        raise ValueError(f"K must be a 1×1 kernel, got {K.shape[2]}×{K.shape[3]}")
    ci, h, w = X.shape
    if K.shape[1] != ci:
        raise ValueError(
            f"channel mismatch: X has {ci} input channels but K expects {K.shape[1]}"
        )
    Y = K.reshape(K.shape[0], ci) @ X.reshape(ci, h * w)
    return Y.reshape(K.shape[0], h, w)


# --------------------------------------------------------------------------- pooling


def pool2d(
    X: torch.Tensor,
    pool_size: Pair,
    mode: str = "max",
    padding: Pair = 0,
    stride: Pair = 1,
) -> torch.Tensor:
    """Max or average pooling of an H×W (or C×H×W, channel by channel) input.

    Note the default ``stride=1``, as in the textbook's first from-scratch version;
    ``nn.MaxPool2d`` defaults to stride = window. Max pooling pads with −∞;
    average pooling pads with zeros and divides by the full window area, which
    matches ``nn.AvgPool2d``'s default ``count_include_pad=True``. As in PyTorch,
    padding may be at most half the window.
    """
    if not isinstance(X, torch.Tensor) or X.ndim not in (2, 3):
        shape = tuple(X.shape) if isinstance(X, torch.Tensor) else type(X).__name__
        raise ValueError(f"X must be a 2-D (H×W) or 3-D (C×H×W) tensor, got {shape}")
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
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
    if X.ndim == 3:
        return torch.stack([pool2d(x, (kh, kw), mode, (ph, pw), (sh, sw)) for x in X])
    _check_window_fits(tuple(X.shape), (kh, kw), (ph, pw), "pooling window")
    X = X.to(_float_dtype(X))
    fill = float("-inf") if mode == "max" else 0.0
    Xp = F.pad(X, (pw, pw, ph, ph), value=fill) if ph or pw else X
    h_out, w_out = (Xp.shape[0] - kh) // sh + 1, (Xp.shape[1] - kw) // sw + 1
    Y = torch.zeros((h_out, w_out), dtype=X.dtype, device=X.device)
    for i in range(h_out):
        for j in range(w_out):
            window = Xp[i * sh : i * sh + kh, j * sw : j * sw + kw]
            Y[i, j] = window.max() if mode == "max" else window.sum() / (kh * kw)
    return Y


# --------------------------------------------------------------------- conv as a matrix


def conv_matrix(
    K: torch.Tensor, input_hw: tuple[int, int], padding: Pair = 0, stride: Pair = 1
) -> torch.Tensor:
    """The matrix W with ``X.reshape(-1) @ W == corr2d(X, K, padding,
    stride).reshape(-1)``.

    W has shape (H·W, H_out·W_out). Column (i, j) holds the kernel's weights at
    the input pixels that output cell (i, j) sees, and zeros elsewhere: the
    convolution is a very sparse linear map whose non-zeros repeat (weight sharing).
    """
    K = _tensor(K, 2, "K", "kh×kw")
    h, w = _pair(input_hw, "input_hw")
    (ph, pw), (sh, sw) = _padding(padding), _stride(stride)
    kh, kw = K.shape
    h_out, w_out = conv_output_shape((h, w), (kh, kw), (ph, pw), (sh, sw))
    W = torch.zeros((h * w, h_out * w_out), dtype=_float_dtype(K), device=K.device)
    for i in range(h_out):
        for j in range(w_out):
            for a in range(kh):
                for b in range(kw):
                    r, c = i * sh + a - ph, j * sw + b - pw
                    # taps on the zero padding contribute nothing
                    if 0 <= r < h and 0 <= c < w:
                        W[r * w + c, i * w_out + j] = K[a, b]
    return W


def apply_conv2d(layer: torch.nn.Module, X: torch.Tensor) -> torch.Tensor:
    """Apply a one-in, one-out channel conv/pool layer to an H×W tensor; return
    H_out×W_out.

    Adds the batch and channel axes (1×1×H×W) that ``nn`` layers expect, then strips
    them.
    """
    X = _tensor(X, 2, "X", "H×W")
    Y = layer(X.reshape(1, 1, *X.shape))
    if Y.ndim != 4 or Y.shape[:2] != (1, 1):
        raise ValueError(
            f"apply_conv2d needs a layer with one output channel, got output "
            f"shape {tuple(Y.shape)}"
        )
    return Y.reshape(Y.shape[2:])
