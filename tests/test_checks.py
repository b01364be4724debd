"""helpers.checks on its own: what it leaves alone matters as much as what it
explains."""

from __future__ import annotations

import re
import sys

import pytest
import torch
from torch import nn

import helpers as hp
import helpers.checks as checks


class _Raises(nn.Module):
    """A model that raises a given error, whatever it is fed."""

    def __init__(self, err: Exception, conv_channels: int | None = None):
        super().__init__()
        self.err = err
        self.conv = nn.Conv2d(conv_channels, 2, 1) if conv_channels else None

    def forward(self, X):
        raise self.err


def test_forward_is_the_models_output_when_it_works():
    net = nn.Linear(3, 2)
    X = torch.rand(4, 3)
    assert torch.equal(checks.forward(net, X), net(X))


@pytest.mark.parametrize(
    "err",
    [
        RuntimeError("some other failure"),
        ValueError("a check of the model's own"),
        torch.OutOfMemoryError("CUDA out of memory"),
    ],
)
def test_forward_leaves_errors_it_cannot_name_as_they_are(err):
    """The same exception object, not a rewording: an input that fits the model (1
    channel, 4-D) or memory running out."""
    with pytest.raises(type(err), match=f"^{re.escape(str(err))}$") as info:
        checks.forward(_Raises(err, conv_channels=1), torch.rand(2, 1, 5, 5))
    assert info.value is err


def test_running_out_of_memory_is_never_blamed_on_the_input():
    """A batch that also does not fit the network: memory is still what ran out."""
    err = torch.OutOfMemoryError("CUDA out of memory")
    assert (
        checks.why_it_fails(_Raises(err, conv_channels=1), torch.rand(2, 3, 5, 5), err)
        is None
    )
    other = RuntimeError("shapes")
    assert checks.why_it_fails(
        _Raises(other, conv_channels=1), torch.rand(2, 3, 5, 5), other
    ).startswith("its first convolution")


def test_forward_never_catches_a_type_error():
    """TypeError (a wrong call, not a wrong input) is never caught."""
    err = TypeError("forward() takes 1 positional argument")
    with pytest.raises(TypeError, match=r"^forward\(\) takes 1 positional argument$"):
        checks.forward(_Raises(err, conv_channels=3), torch.rand(2, 1, 5, 5))


def test_a_dense_layer_mismatch_is_named_only_for_image_batches():
    err = RuntimeError("mat1 and mat2 shapes cannot be multiplied (2x12 and 10x3)")
    net = nn.Sequential(nn.Linear(10, 3))
    # a table of features: torch's message says it already
    assert checks.why_it_fails(net, torch.rand(2, 12), err) is None
    assert checks.why_it_fails(net, torch.rand(2, 3, 2, 5), err) == (
        "a dense layer gets 12 features per example but expects 10: the network "
        "was built for other images than 3×2×5; "
        "hp.layer_summary(model, (1, 3, 2, 5)) shows where"
    )


def test_batch_norm_is_blamed_only_in_training_mode_and_for_a_batch_of_one():
    err = ValueError("Expected more than 1 value per channel when training")
    net = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    assert checks.why_it_fails(net, torch.rand(1, 3), err).startswith(
        "batch norm cannot train on a batch of 1 example"
    )
    assert checks.why_it_fails(net, torch.rand(2, 3), err) is None
    assert checks.why_it_fails(net.eval(), torch.rand(1, 3), err) is None
    assert (
        checks.why_it_fails(nn.Sequential(nn.Linear(3, 3)), torch.rand(1, 3), err)
        is None
    )


def test_the_recorded_image_size_is_compared_with_both_sides():
    err = RuntimeError("shapes")
    net = nn.Sequential(nn.Conv2d(1, 2, 3))
    net.image_size = 8
    assert checks.why_it_fails(net, torch.rand(2, 1, 8, 8), err) is None
    assert checks.why_it_fails(net, torch.rand(2, 1, 8, 9), err).startswith(
        "built for 8×8 images (image_size=8), got 8×9;"
    )
    assert checks.why_it_fails(net, torch.rand(2, 1, 9, 8), err).startswith(
        "built for 8×8 images (image_size=8), got 9×8; build it with image_size=9"
    )


@pytest.mark.parametrize(
    "low,high,inside",
    [
        (0.0, 1.0, True),
        (-1e-3, 1.001, True),
        (-0.0011, 1.0, False),
        (0.0, 1.0011, False),
        (float("nan"), 1.0, False),
        (0.0, float("nan"), False),
    ],
)
def test_the_unit_range_allows_float_rounding_only(low, high, inside):
    assert checks.in_unit_range(low, high) is inside


def test_a_warning_points_at_the_readers_line():
    """The line that called into helpers, however deep inside helpers the warning was
    raised."""

    def readers_cell():
        checks.warn("look here")

    with pytest.warns(UserWarning, match="^look here$") as caught:
        readers_cell()
    assert (caught[0].filename, caught[0].lineno) == (
        __file__,
        readers_cell.__code__.co_firstlineno + 1,
    )
    X = torch.rand(4, 1, 2, 2) * 255
    with pytest.warns(UserWarning, match="^train_data: X holds float pixels") as caught:
        line = sys._getframe().f_lineno + 1
        hp.train(
            nn.Sequential(nn.Flatten(), nn.Linear(4, 2)),
            (X, torch.arange(4) % 2),
            epochs=1,
            device="cpu",
            progress=False,
        )
    assert (caught[0].filename, caught[0].lineno) == (__file__, line)


@pytest.mark.parametrize(
    "shape,fix",
    [
        ((4, 10, 1), "; end the model with nn.Flatten() and a Linear layer"),
        ((4, 10, 1, 1), "; end the model with nn.Flatten() and a Linear layer"),
        ((40,), ""),
    ],
)
def test_output_that_is_not_n_by_c_suggests_flatten_when_it_has_extra_axes(shape, fix):
    with pytest.raises(
        ValueError,
        match=r"^model: must return N×C class scores \(one row per example\), "
        r"got shape "
        rf"{re.escape(str(shape))} for 4 examples{re.escape(fix)}$",
    ):
        checks.check_scores(torch.zeros(shape), 4)


@pytest.mark.parametrize("shape,fix", [
    ((2, 32, 24, 3), "; channels last? X.permute(0, 3, 1, 2) has shape (2, 3, 32, 24)"),
    ((2, 32, 3, 3), "; channels last? X.permute(0, 3, 1, 2) has shape (2, 3, 32, 3)"),
    ((2, 3, 32, 3), ""), ((2, 1, 8, 1), ""), ((2, 3, 8, 1), ""), ((1, 2, 3, 4, 3), ""),
    ((2, 5, 8, 8), ""),
])  # fmt: skip
def test_a_channels_last_batch_is_told_from_a_narrow_one(shape, fix):
    """Channels last: the last axis holds 1 or 3 and the second does not. An N×C×H×W
    batch that is 1 or 3 pixels wide keeps its reading."""
    assert checks.layout_fix(torch.zeros(shape)) == fix


def test_a_model_passed_as_something_else_is_named_by_its_type():
    import functools

    with pytest.raises(
        ValueError, match=r"^model must be a network \(an nn\.Module\), got a partial$"
    ):
        checks.check_model(functools.partial(nn.Linear, 3))
