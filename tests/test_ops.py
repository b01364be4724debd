"""The from-scratch operations against torch.nn.functional, and their errors."""

from __future__ import annotations

import itertools
import math
import re

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

import helpers as hp


def _pair_or_int(values: st.SearchStrategy[int]) -> st.SearchStrategy:
    """An int, or an (h, w) pair of them: both forms every op accepts."""
    return st.one_of(values, st.tuples(values, values))


def _hw(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else value


@st.composite
def windows(draw, max_padding: int | None = None):
    """(H, W, kh, kw, padding, stride) with the window inside the padded input;
    non-square shapes, and paddings up to 3 (or, for pooling, at most half the window).
    """
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    if max_padding is None:
        padding = draw(_pair_or_int(st.integers(0, 3)))
    else:
        padding = draw(st.tuples(st.integers(0, kh // 2), st.integers(0, kw // 2)))
    stride = draw(_pair_or_int(st.integers(1, 4)))
    (ph, pw) = _hw(padding)
    h, w = (
        draw(st.integers(max(1, kh - 2 * ph), 10)),
        draw(st.integers(max(1, kw - 2 * pw), 10)),
    )
    return h, w, kh, kw, padding, stride


def _randn(*shape, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_corr2d_textbook_example():
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.arange(4.0).reshape(2, 2)
    assert torch.equal(hp.corr2d(X, K), torch.tensor([[19.0, 25.0], [37.0, 43.0]]))


@given(windows(), st.integers(0, 2**16))
def test_corr2d_matches_conv2d(case, seed):
    h, w, kh, kw, padding, stride = case
    X, K = _randn(h, w, seed=seed), _randn(kh, kw, seed=seed + 1)
    expected = F.conv2d(X[None, None], K[None, None], padding=padding, stride=stride)[
        0, 0
    ]
    Y = hp.corr2d(X, K, padding, stride)
    assert (
        Y.shape
        == expected.shape
        == hp.conv_output_shape((h, w), (kh, kw), padding, stride)
    )
    assert torch.allclose(Y, expected, atol=1e-5)


@given(windows(), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2**16))
def test_multi_channel_matches_conv2d(case, ci, co, seed):
    h, w, kh, kw, padding, stride = case
    X, K = _randn(ci, h, w, seed=seed), _randn(co, ci, kh, kw, seed=seed + 1)
    expected = F.conv2d(X[None], K, padding=padding, stride=stride)[0]
    assert torch.allclose(
        hp.corr2d_multi_in_out(X, K, padding, stride), expected, atol=1e-4
    )
    assert torch.allclose(
        hp.corr2d_multi_in(X, K[0], padding, stride), expected[0], atol=1e-4
    )


@given(st.sampled_from([torch.int64, torch.uint8, torch.float64]))
def test_corr2d_computes_in_float(dtype):
    """Integer images come back as float32 (for F.conv2d); float64 stays float64."""
    X, K = (
        torch.arange(12).reshape(3, 4).to(dtype),
        torch.tensor([[1, 0], [0, 2]]).to(dtype),
    )
    expected = F.conv2d(X.double()[None, None], K.double()[None, None])[0, 0]
    for Y in (
        hp.corr2d(X, K),
        hp.corr2d_multi_in(X[None], K[None]),
        hp.corr2d_multi_in_out(X[None], K[None, None])[0],
    ):
        assert Y.dtype == (torch.float64 if dtype == torch.float64 else torch.float32)
        assert torch.equal(Y.double(), expected)
    # promoted, as torch would
    assert hp.corr2d(X.float(), K.double()).dtype == torch.float64


def test_multi_in_textbook_example():
    X = torch.stack(
        [torch.arange(9.0).reshape(3, 3), torch.arange(1.0, 10.0).reshape(3, 3)]
    )
    K = torch.stack(
        [torch.arange(4.0).reshape(2, 2), torch.arange(1.0, 5.0).reshape(2, 2)]
    )
    assert torch.equal(
        hp.corr2d_multi_in(X, K), torch.tensor([[56.0, 72.0], [104.0, 120.0]])
    )
    Y = hp.corr2d_multi_in_out(X, torch.stack([K, K + 1, K + 2]))
    assert torch.equal(Y[2], torch.tensor([[96.0, 128.0], [192.0, 224.0]]))


@pytest.mark.parametrize("ci,co", [(3, 2), (1, 1), (32, 16)])
def test_1x1_is_a_matrix_product(ci, co):
    torch.manual_seed(ci)
    X, K = torch.randn(ci, 5, 4), torch.randn(co, ci, 1, 1)
    Y = hp.corr2d_multi_in_out_1x1(X, K)
    assert torch.allclose(Y, hp.corr2d_multi_in_out(X, K), atol=1e-5)
    assert torch.allclose(Y, F.conv2d(X[None], K)[0], atol=1e-5)


@given(
    windows(max_padding=True),
    st.sampled_from(["max", "avg"]),
    st.booleans(),
    st.integers(0, 2**16),
)
def test_pool2d_matches_functional(case, mode, channels, seed):
    h, w, kh, kw, padding, stride = case
    X = _randn(3, h, w, seed=seed) if channels else _randn(h, w, seed=seed)
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    expected = pool(X[None], (kh, kw), stride=stride, padding=padding)[0]
    assert torch.allclose(
        hp.pool2d(X, (kh, kw), mode, padding, stride), expected, atol=1e-5
    )


def test_pool2d_of_integers_is_float():
    X = torch.arange(16).reshape(4, 4)
    assert torch.equal(
        hp.pool2d(X, 2, "avg", stride=2), torch.tensor([[2.5, 4.5], [10.5, 12.5]])
    )
    assert (
        hp.pool2d(X, 2).dtype == torch.float32
        and hp.pool2d(X.double(), 2).dtype == torch.float64
    )


def test_pool2d_textbook_examples():
    X = torch.arange(9.0).reshape(3, 3)
    assert torch.equal(hp.pool2d(X, (2, 2)), torch.tensor([[4.0, 5.0], [7.0, 8.0]]))
    assert torch.equal(
        hp.pool2d(X, (2, 2), "avg"), torch.tensor([[2.0, 3.0], [5.0, 6.0]])
    )
    X = torch.arange(16.0).reshape(4, 4)
    assert torch.equal(
        hp.pool2d(X, 3, padding=1, stride=2), torch.tensor([[5.0, 7.0], [13.0, 15.0]])
    )
    assert torch.equal(
        hp.pool2d(X, (2, 3), padding=(0, 1), stride=(2, 3)),
        torch.tensor([[5.0, 7.0], [13.0, 15.0]]),
    )
    # max pooling pads with −∞ (a zero would win over negative inputs); average pooling
    # counts the zeros
    assert torch.equal(hp.pool2d(-torch.ones(2, 2), 3, padding=1), -torch.ones(2, 2))
    assert torch.equal(
        hp.pool2d(torch.ones(2, 2), 3, "avg", padding=1), torch.full((2, 2), 4 / 9)
    )


def test_output_size_matches_real_layers():
    checked = 0
    for n, k, p, s in itertools.product(
        range(1, 13), range(1, 6), range(0, 3), range(1, 4)
    ):
        if k > n + 2 * p:
            continue
        X = torch.zeros(1, 1, n, n)
        assert hp.conv_output_size(n, k, p, s) == nn.Conv2d(1, 1, k, s, p)(X).shape[-1]
        if p <= k // 2:
            for ceil in (False, True):
                got = nn.MaxPool2d(k, s, p, ceil_mode=ceil)(X).shape[-1]
                assert hp.conv_output_size(n, k, p, s, ceil_mode=ceil) == got, (
                    n,
                    k,
                    p,
                    s,
                    ceil,
                )
        checked += 1
    assert checked > 500


def test_output_shape_non_square_textbook_examples():
    assert hp.conv_output_shape((8, 8), 3, 1) == (8, 8)
    assert hp.conv_output_shape((8, 8), (5, 3), (2, 1)) == (8, 8)
    assert hp.conv_output_shape((8, 8), 3, 1, 2) == (4, 4)
    assert hp.conv_output_shape((8, 8), (3, 5), (0, 1), (3, 4)) == (2, 2)
    assert hp.conv_output_shape(8, 3, 1, 2) == (4, 4) and hp.conv_output_shape(
        torch.Size([8, 6]), 3
    ) == (6, 4)  # int: square


@pytest.mark.parametrize(
    "ci,co,hw,kernel,padding,stride",
    [
        (3, 8, (224, 224), 3, 1, 2),
        (64, 64, (56, 56), 3, 1, 1),
        (1, 16, (28, 20), (2, 5), (0, 2), (1, 3)),
    ],
)
def test_conv_macs_matches_the_flop_counter(ci, co, hw, kernel, padding, stride):
    from torch.utils.flop_counter import FlopCounterMode

    layer = nn.Conv2d(ci, co, kernel, stride, padding, device="meta")
    with FlopCounterMode(display=False) as counter:
        layer(torch.zeros(1, ci, *hw, device="meta"))
    assert counter.get_total_flops() == 2 * hp.conv_macs(
        ci, co, hw, kernel, padding, stride
    )


@given(windows(), st.integers(0, 2**16))
def test_conv_matrix_reproduces_corr2d(case, seed):
    h, w, kh, kw, padding, stride = case
    X, K = _randn(h, w, seed=seed), _randn(kh, kw, seed=seed + 1)
    W = hp.conv_matrix(K, (h, w), padding, stride)
    assert W.shape == (
        h * w,
        math.prod(hp.conv_output_shape((h, w), (kh, kw), padding, stride)),
    )
    assert torch.allclose(
        X.reshape(-1) @ W, hp.corr2d(X, K, padding, stride).reshape(-1), atol=1e-5
    )


@given(windows(), st.booleans())
def test_conv_output_shape_matches_the_layers(case, ceil_mode):
    h, w, kh, kw, padding, stride = case
    X = torch.zeros(1, 1, h, w, device="meta")
    assert hp.conv_output_shape((h, w), (kh, kw), padding, stride) == tuple(
        F.conv2d(
            X, torch.zeros(1, 1, kh, kw, device="meta"), padding=padding, stride=stride
        ).shape[2:]
    )
    (ph, pw) = _hw(padding)
    if ph <= kh // 2 and pw <= kw // 2:
        pooled = F.max_pool2d(
            torch.zeros(1, 1, h, w),
            (kh, kw),
            stride=stride,
            padding=padding,
            ceil_mode=ceil_mode,
        )
        assert hp.conv_output_shape(
            (h, w), (kh, kw), padding, stride, ceil_mode=ceil_mode
        ) == tuple(pooled.shape[2:])


def test_apply_conv2d_strips_batch_and_channel():
    conv = nn.Conv2d(1, 1, kernel_size=(3, 5), padding=(0, 1), stride=(3, 4))
    assert hp.apply_conv2d(conv, torch.rand(8, 8)).shape == (2, 2)
    with pytest.raises(ValueError, match="one output channel"):
        hp.apply_conv2d(nn.Conv2d(1, 2, 3), torch.rand(8, 8))


def test_corr2d_is_differentiable():
    """Learning the edge kernel [1, -1] by gradient descent through the loop op."""
    X = torch.ones(6, 8)
    X[:, 2:6] = 0
    Y = hp.corr2d(X, torch.tensor([[1.0, -1.0]]))
    K = torch.tensor([[0.3, 0.2]], requires_grad=True)
    for _ in range(30):
        loss = ((hp.corr2d(X, K) - Y) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            K -= 3e-2 * K.grad
            K.grad.zero_()
    assert torch.allclose(K.detach(), torch.tensor([[1.0, -1.0]]), atol=0.05)


# --------------------------------------------------------------------------- errors

BAD_CALLS = [
    (
        "kernel larger",
        lambda: hp.corr2d(torch.ones(2, 2), torch.ones(3, 3)),
        "kernel 3×3 is larger than the (padded) input 2×2",
    ),
    (
        "kernel taller",
        lambda: hp.corr2d(torch.ones(2, 5), torch.ones(3, 1), padding=0),
        "kernel 3×1 is larger than the (padded) input 2×5",
    ),
    (
        "kernel taller than padded",
        lambda: hp.corr2d(torch.ones(1, 5), torch.ones(4, 1), padding=(1, 0)),
        "kernel 4×1 is larger than the (padded) input 3×5",
    ),
    (
        "kernel wider",
        lambda: hp.corr2d(torch.ones(5, 2), torch.ones(1, 5), padding=(0, 1)),
        "kernel 1×5 is larger than the (padded) input 5×4",
    ),
    (
        "zero stride",
        lambda: hp.corr2d(torch.ones(4, 4), torch.ones(2, 2), stride=0),
        "stride must be positive, got 0",
    ),
    (
        "negative stride",
        lambda: hp.pool2d(torch.ones(4, 4), 2, stride=(1, -1)),
        "stride must be positive, got (1, -1)",
    ),
    (
        "negative padding",
        lambda: hp.corr2d(torch.ones(4, 4), torch.ones(2, 2), padding=-1),
        "padding must be non-negative, got -1",
    ),
    (
        "negative padding w",
        lambda: hp.corr2d(torch.ones(4, 4), torch.ones(2, 2), padding=(0, -1)),
        "padding must be non-negative, got (0, -1)",
    ),
    (
        "float padding",
        lambda: hp.corr2d(torch.ones(4, 4), torch.ones(2, 2), padding=0.5),
        "padding must be an int or a pair of ints, got 0.5",
    ),
    (
        "bool padding",
        lambda: hp.corr2d(torch.ones(4, 4), torch.ones(2, 2), padding=True),
        "padding must be an int or a pair of ints, got True",
    ),
    (
        "triple stride",
        lambda: hp.corr2d(torch.ones(4, 4), torch.ones(2, 2), stride=(1, 1, 1)),
        "stride must be an int or a pair of ints, got (1, 1, 1)",
    ),
    (
        "float in pair",
        lambda: hp.corr2d(torch.ones(4, 4), torch.ones(2, 2), stride=(1, 2.0)),
        "stride must be an int or a pair of ints, got (1, 2.0)",
    ),
    (
        "bool in pair",
        lambda: hp.corr2d(torch.ones(4, 4), torch.ones(2, 2), stride=[1, False]),
        "stride must be an int or a pair of ints, got [1, False]",
    ),
    (
        "X not 2-D",
        lambda: hp.corr2d(torch.ones(1, 4, 4), torch.ones(2, 2)),
        "X must be 2-D (H×W), got shape (1, 4, 4)",
    ),
    (
        "K not 2-D",
        lambda: hp.corr2d(torch.ones(4, 4), torch.ones(2)),
        "K must be 2-D (kh×kw), got shape (2,)",
    ),
    (
        "not a tensor",
        lambda: hp.corr2d([[1.0, 2.0]], torch.ones(1, 1)),
        "X must be a torch.Tensor, got list",
    ),
    (
        "empty input",
        lambda: hp.corr2d(torch.ones(0, 4), torch.ones(1, 1)),
        "X is empty (shape (0, 4))",
    ),
    (
        "empty kernel",
        lambda: hp.corr2d(torch.ones(4, 4), torch.ones(1, 0)),
        "K is empty (shape (1, 0))",
    ),
    (
        "channel mismatch in",
        lambda: hp.corr2d_multi_in(torch.ones(3, 4, 4), torch.ones(2, 1, 1)),
        "channel mismatch: X has 3 input channels but K has 2",
    ),
    (
        "channel mismatch out",
        lambda: hp.corr2d_multi_in_out(torch.ones(3, 4, 4), torch.ones(5, 2, 1, 1)),
        "channel mismatch: X has 3 input channels but K expects 2",
    ),
    (
        "multi_in wrong ndim",
        lambda: hp.corr2d_multi_in(torch.ones(4, 4), torch.ones(2, 2)),
        "X must be 3-D (C×H×W), got shape (4, 4)",
    ),
    (
        "multi_in kernel ndim",
        lambda: hp.corr2d_multi_in(torch.ones(1, 4, 4), torch.ones(2, 2)),
        "K must be 3-D (C×kh×kw), got shape (2, 2)",
    ),
    (
        "multi_in_out X ndim",
        lambda: hp.corr2d_multi_in_out(torch.ones(4, 4), torch.ones(1, 1, 2, 2)),
        "X must be 3-D (C×H×W), got shape (4, 4)",
    ),
    (
        "multi_in_out kernel ndim",
        lambda: hp.corr2d_multi_in_out(torch.ones(1, 4, 4), torch.ones(1, 2, 2)),
        "K must be 4-D (co×ci×kh×kw), got shape (1, 2, 2)",
    ),
    (
        "1x1 X ndim",
        lambda: hp.corr2d_multi_in_out_1x1(torch.ones(4, 4), torch.ones(2, 3, 1, 1)),
        "X must be 3-D (C×H×W), got shape (4, 4)",
    ),
    (
        "1x1 kernel ndim",
        lambda: hp.corr2d_multi_in_out_1x1(torch.ones(3, 4, 4), torch.ones(2, 3)),
        "K must be 4-D (co×ci×1×1), got shape (2, 3)",
    ),
    (
        "1x1 wrong kernel",
        lambda: hp.corr2d_multi_in_out_1x1(torch.ones(3, 4, 4), torch.ones(2, 3, 2, 2)),
        "K must be a 1×1 kernel, got 2×2",
    ),
    (
        "1x1 wrong kernel width",
        lambda: hp.corr2d_multi_in_out_1x1(torch.ones(3, 4, 4), torch.ones(2, 3, 1, 3)),
        "K must be a 1×1 kernel, got 1×3",
    ),
    (
        "1x1 channel mismatch",
        lambda: hp.corr2d_multi_in_out_1x1(torch.ones(3, 4, 4), torch.ones(2, 4, 1, 1)),
        "channel mismatch: X has 3 input channels but K expects 4",
    ),
    (
        "pool window larger",
        lambda: hp.pool2d(torch.ones(2, 2), 3),
        "pooling window 3×3 is larger than the (padded) input 2×2",
    ),
    (
        "pool window larger, channels",
        lambda: hp.pool2d(torch.ones(2, 5, 2), (1, 3)),
        "pooling window 1×3 is larger than the (padded) input 5×2",
    ),
    (
        "pool bad mode",
        lambda: hp.pool2d(torch.ones(4, 4), 2, mode="min"),
        "mode must be 'max' or 'avg', got 'min'",
    ),
    (
        "pool padding too big",
        lambda: hp.pool2d(torch.ones(4, 4), 2, padding=2),
        "padding (2, 2) must be at most half the window (2, 2)",
    ),
    (
        "pool padding too wide",
        lambda: hp.pool2d(torch.ones(4, 4), (4, 2), padding=(0, 2)),
        "padding (0, 2) must be at most half the window (4, 2)",
    ),
    (
        "pool wrong ndim",
        lambda: hp.pool2d(torch.ones(1, 1, 4, 4), 2),
        "X must be a 2-D (H×W) or 3-D (C×H×W) tensor, got (1, 1, 4, 4)",
    ),
    (
        "pool not a tensor",
        lambda: hp.pool2d([[1.0]], 1),
        "X must be a 2-D (H×W) or 3-D (C×H×W) tensor, got list",
    ),
    (
        "pool zero window",
        lambda: hp.pool2d(torch.ones(4, 4), 0),
        "pool_size must be positive, got 0",
    ),
    (
        "pool zero window width",
        lambda: hp.pool2d(torch.ones(4, 4), (2, 0)),
        "pool_size must be positive, got (2, 0)",
    ),
    (
        "pool float window",
        lambda: hp.pool2d(torch.ones(4, 4), 2.0),
        "pool_size must be an int or a pair of ints, got 2.0",
    ),
    (
        "shape zero input",
        lambda: hp.conv_output_size(0, 3),
        "input size must be a positive int, got 0",
    ),
    (
        "shape float input",
        lambda: hp.conv_output_size(8.0, 3),
        "input size must be a positive int, got 8.0",
    ),
    (
        "shape zero kernel",
        lambda: hp.conv_output_size(8, 0),
        "kernel size must be a positive int, got 0",
    ),
    (
        "shape kernel larger",
        lambda: hp.conv_output_size(3, 5),
        "kernel 5×5 is larger than the (padded) input 3×3",
    ),
    (
        "shape zero stride",
        lambda: hp.conv_output_shape((8, 8), 3, 0, 0),
        "stride must be positive, got 0",
    ),
    (
        "shape negative padding",
        lambda: hp.conv_output_size(8, 3, -1),
        "padding must be non-negative, got -1",
    ),
    (
        "shape bad input_hw",
        lambda: hp.conv_output_shape((8, 8, 8), 3),
        "input_hw must be an int or a pair of ints, got (8, 8, 8)",
    ),
    (
        "shape bad kernel",
        lambda: hp.conv_output_shape((8, 8), (3,)),
        "kernel_size must be an int or a pair of ints, got (3,)",
    ),
    (
        "macs zero channels",
        lambda: hp.conv_macs(0, 8, (8, 8), 3),
        "in_channels must be a positive int, got 0",
    ),
    (
        "macs float channels",
        lambda: hp.conv_macs(3, 8.0, (8, 8), 3),
        "out_channels must be a positive int, got 8.0",
    ),
    (
        "macs bad kernel",
        lambda: hp.conv_macs(3, 8, (8, 8), "3"),
        "kernel_size must be an int or a pair of ints, got '3'",
    ),
    (
        "conv_matrix kernel larger",
        lambda: hp.conv_matrix(torch.ones(5, 5), (3, 3)),
        "kernel 5×5 is larger than the (padded) input 3×3",
    ),
    (
        "conv_matrix kernel ndim",
        lambda: hp.conv_matrix(torch.ones(1, 5, 5), (8, 8)),
        "K must be 2-D (kh×kw), got shape (1, 5, 5)",
    ),
    (
        "conv_matrix bad stride",
        lambda: hp.conv_matrix(torch.ones(2, 2), (8, 8), stride=0),
        "stride must be positive, got 0",
    ),
    (
        "conv_matrix bad input_hw",
        lambda: hp.conv_matrix(torch.ones(2, 2), [8.0, 8]),
        "input_hw must be an int or a pair of ints, got [8.0, 8]",
    ),
    (
        "apply_conv2d X ndim",
        lambda: hp.apply_conv2d(nn.Conv2d(1, 1, 3), torch.ones(1, 8, 8)),
        "X must be 2-D (H×W), got shape (1, 8, 8)",
    ),
]


@pytest.mark.parametrize("name,call,message", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_input_raises_one_line_value_error(name, call, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$") as info:
        call()
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_results_keep_the_inputs_device_and_precision():
    """On the meta device (shapes only, no data) every op returns a meta tensor: the
    output is made where the input is. float64 in any input gives float64 out."""
    X, K = torch.randn(5, 6, dtype=torch.float64), torch.randn(2, 3)
    assert (
        hp.corr2d(X, K).dtype == torch.float64
        and hp.conv_matrix(K.double(), (5, 6)).dtype == torch.float64
    )
    meta = torch.zeros(5, 6, device="meta")
    assert hp.corr2d(meta, K.to("meta")).device.type == "meta"
    assert (
        hp.pool2d(meta, 2).device.type == "meta"
        and hp.pool2d(meta[None], 2, "avg").device.type == "meta"
    )
    assert hp.conv_matrix(K.to("meta"), (5, 6)).device.type == "meta"


def test_ceil_mode_applies_to_both_axes():
    assert hp.conv_output_shape((4, 5), 2, 0, 2, ceil_mode=True) == (2, 3)
    assert hp.conv_output_shape((5, 4), 2, 0, 2, ceil_mode=True) == (3, 2)
    assert hp.conv_output_shape((5, 5), 2, 0, 2) == (2, 2)
    # the default stride is 1
    assert hp.conv_matrix(torch.ones(2, 2), (4, 4)).shape == (
        16,
        9,
    )
