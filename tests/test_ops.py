"""The from-scratch operations against torch.nn.functional, and their errors."""
from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import helpers as hp


def _cases(n: int, seed: int):
    """n random (H, W, kh, kw, padding, stride) with non-square shapes, valid for a conv."""
    g = torch.Generator().manual_seed(seed)
    out = []
    while len(out) < n:
        h, w, kh, kw = (int(v) for v in torch.randint(1, 9, (4,), generator=g))
        ph, pw = (int(v) for v in torch.randint(0, 3, (2,), generator=g))
        sh, sw = (int(v) for v in torch.randint(1, 4, (2,), generator=g))
        if kh <= h + 2 * ph and kw <= w + 2 * pw:
            out.append((h, w, kh, kw, (ph, pw), (sh, sw)))
    return out


def test_corr2d_textbook_example():
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.arange(4.0).reshape(2, 2)
    assert torch.equal(hp.corr2d(X, K), torch.tensor([[19.0, 25.0], [37.0, 43.0]]))


@pytest.mark.parametrize("h,w,kh,kw,padding,stride", _cases(40, seed=0))
def test_corr2d_matches_conv2d(h, w, kh, kw, padding, stride):
    X, K = torch.randn(h, w), torch.randn(kh, kw)
    expected = F.conv2d(X[None, None], K[None, None], padding=padding, stride=stride)[0, 0]
    assert torch.allclose(hp.corr2d(X, K, padding, stride), expected, atol=1e-5)


@pytest.mark.parametrize("ci,co,padding,stride", [(1, 1, 0, 1), (3, 2, 1, 1), (8, 5, (2, 0), (1, 2)), (16, 3, 1, 3)])
def test_multi_channel_matches_conv2d(ci, co, padding, stride):
    torch.manual_seed(ci * 10 + co)
    X, K = torch.randn(ci, 7, 9), torch.randn(co, ci, 3, 2)
    expected = F.conv2d(X[None], K, padding=padding, stride=stride)[0]
    assert torch.allclose(hp.corr2d_multi_in_out(X, K, padding, stride), expected, atol=1e-4)
    assert torch.allclose(hp.corr2d_multi_in(X, K[0], padding, stride), expected[0], atol=1e-4)


def test_multi_in_textbook_example():
    X = torch.stack([torch.arange(9.0).reshape(3, 3), torch.arange(1.0, 10.0).reshape(3, 3)])
    K = torch.stack([torch.arange(4.0).reshape(2, 2), torch.arange(1.0, 5.0).reshape(2, 2)])
    assert torch.equal(hp.corr2d_multi_in(X, K), torch.tensor([[56.0, 72.0], [104.0, 120.0]]))
    Y = hp.corr2d_multi_in_out(X, torch.stack([K, K + 1, K + 2]))
    assert torch.equal(Y[2], torch.tensor([[96.0, 128.0], [192.0, 224.0]]))


@pytest.mark.parametrize("ci,co", [(3, 2), (1, 1), (32, 16)])
def test_1x1_is_a_matrix_product(ci, co):
    torch.manual_seed(ci)
    X, K = torch.randn(ci, 5, 4), torch.randn(co, ci, 1, 1)
    Y = hp.corr2d_multi_in_out_1x1(X, K)
    assert torch.allclose(Y, hp.corr2d_multi_in_out(X, K), atol=1e-5)
    assert torch.allclose(Y, F.conv2d(X[None], K)[0], atol=1e-5)


@pytest.mark.parametrize("h,w,kh,kw,padding,stride", [c for c in _cases(60, seed=1) if c[4][0] <= c[2] // 2 and c[4][1] <= c[3] // 2])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool2d_matches_functional(h, w, kh, kw, padding, stride, mode):
    X = torch.randn(3, h, w)
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    expected = pool(X[None], (kh, kw), stride=stride, padding=padding)[0]
    assert torch.allclose(hp.pool2d(X, (kh, kw), mode, padding, stride), expected, atol=1e-5)


def test_pool2d_textbook_examples():
    X = torch.arange(9.0).reshape(3, 3)
    assert torch.equal(hp.pool2d(X, (2, 2)), torch.tensor([[4.0, 5.0], [7.0, 8.0]]))
    assert torch.equal(hp.pool2d(X, (2, 2), "avg"), torch.tensor([[2.0, 3.0], [5.0, 6.0]]))
    X = torch.arange(16.0).reshape(4, 4)
    assert torch.equal(hp.pool2d(X, 3, padding=1, stride=2), torch.tensor([[5.0, 7.0], [13.0, 15.0]]))
    assert torch.equal(hp.pool2d(X, (2, 3), padding=(0, 1), stride=(2, 3)), torch.tensor([[5.0, 7.0], [13.0, 15.0]]))


def test_output_size_matches_real_layers():
    checked = 0
    for n, k, p, s in itertools.product(range(1, 13), range(1, 6), range(0, 3), range(1, 4)):
        if k > n + 2 * p:
            continue
        X = torch.zeros(1, 1, n, n)
        assert hp.conv_output_size(n, k, p, s) == nn.Conv2d(1, 1, k, s, p)(X).shape[-1]
        if p <= k // 2:
            for ceil in (False, True):
                got = nn.MaxPool2d(k, s, p, ceil_mode=ceil)(X).shape[-1]
                assert hp.conv_output_size(n, k, p, s, ceil_mode=ceil) == got, (n, k, p, s, ceil)
        checked += 1
    assert checked > 500


def test_output_shape_non_square_textbook_examples():
    assert hp.conv_output_shape((8, 8), 3, 1) == (8, 8)
    assert hp.conv_output_shape((8, 8), (5, 3), (2, 1)) == (8, 8)
    assert hp.conv_output_shape((8, 8), 3, 1, 2) == (4, 4)
    assert hp.conv_output_shape((8, 8), (3, 5), (0, 1), (3, 4)) == (2, 2)


@pytest.mark.parametrize("ci,co,hw,kernel,padding,stride", [(3, 8, (224, 224), 3, 1, 2), (64, 64, (56, 56), 3, 1, 1), (1, 16, (28, 20), (2, 5), (0, 2), (1, 3))])
def test_conv_macs_matches_the_flop_counter(ci, co, hw, kernel, padding, stride):
    from torch.utils.flop_counter import FlopCounterMode

    layer = nn.Conv2d(ci, co, kernel, stride, padding, device="meta")
    with FlopCounterMode(display=False) as counter:
        layer(torch.zeros(1, ci, *hw, device="meta"))
    assert counter.get_total_flops() == 2 * hp.conv_macs(ci, co, hw, kernel, padding, stride)


@pytest.mark.parametrize("h,w,kh,kw,padding,stride", _cases(15, seed=2))
def test_conv_matrix_reproduces_corr2d(h, w, kh, kw, padding, stride):
    X, K = torch.randn(h, w), torch.randn(kh, kw)
    W = hp.conv_matrix(K, (h, w), padding, stride)
    assert torch.allclose(X.reshape(-1) @ W, hp.corr2d(X, K, padding, stride).reshape(-1), atol=1e-5)


def test_apply_conv2d_strips_batch_and_channel():
    conv = nn.Conv2d(1, 1, kernel_size=(3, 5), padding=(0, 1), stride=(3, 4))
    assert hp.apply_conv2d(conv, torch.rand(8, 8)).shape == (2, 2)
    with pytest.raises(ValueError, match="one output channel"):
        hp.apply_conv2d(nn.Conv2d(1, 2, 3), torch.rand(8, 8))


def test_corr2d_is_differentiable():
    """Learning the edge kernel [1, -1] by gradient descent through the loop-based op."""
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
    ("kernel larger", lambda: hp.corr2d(torch.ones(2, 2), torch.ones(3, 3)), "larger than"),
    ("kernel larger after stride", lambda: hp.corr2d(torch.ones(2, 5), torch.ones(3, 1), padding=0), "larger than"),
    ("zero stride", lambda: hp.corr2d(torch.ones(4, 4), torch.ones(2, 2), stride=0), "stride must be positive"),
    ("negative stride", lambda: hp.pool2d(torch.ones(4, 4), 2, stride=(1, -1)), "stride must be positive"),
    ("negative padding", lambda: hp.corr2d(torch.ones(4, 4), torch.ones(2, 2), padding=-1), "padding must be non-negative"),
    ("float padding", lambda: hp.corr2d(torch.ones(4, 4), torch.ones(2, 2), padding=0.5), "int or a pair"),
    ("X not 2-D", lambda: hp.corr2d(torch.ones(1, 4, 4), torch.ones(2, 2)), "must be 2-D"),
    ("K not 2-D", lambda: hp.corr2d(torch.ones(4, 4), torch.ones(2)), "must be 2-D"),
    ("not a tensor", lambda: hp.corr2d([[1.0, 2.0]], torch.ones(1, 1)), "torch.Tensor"),
    ("empty input", lambda: hp.corr2d(torch.ones(0, 4), torch.ones(1, 1)), "empty"),
    ("channel mismatch in", lambda: hp.corr2d_multi_in(torch.ones(3, 4, 4), torch.ones(2, 2, 2)), "channel mismatch"),
    ("channel mismatch out", lambda: hp.corr2d_multi_in_out(torch.ones(3, 4, 4), torch.ones(5, 2, 2, 2)), "channel mismatch"),
    ("multi_in wrong ndim", lambda: hp.corr2d_multi_in(torch.ones(4, 4), torch.ones(2, 2)), "must be 3-D"),
    ("1x1 wrong kernel", lambda: hp.corr2d_multi_in_out_1x1(torch.ones(3, 4, 4), torch.ones(2, 3, 2, 2)), "1×1"),
    ("1x1 channel mismatch", lambda: hp.corr2d_multi_in_out_1x1(torch.ones(3, 4, 4), torch.ones(2, 4, 1, 1)), "channel mismatch"),
    ("pool window larger", lambda: hp.pool2d(torch.ones(2, 2), 3), "larger than"),
    ("pool bad mode", lambda: hp.pool2d(torch.ones(4, 4), 2, mode="min"), "'max' or 'avg'"),
    ("pool padding too big", lambda: hp.pool2d(torch.ones(4, 4), 2, padding=2), "at most half"),
    ("pool wrong ndim", lambda: hp.pool2d(torch.ones(1, 1, 4, 4), 2), "2-D"),
    ("pool zero window", lambda: hp.pool2d(torch.ones(4, 4), 0), "positive"),
    ("shape zero input", lambda: hp.conv_output_size(0, 3), "input size"),
    ("shape kernel larger", lambda: hp.conv_output_size(3, 5), "larger than"),
    ("shape zero stride", lambda: hp.conv_output_shape((8, 8), 3, 0, 0), "stride must be positive"),
    ("macs zero channels", lambda: hp.conv_macs(0, 8, (8, 8), 3), "in_channels must be"),
    ("conv_matrix kernel larger", lambda: hp.conv_matrix(torch.ones(5, 5), (3, 3)), "larger than"),
]


@pytest.mark.parametrize("name,call,message", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_input_raises_one_line_value_error(name, call, message):
    with pytest.raises(ValueError) as info:
        call()
    text = str(info.value)
    assert message in text
    assert "\n" not in text
