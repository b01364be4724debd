"""The mistakes a learner makes with ``helpers``, caught where they enter, with one line
that names the argument, what it got, and the fix.

Refused (``ValueError``), before any work is done:

* a model, optimiser, loss or transform passed as the class or function that builds one
  (``hp.lenet5``, ``torch.optim.Adam``, ``nn.CrossEntropyLoss``, ``hp.resize_to``);
* an optimiser that holds none of the model's parameters (one left over from another
  model in an earlier cell: nothing would train), or a NaN learning rate;
* labels of shape (N, 1), float class indices, negative ones; labels the model has no
  output for (1-based labels, a 5-output model on 10 classes); a model with one output,
  or whose output is not N×C class scores;
* NaN or infinite pixels; integer images other than uint8; float pixels outside [0, 1]
  given to a resizer (it clamps them: 0–255 floats would all turn white);
* a network fed images it cannot take (another size or number of channels than it was
  built for, no batch or channel axis, channels last): said in those words, from the
  exception torch raises, so a call that works costs nothing extra.

Warned about (``UserWarning``, at the reader's line), since they are legal but almost
certainly a mistake: an optimiser that holds only some of the model's parameters (the
rest never train), float images that look like 0–255 pixels (in ``train``, ``evaluate``,
``predict``) or that ``show_images`` must clip to [0, 1], a cache folder that cannot be
written (the data still load). A loss that turns NaN stops ``train`` at the end of that
epoch (``FloatingPointError``); class scores that come out NaN stop ``evaluate`` and
``predict``.

Cost: shapes and dtypes are checked up front and at every batch (no host sync); values
(labels' range, NaN pixels) once per data set, with one host sync each; the loss once
per epoch, from the number the history reads anyway.
"""

from __future__ import annotations

import math
import os
import re
import sys
import sysconfig
import types
import warnings
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_LIBRARIES = tuple(
    {
        os.path.abspath(sysconfig.get_paths()[key]) + os.sep
        for key in ("stdlib", "purelib", "platlib")
    }
)


def warn(message: str) -> None:
    """A ``UserWarning`` shown at the reader's line: the first caller that is neither in
    ``helpers/`` nor in an installed library (the reader's cell, not ``hp.train``'s
    inside, nor a wrapper such as the ones mutmut adds while it tests)."""
    frame, level = sys._getframe(1), 2
    while frame.f_back is not None and os.path.abspath(
        frame.f_code.co_filename
    ).startswith((_PACKAGE, *_LIBRARIES)):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, stacklevel=level)  # a UserWarning


def is_int(value: object) -> bool:
    """A Python int that is not a bool (``True`` would pass as 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


# ----------------------------------------------------------- models, optimisers, losses


def check_model(model: object) -> None:
    """``model`` is a network (an ``nn.Module``), not the function or class that builds
    one."""
    if isinstance(model, nn.Module):
        return
    if isinstance(model, (type, types.FunctionType)):
        kind = "class" if isinstance(model, type) else "function"
        raise ValueError(
            f"model must be a network (an nn.Module), got the {kind} {model.__name__}; "
            f"call it to build one: {model.__name__}(...)"
        )
    raise ValueError(
        f"model must be a network (an nn.Module), got a {type(model).__name__}"
    )


def check_optimizer(optimizer: object, model: nn.Module) -> None:
    """The optimiser is an instance that updates this model: it holds some of the
    model's trainable parameters (none: refused; only some: a warning) and its learning
    rates are finite."""
    if isinstance(optimizer, type):
        name = optimizer.__name__
        raise ValueError(
            f"optimizer must be built from the model's parameters, got the class "
            f"{name}; "
            f"e.g. optimizer=torch.optim.{name}(model.parameters(), lr=0.001)"
        )
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(
            f"optimizer must be a torch.optim optimiser, got a "
            f"{type(optimizer).__name__}"
        )
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    missing = [name for name, p in trainable if id(p) not in held]
    if trainable and len(missing) == len(trainable):
        raise ValueError(
            f"optimizer holds none of this model's parameters (built for another "
            f"model, e.g. in an earlier "
            f"cell?), so nothing would train; build it from this one: "
            f"torch.optim.{type(optimizer).__name__}(model.parameters(), ...)"
        )
    if missing:
        more = ", …" if len(missing) > 3 else ""
        warn(
            f"optimizer holds {len(trainable) - len(missing)} of the model's "
            f"{len(trainable)} trainable parameters; "
            f"the others ({', '.join(missing[:3])}{more}) will never change: "
            f"build it after the last change to the model"
        )
    for group in optimizer.param_groups:
        if "lr" in group and not math.isfinite(float(group["lr"])):
            raise ValueError(
                f"optimizer has the learning rate {float(group['lr'])}; give a "
                f"finite one, e.g. lr=0.01"
            )


def check_loss_fn(loss_fn: object) -> None:
    if isinstance(loss_fn, type):
        raise ValueError(
            f"loss_fn must be a loss to call, got the class {loss_fn.__name__}; "
            f"pass an instance: loss_fn=nn.{loss_fn.__name__}()"
        )
    if not callable(loss_fn):
        raise ValueError(
            f"loss_fn must be a function of (logits, y), e.g. "
            f"nn.CrossEntropyLoss(), got {loss_fn!r}"
        )


def check_transform(transform: object) -> None:
    """A ``transform=`` is None or a function of a batch; the class ``resize_to`` itself
    (not called with a size) and non-callables are refused with the fix."""
    if isinstance(transform, type):
        raise ValueError(
            f"transform must be a function of a batch, got the class "
            f"{transform.__name__}; "
            f"build one with its size: transform=hp.{transform.__name__}(224)"
        )
    if transform is not None and not callable(transform):
        fix = (
            f"; to resize each batch to {transform}×{transform}: "
            f"transform=hp.resize_to({transform})"
            if is_int(transform)
            else ""
        )
        raise ValueError(
            f"transform must be a function of a batch, got {transform!r}{fix}"
        )


# --------------------------------------------------------------------------- labels


class Labels(NamedTuple):
    """The classes a set of labels uses: indices ``low`` … ``high``, or one-hot rows of
    ``high + 1`` columns."""

    low: int
    high: int
    one_hot: bool


def check_class_indices(y: torch.Tensor, name: str) -> None:
    """``y`` holds class indices: a 1-D tensor of an integer dtype (shape and dtype
    only)."""
    if y.ndim != 1:
        hint = ""
        if y.ndim == 2:
            hint = (
                "; one column? y.flatten()"
                if y.shape[1] == 1
                else "; one-hot rows? y.argmax(dim=1)"
            )
        raise ValueError(
            f"{name} must be a 1-D tensor of class indices (N,), got shape "
            f"{tuple(y.shape)}{hint}"
        )
    if y.dtype.is_floating_point or y.dtype == torch.bool or y.is_complex():
        raise ValueError(
            f"{name} must hold integer class indices, got {y.dtype}; convert "
            f"them: y.long()"
        )


def check_labels(y: torch.Tensor, name: str) -> None:
    """Labels for training or evaluation: class indices (N,) of an integer dtype, or
    one-hot / probability rows N×C with C ≥ 2 (shape and dtype only: no host sync)."""
    if y.ndim == 2 and y.shape[1] == 1:
        raise ValueError(
            f"{name}: labels of shape {tuple(y.shape)} are one column, not class "
            f"indices (N,) "
            f"or one-hot rows (N, C); flatten them: y.flatten()"
        )
    if y.ndim == 1:
        check_class_indices(y, f"{name}: y")
    elif y.ndim != 2:
        raise ValueError(
            f"{name}: labels must be class indices (N,) or one-hot rows (N, C), "
            f"got shape {tuple(y.shape)}"
        )


def label_range(y: torch.Tensor, name: str) -> Labels:
    """The classes ``y`` uses: its smallest and largest index (one host sync), or the
    width of its one-hot rows (no sync). Negative indices are refused."""
    if y.ndim == 2:
        return Labels(0, y.shape[1] - 1, True)
    low, high = torch.stack(list(y.aminmax())).tolist()
    if low < 0:
        raise ValueError(
            f"{name}: class indices count from 0, got a label {low}; shift them "
            f"so the first class is 0"
        )
    return Labels(low, high, False)


def check_scores(logits: torch.Tensor, n: int) -> None:
    """The model's output for a batch of ``n`` is N×C class scores with C ≥ 2 (the
    predicted class is an arg-max). Shapes only (no host sync), so it may run at every
    batch."""
    shape = tuple(logits.shape)
    if logits.ndim != 2 or shape[0] != n:
        fix = (
            "; end the model with nn.Flatten() and a Linear layer"
            if logits.ndim > 2
            else ""
        )
        raise ValueError(
            f"model: must return N×C class scores (one row per example), got "
            f"shape {shape} for {n} examples{fix}"
        )
    if shape[1] < 2:
        raise ValueError(
            f"model: returns {shape[1]} score per example, but the predicted "
            f"class is the arg-max over C ≥ 2 "
            f"class scores: give it one output per class, e.g. nn.Linear(..., 2) "
            f"for two classes"
        )


def check_logits(logits: torch.Tensor, n: int, labels: Labels, name: str) -> None:
    """``check_scores``, and a score for every class the labels use (shapes only, no
    host sync)."""
    check_scores(logits, n)
    classes = logits.shape[1]
    if labels.one_hot and labels.high + 1 != classes:
        raise ValueError(
            f"{name}: one-hot labels have {labels.high + 1} columns but the model "
            f"returns {classes} class "
            f"scores; make them agree, e.g. hp.to_one_hot(y, {classes})"
        )
    if not labels.one_hot and labels.high >= classes:
        if labels.low >= 1 and labels.high == classes:
            raise ValueError(
                f"{name}: labels run from {labels.low} to {labels.high}, but the "
                f"model's {classes} class "
                f"scores are classes 0 to {classes - 1}; labels count from 0: "
                f"pass y - 1"
            )
        raise ValueError(
            f"model: returns {classes} class scores (classes 0 to {classes - 1}), "
            f"but {name} has labels "
            f"up to {labels.high}; build it with {labels.high + 1} outputs, e.g. "
            f"num_classes={labels.high + 1}"
        )


# --------------------------------------------------------------------------- images


def pixel_range(X: torch.Tensor) -> tuple[float, float]:
    """Smallest and largest value of X: one reduction, one host read (NaN if X holds
    one)."""
    low, high = torch.stack(list(X.detach().aminmax())).tolist()
    return low, high


def in_unit_range(low: float, high: float) -> bool:
    """[low, high] lies in [0, 1] up to float rounding (a grey conversion may give 1 +
    1e-7); False for NaN."""
    return low >= -1e-3 and high <= 1 + 1e-3


def check_unit_range(X: torch.Tensor, who: str) -> None:
    """Float pixels must lie in [0, 1] for ``who``, which clamps its result to that
    range."""
    low, high = pixel_range(X)
    if not in_unit_range(low, high):
        fix = (
            "; 0–255 values? divide by 255, or pass the uint8 images"
            if low >= 0
            else ""
        )
        raise ValueError(
            f"{who} needs float pixels in [0, 1] (it clamps to that range), got "
            f"values from {low:g} to {high:g}{fix}"
        )


def check_pixels(
    X: torch.Tensor, name: str, transform: Callable[[torch.Tensor], torch.Tensor] | None
) -> None:
    """NaN or infinite inputs are refused (every loss and prediction would be NaN);
    float images that look like 0–255 pixels get a warning (legal, but the models here
    expect [0, 1]), unless a ``transform`` scales them. ``name`` says which X
    ("train_data: X"). Nothing for integer X."""
    if not X.is_floating_point():
        return
    low, high = pixel_range(X)
    if not (math.isfinite(low) and math.isfinite(high)):
        # the error path only
        bad = (
            (~X.isfinite()).reshape(len(X), -1).any(dim=1).nonzero().flatten().tolist()
        )
        raise ValueError(
            f"{name} holds NaN or infinite values in {len(bad)} example(s), the "
            f"first at index {bad[0]}; "
            f"drop or repair them, e.g. keep = X.isfinite().flatten(1).all(1); X, "
            f"y = X[keep], y[keep]"
        )
    if transform is None and X.ndim == 4 and low >= 0 and high > 1 + 1e-3:
        warn(
            f"{name} holds float pixels from {low:g} to {high:g}: 0–255 values? "
            f"The models here expect [0, 1]: "
            f"divide by 255 (or keep the images uint8: each batch is then scaled "
            f"for you)"
        )


def check_image_dtype(
    model: nn.Module,
    X: torch.Tensor,
    transform: Callable[[torch.Tensor], torch.Tensor] | None,
) -> None:
    """Float images must match the model's parameter dtype (uint8 ones are converted per
    batch); images of another integer type are refused unless a transform converts them.
    """
    first = next(model.parameters(), None)
    if first is not None and X.is_floating_point() and X.dtype != first.dtype:
        raise ValueError(
            f"X is {X.dtype} but the model's parameters are {first.dtype}: "
            f"convert one of them, e.g. X.to({first.dtype})"
        )
    if (
        transform is None
        and X.ndim == 4
        and not X.is_floating_point()
        and X.dtype != torch.uint8
    ):
        raise ValueError(
            f"X holds {X.dtype} images; images are uint8 (0–255) or float in [0, "
            f"1]: X.to(torch.uint8) if they hold 0–255"
        )


def layout_fix(X: torch.Tensor) -> str:
    """The reshaping that makes ``X`` a batch N×C×H×W, for an error message: '' when X
    looks like one."""
    shape = tuple(X.shape)
    if X.ndim == 2:
        return f"; one grey image? X[None, None] has shape {(1, 1, *shape)}"
    if X.ndim == 3 and shape[0] in (1, 3):
        return f"; one image without its batch axis? X[None] has shape {(1, *shape)}"
    if X.ndim == 3:
        return (
            "; grey images without a channel axis? X.unsqueeze(1) has shape "
            f"{(shape[0], 1, *shape[1:])}"
        )
    if X.ndim == 4 and shape[1] not in (1, 3) and shape[3] in (1, 3):
        return (
            "; channels last? X.permute(0, 3, 1, 2) has shape "
            f"{(shape[0], shape[3], shape[1], shape[2])}"
        )
    return ""


def check_batch_of_images(X: torch.Tensor, who: str) -> None:
    """``X`` is N×C×H×W; an image without its batch axis or an N×H×W×C batch is refused
    with the fix."""
    fix = layout_fix(X)
    if X.ndim != 4 or fix:
        raise ValueError(
            f"{who} expects a batch N×C×H×W, got shape {tuple(X.shape)}{fix}"
        )


# ---------------------------------------------------- a network that fails on its input


def why_it_fails(model: nn.Module, X: torch.Tensor, err: Exception) -> str | None:
    """Why ``model`` raised ``err`` on the batch ``X``, in the reader's terms, when the
    cause shows from outside the network: no batch or channel axis, other channels or
    another image size than it was built for (``model.image_size``, recorded by
    ``lenet5``, ``alexnet``, ``vgg``), integer pixels, batch norm training on one
    example. None when it is none of these."""
    if isinstance(err, torch.OutOfMemoryError):
        return None
    shape = tuple(X.shape)
    conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    if conv is not None and (X.ndim != 4 or shape[1] != conv.in_channels):
        fix = layout_fix(X) or f"; build it with in_channels={shape[1]}"
        return (
            f"its first convolution takes {conv.in_channels}-channel images "
            f"N×{conv.in_channels}×H×W, got shape {shape}{fix}"
        )
    size = getattr(model, "image_size", None)
    if size is not None and X.ndim == 4 and shape[2:] != (size, size):
        return (
            f"built for {size}×{size} images (image_size={size}), got "
            f"{shape[2]}×{shape[3]}; "
            f"build it with image_size={shape[2]}, or resize the images: "
            f"transform=hp.resize_to({size})"
        )
    if not X.is_floating_point():
        return (
            f"it computes with float pixels, got {X.dtype} ones; a transform= of your "
            "own must return floats, e.g. hp.to_float(xb)"
        )
    if (
        model.training
        and len(X) == 1
        and any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    ):
        return (
            "batch norm cannot train on a batch of 1 example (it normalises over "
            "the batch); "
            "with hp.train choose a batch_size that leaves no last mini-batch of "
            "one (len(X) % batch_size != 1)"
        )
    # "mat1 and mat2 shapes cannot be multiplied (AxB and CxD)"
    dense = re.search(r"\(\d+x(\d+) and (\d+)x\d+\)", str(err))
    if dense is not None and X.ndim == 4:
        return (
            f"a dense layer gets {dense[1]} features per example but expects "
            f"{dense[2]}: the network was built for "
            f"other images than {shape[1]}×{shape[2]}×{shape[3]}; "
            f"hp.layer_summary(model, {(1, *shape[1:])}) shows where"
        )
    return None


def failure_message(model: nn.Module, X: torch.Tensor, err: Exception) -> str | None:
    """``why_it_fails`` as one line that names the model and keeps torch's own first
    line."""
    why = why_it_fails(model, X, err)
    return None if why is None else f"model: {why} (torch: {str(err).splitlines()[0]})"


def forward(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """``model(X)``; when it fails for a reason ``why_it_fails`` can name, a
    ``ValueError`` that names it. Only the exception path does anything: a call that
    works costs what ``model(X)`` costs."""
    try:
        return model(X)
    except (RuntimeError, ValueError) as err:
        message = failure_message(model, X, err)
        if message is None:
            raise
        raise ValueError(message) from err
