"""The animations write PyTorch's numbers, one frame per output value, in a player that
stays light."""

from __future__ import annotations

import io
import re

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

import helpers as hp
from helpers import animate


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _values(anim) -> torch.Tensor:
    return torch.tensor([f.value for f in anim.frames])


def _windows(
    X: torch.Tensor, kh: int, kw: int, padding, stride, dilation=1
) -> torch.Tensor:
    """ci×kh×kw windows of a 1×ci×H×W input, one per output position (row-major), by
    F.unfold."""
    # (ci·kh·kw) × L
    cols = F.unfold(X, (kh, kw), dilation=dilation, padding=padding, stride=stride)[0]
    return cols.T.reshape(-1, X.shape[1], kh, kw)


CONV_CASES = [  # (input shape, kernel shape, padding, stride, dilation, bias)
    ((3, 3), (2, 2), 0, 1, 1, None),
    ((4, 5), (2, 3), 1, 1, 1, 0.5),
    ((5, 5), (3, 3), 1, 2, 1, None),
    ((6, 5), (3, 2), (0, 1), (3, 2), 1, -1.0),
    ((6, 6), (2, 2), 0, 1, 2, None),  # dilation: the taps spread out
    ((2, 4, 4), (2, 2, 2), 0, 1, 1, None),  # two input channels, summed
    # and three output channels, each with a bias
    (
        (2, 3, 3),
        (3, 2, 2, 2),
        0,
        1,
        1,
        [0.1, 0.2, 0.3],
    ),
    # as nn.Conv2d holds them: batch of one, 4-D weight
    (
        (1, 1, 4, 4),
        (1, 1, 2, 2),
        0,
        2,
        1,
        [-0.1958],
    ),
]


@pytest.mark.parametrize(
    "x_shape, k_shape, padding, stride, dilation, bias", CONV_CASES
)
def test_conv_frames_write_what_conv2d_computes(
    x_shape, k_shape, padding, stride, dilation, bias
):
    torch.manual_seed(0)
    # short numbers: the frames stay narrow
    X, K = (
        torch.rand(x_shape),
        torch.rand(k_shape) - 0.5,
    )
    anim = hp.animate_conv2d(
        X, K, bias, padding=padding, stride=stride, dilation=dilation, decimals=2
    )
    X4 = X.reshape(1, -1, *X.shape[-2:])
    K4 = K.reshape(-1, X4.shape[1], *K.shape[-2:])
    b = (
        None
        if bias is None
        else torch.tensor(bias, dtype=torch.float32).reshape(-1).expand(K4.shape[0])
    )
    Y = F.conv2d(X4, K4, b, stride=stride, padding=padding, dilation=dilation)[0]
    assert len(anim) == Y.numel() == len(anim.frames)  # one frame per output value
    assert torch.allclose(anim.output, Y, atol=1e-5)
    # frames run channel, row, column
    assert torch.allclose(_values(anim), Y.flatten(), atol=1e-5)
    windows = _windows(X4, *K4.shape[2:], padding, stride, dilation)
    n = len(windows)
    for k, f in enumerate(anim.frames):  # the products each frame shows
        o = k // n
        assert f.out == (o, (k % n) // Y.shape[2], k % Y.shape[2])
        assert torch.allclose(f.terms, windows[k % n] * K4[o], atol=1e-6)


def test_conv_on_integers_is_exact_and_matches_the_from_scratch_op():
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    anim = hp.animate_conv2d(X, K, padding=1, stride=(3, 2))
    assert torch.equal(anim.output[0], hp.corr2d(X, K, padding=1, stride=(3, 2)))
    assert [f.value for f in anim.frames] == [0.0, 8.0, 6.0, 8.0]
    assert anim.frames[1].corner == (0, 2) and anim.frames[2].corner == (3, 0)
    assert tuple(anim.source.shape) == (1, 5, 5) and anim.cells[0, 0] == animate.PADDING


@pytest.mark.parametrize(
    "mode, pool, stride, padding",
    [
        ("max", 2, 1, 0),
        ("avg", 2, 1, 0),
        ("max", 3, 2, 1),
        ("avg", 3, 2, 1),
        ("max", (2, 3), (2, 3), (0, 1)),
    ],
)
def test_pool_frames_write_what_pooling_computes(mode, pool, stride, padding):
    torch.manual_seed(0)
    X = torch.rand(2, 4, 5) - 0.5
    anim = hp.animate_pool2d(X, pool, mode, padding=padding, stride=stride, decimals=2)
    reference = F.max_pool2d if mode == "max" else F.avg_pool2d
    Y = reference(X[None], pool, stride=stride, padding=padding)[0]
    assert len(anim) == Y.numel()
    assert torch.allclose(anim.output, Y, atol=1e-6)
    assert torch.allclose(_values(anim), Y.flatten(), atol=1e-6)
    # the highlighted value is the window's maximum (max) or nothing (avg)
    for f in anim.frames:
        if mode == "max":
            assert f.terms[f.pick] == f.value == f.terms.max()
        else:
            assert f.pick is None and abs(f.terms.mean().item() - f.value) < 1e-6


def test_max_pool_pads_with_minus_infinity_so_the_padding_never_wins():
    X = torch.arange(16.0).reshape(1, 1, 4, 4)  # chapter 07's example
    anim = hp.animate_pool2d(X, 3, padding=1, stride=2)
    assert torch.equal(anim.output[0], torch.tensor([[5.0, 7.0], [13.0, 15.0]]))
    assert anim.source[0, 0, 0] == float("-inf") and all(
        f.value > float("-inf") for f in anim.frames
    )


@pytest.mark.parametrize(
    "x_shape, k_shape, stride, padding, bias",
    [
        ((2, 2), (3, 3), 2, 0, None),
        ((3, 2), (2, 3), (2, 3), 0, 0.25),
        ((3, 3), (3, 3), 2, 1, None),
        ((1, 1, 2, 3), (1, 1, 3, 2), (3, 2), (1, 0), None),
    ],
)
def test_transposed_frames_write_what_conv_transpose2d_computes(
    x_shape, k_shape, stride, padding, bias
):
    torch.manual_seed(0)
    # a kernel that is not symmetric: the flip shows
    X, K = (
        torch.rand(x_shape),
        torch.rand(k_shape) - 0.5,
    )
    anim = hp.animate_conv_transpose2d(
        X, K, bias, stride=stride, padding=padding, decimals=2
    )
    b = None if bias is None else torch.tensor([bias])
    Y = F.conv_transpose2d(
        X.reshape(1, 1, *X.shape[-2:]),
        K.reshape(1, 1, *K.shape[-2:]),
        b,
        stride=stride,
        padding=padding,
    )[0]
    assert len(anim) == Y.numel()
    assert torch.allclose(anim.output, Y, atol=1e-5)
    assert torch.allclose(_values(anim), Y.flatten(), atol=1e-5)
    assert torch.equal(anim.kernel[0, 0], K.reshape(K.shape[-2:]).flip(0, 1))
    real = anim.source[0][anim.cells == animate.REAL]
    assert torch.equal(real, X.flatten())  # the input's pixels, zeros everywhere else
    assert (anim.source[0][anim.cells != animate.REAL] == 0).all()


def test_the_tent_kernel_interpolates():
    """Chapter 05, exercise 6 in 2-D: stride ½ with the tent kernel is bilinear
    interpolation."""
    x = torch.tensor([[0.0, 4.0], [8.0, 12.0]])
    tent = torch.tensor([0.5, 1.0, 0.5])
    anim = hp.animate_conv_transpose2d(x, torch.outer(tent, tent), stride=2)
    inner = anim.output[0, 1:-1, 1:-1]
    assert torch.equal(
        inner, torch.tensor([[0.0, 2.0, 4.0], [4.0, 6.0, 8.0], [8.0, 10.0, 12.0]])
    )


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: hp.animate_conv2d(torch.rand(10, 10), torch.rand(2, 2)),
            r"^too large to animate readably: 81 output values",
        ),
        (
            lambda: hp.animate_conv2d(torch.rand(13, 3), torch.rand(13, 2)),
            r"^too large to animate readably: the padded input is 13×3",
        ),
        (
            lambda: hp.animate_conv2d(torch.rand(5, 3, 3), torch.rand(5, 2, 2)),
            r"^too large to animate readably: 5 channels",
        ),
        (
            lambda: hp.animate_conv2d(torch.rand(3, 3), torch.rand(5, 1, 2, 2)),
            r"^too large to animate readably: 5 output channels",
        ),
        (
            lambda: hp.animate_conv2d(torch.randn(2, 9), torch.randn(2, 8)),
            r"^too large to animate readably: 9 columns of numbers such as "
            r"−\d\.\d{4} need 592 px, more than 450;",
        ),
        (
            lambda: hp.animate_pool2d(torch.rand(2, 9, 9), 2, stride=1),
            r"^too large to animate readably: 128 output values",
        ),
        (
            lambda: hp.animate_conv_transpose2d(torch.rand(6, 2), torch.rand(2, 2)),
            r"^too large to animate readably: the zero-filled input is 13×5",
        ),
    ],
)
def test_inputs_too_large_to_follow_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_too_many_frames_can_be_allowed_explicitly():
    anim = hp.animate_conv2d(torch.ones(10, 10), torch.ones(2, 2), max_frames=81)
    assert len(anim) == 81


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: hp.animate_conv2d(torch.rand(2, 3, 3), torch.rand(3, 2, 2)),
            r"^channel mismatch: X has 2 input channels but K expects 3$",
        ),
        (
            lambda: hp.animate_conv2d(
                torch.rand(3, 3), torch.rand(2, 2), bias=[1.0, 2.0]
            ),
            r"^bias must hold one value per output channel \(1\), got 2$",
        ),
        (
            lambda: hp.animate_conv2d(torch.rand(3, 3), torch.rand(4, 4)),
            r"^kernel 4×4 is larger than the \(padded\) input 3×3$",
        ),
        (
            lambda: hp.animate_conv2d(torch.rand(5, 5), torch.rand(2, 2), dilation=0),
            r"^dilation must be positive, got 0$",
        ),
        (
            lambda: hp.animate_conv2d([[1.0]], torch.rand(1, 1)),
            r"^X must be a torch.Tensor, got list$",
        ),
        (
            lambda: hp.animate_pool2d(torch.rand(3, 3), 2, mode="min"),
            r"^mode must be 'max' or 'avg', got 'min'$",
        ),
        (
            lambda: hp.animate_pool2d(torch.rand(3, 3), 2, padding=2),
            r"^padding \(2, 2\) must be at most half the window \(2, 2\)$",
        ),
        (
            lambda: hp.animate_conv_transpose2d(torch.rand(2, 3, 3), torch.rand(2, 2)),
            r"^animate_conv_transpose2d takes one channel, got 2$",
        ),
        (
            lambda: hp.animate_conv_transpose2d(
                torch.rand(3, 3), torch.rand(2, 2), padding=2
            ),
            r"^padding \(2, 2\) must be less than the kernel \(2, 2\)$",
        ),
    ],
)
def test_bad_input_says_what_is_wrong(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_player_embeds_every_frame_with_a_text_alternative_and_fetches_nothing():
    X, K = torch.arange(9.0).reshape(3, 3), torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    anim = hp.animate_conv2d(X, K)
    page = anim.to_html()
    assert anim._repr_html_() == page  # what Jupyter and the website show
    frames = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    # the first in the <img> (no JavaScript needed)
    assert len(frames) == len(anim) == 4
    assert re.search(r'<img src="data:image/png;base64,', page)
    images = [Image.open(io.BytesIO(__import__("base64").b64decode(f))) for f in frames]
    assert all(im.mode == "P" for im in images)  # palette PNGs: few colours
    # every frame differs from the others
    assert len({im.tobytes() for im in images}) == 4
    assert "http" not in page.lower()  # no CDN, no font, no script from the network
    assert (
        'alt="Step 1 of 4: output (0, 0) = 19, the sum of the 4 products of '
        'window and kernel."' in page
    )
    assert f"{anim.alt}</figcaption>" in page and anim.alt.startswith(
        "Animation: a 2×2 kernel"
    )
    assert (
        anim.caption(3)
        == "Step 4 of 4: output (1, 1) = 43, the sum of the 4 products of window "
        "and kernel."
    )
    assert len(page.encode()) < 60_000


def test_the_byte_budget_is_enforced():
    anim = hp.animate_pool2d(torch.arange(9.0).reshape(3, 3), 2)
    with pytest.raises(
        ValueError, match=r"^the animation is [\d,]+ bytes, more than max_bytes=1,000:"
    ):
        anim.to_html(max_bytes=1_000)


def test_draw_shows_one_frame_as_a_figure():
    anim = hp.animate_conv2d(
        torch.arange(16.0).reshape(4, 4), torch.full((2, 2), 0.25), stride=2
    )
    assert anim.draw(1) is None
    texts = [t.get_text() for t in plt.gcf().axes[0].texts]
    assert (
        "step 2 of 4: output cell (0, 1)" in texts and "sum of products = 4.5" in texts
    )
    # written so far: two of four outputs
    assert texts.count("2.5") == 1 and "10.5" not in texts
    with pytest.raises(ValueError, match=r"^frame 4 is outside 0\.\.3$"):
        anim.draw(4)


def test_numbers_are_written_with_the_decimals_their_panel_needs():
    assert (
        animate._fmt(-0.0167, 4) == "−0.0167" and animate._fmt(-0.00001, 4) == "0.0000"
    )
    assert animate._fmt(float("-inf"), 2) == "−∞"
    assert animate._decimals(torch.tensor([0.2400, -0.0218]), 4) == 4
    assert animate._decimals(torch.tensor([0.25, 0.5, 1.0]), 4) == 2
    assert animate._decimals(torch.tensor([1.0, -1.0, float("-inf")]), 4) == 0
    anim = hp.animate_conv2d(
        torch.rand(3, 3), torch.tensor([[-0.0218, 0.24], [-0.4914, 0.3394]])
    )
    assert anim._label("kernel", 0.24) == "0.2400"  # a column of numbers lines up


def _luminance(colour: str) -> float:
    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_colours_have_the_contrast_the_module_promises():
    tints = [
        "#ffffff",
        animate.WINDOW_TINT,
        animate.KERNEL_TINT,
        animate.SUM_TINT,
        animate.PAD_TINT,
        animate.BLANK_TINT,
    ]
    assert min(_contrast(animate.INK, t) for t in tints) >= 13
    # WCAG AA for text is 4.5
    assert min(_contrast(animate.MUTED, t) for t in tints) >= 5.4
    assert (
        min(
            _contrast(c, t)
            for c in (animate.BLUE, animate.AMBER, animate.GREEN)
            for t in tints
        )
        >= 3.9
    )
