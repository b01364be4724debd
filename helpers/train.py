"""One training loop for every chapter.

``train(model, (X, y), (X_test, y_test), epochs=...)`` runs full-batch gradient
descent (the lecture's style, ``batch_size=None``) or shuffled mini-batches, shows
a progress bar and returns a ``History`` of per-epoch train loss, train accuracy
and test accuracy.

The fast path, every trick named once:

1. **Data on the device.** X and y are moved to the device once, before the first
   epoch; batches are index slices of device tensors (``helpers.data.batches``).
2. **No host syncs inside the epoch.** Loss and correct counts accumulate in device
   tensors; the host reads them once per epoch, for the history.
3. **Mixed precision on CUDA.** The forward pass runs under ``torch.autocast`` in
   bfloat16 where the GPU has it natively (compute capability ≥ 8.0: A100, H100, RTX
   30xx; no loss scaling needed), else float16 with a ``GradScaler`` (T4, V100). Off on
   CPU/MPS, or with ``amp=False``.
4. **Channels-last** (NHWC) for 4-D image batches through a model with 2-D
   convolutions, on every device: the layout cuDNN's tensor cores and oneDNN's CPU
   kernels are fastest in (LeNet's training step on a 2-core CPU: 5.1–5.5 → 4.4–4.6 ms;
   ResNet-18 and VGG at 32×32 only 1.04 and 1.06 times as fast per epoch, within the
   machine's round-to-round spread: notebook 12). Results change only by float
   rounding; ``channels_last=False`` gives the plain NCHW computation (what a
   hand-written loop does, bit for bit).
5. **Small storage, per-batch transform.** Images may be stored as uint8 at their
   native size; ``transform=`` (e.g. ``resize_to(224)``) turns each mini-batch into
   float pixels of the model's size on the device, just before the forward pass, so a
   224×224 dataset never exists in memory. uint8 images without a transform are scaled
   to [0, 1] per batch.

Labels may be int64 class indices (N,) or one-hot/probability rows (N, C), as
in the lecture; accuracy compares arg-maxes.

What a learner gets wrong (an optimiser built for another model, labels the model has no
output for, NaN pixels, a network fed images of another size than it was built for, …)
is refused before the first step by ``helpers.checks``, with one line that names the
argument and the fix; a loss that turns NaN stops training at the end of that epoch.
Values are read once per data set, the loss once per epoch (from the number the history
reads anyway); the shape checks on each batch's output need no host sync.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm import tqdm

from .checks import (
    Labels,
    check_image_dtype,
    check_labels,
    check_logits,
    check_loss_fn,
    check_model,
    check_optimizer,
    check_pixels,
    check_transform,
    forward,
    label_range,
)
from .data import batches, to_float
from .device import get_device

__all__ = ["History", "accuracy", "evaluate", "train"]

Data = tuple[torch.Tensor, torch.Tensor]
Transform = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class History:
    """Per-epoch curves of one ``train`` call (``test_acc`` stays empty without test
    data)."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    seconds: float = 0.0  # wall-clock time of the whole run

    @property
    def epochs(self) -> int:
        return len(self.train_loss)


def _class_index(y: torch.Tensor) -> torch.Tensor:
    return y.argmax(dim=1) if y.ndim == 2 else y


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Fraction of rows of ``logits`` (N×C) whose arg-max is the label; a 0-d tensor on
    the same device.

    ``y`` holds class indices (N,) or one-hot rows N×C. Labels the logits have no column
    for, (N, 1) labels, or C = 1 are a ``ValueError``; checking the labels' values reads
    them once on the host, so in a hot loop of your own compare the arg-maxes directly.
    """
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
        shape = (
            tuple(logits.shape)
            if isinstance(logits, torch.Tensor)
            else type(logits).__name__
        )
        raise ValueError(
            f"logits must be N×C class scores, got {shape}; the order is "
            f"accuracy(logits, y)"
        )
    if not isinstance(y, torch.Tensor) or len(y) != len(logits):
        got = len(y) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(
            f"y must be a tensor of {len(logits)} labels, one per row of logits, "
            f"got {got}"
        )
    check_labels(y, "y")
    check_logits(logits, len(logits), label_range(y, "y"), "y")
    return (logits.argmax(dim=1) == _class_index(y)).float().mean()


def _check_data(data: Data, name: str) -> Data:
    """A pair (X, y) of tensors with the same, non-zero number of examples."""
    if not (
        isinstance(data, (tuple, list))
        and len(data) == 2
        and all(isinstance(t, torch.Tensor) for t in data)
    ):
        parts = (
            f" of ({', '.join(type(t).__name__ for t in data)})"
            if isinstance(data, (tuple, list))
            else ""
        )
        got = f"a {type(data).__name__}{parts}"
        raise ValueError(
            f"{name} must be a pair of tensors (X, y), got {got}; e.g. "
            f"hp.train(model, (X, y), (X_test, y_test), epochs=...)"
        )
    X, y = data
    if len(X) != len(y) or len(X) == 0:
        raise ValueError(
            f"{name}: X and y must hold the same, non-zero number of examples "
            f"({len(X)} vs {len(y)})"
        )
    return X, y


def _amp_settings(device: torch.device, amp: bool | None) -> tuple[bool, torch.dtype]:
    if device.type != "cuda":
        if amp:
            raise ValueError(f"amp=True needs a CUDA device; training runs on {device}")
        return False, torch.float32
    enabled = True if amp is None else amp
    # Native bf16 only: torch.cuda.is_bf16_supported() also answers yes on a T4 (7.5),
    # where bf16 is emulated and slow; there float16 with loss scaling is the fast
    # choice.
    major, _ = torch.cuda.get_device_capability(device)
    return enabled, torch.bfloat16 if major >= 8 else torch.float16


def _use_channels_last(
    model: nn.Module, X: torch.Tensor, channels_last: bool | None
) -> bool:
    """Whether to run in channels-last: as asked, or (``None``) for 4-D images into a
    model with a Conv2d."""
    if channels_last is not None:
        return bool(channels_last)
    return X.ndim == 4 and any(isinstance(m, nn.Conv2d) for m in model.modules())


def _prepare(
    X: torch.Tensor, device: torch.device, channels_last: bool
) -> torch.Tensor:
    X = X.to(device)
    if channels_last and X.ndim == 4 and X.is_floating_point():
        X = X.contiguous(memory_format=torch.channels_last)
    return X


def _batch_transform(
    X: torch.Tensor, transform: Transform | None, channels_last: bool
) -> Transform | None:
    """What happens to each stored mini-batch before the forward pass: ``transform``
    (uint8 → float in [0, 1] by default), then channels-last if asked (an index-gathered
    batch may come back in the default layout)."""
    check_transform(transform)
    if transform is None and X.dtype == torch.uint8:
        transform = to_float
    if not channels_last or X.ndim != 4:
        return transform
    first = transform or (lambda xb: xb)
    return lambda xb: first(xb).contiguous(memory_format=torch.channels_last)


def _setup_model(model: nn.Module, device: torch.device, channels_last: bool) -> None:
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)


def _inference_setup(
    model: nn.Module, X: torch.Tensor, channels_last: bool | None
) -> tuple[torch.device, bool, Callable[[], torch.autocast]]:
    """Run a model on X as ``train`` runs it: returns the model's device (X's for a
    model without parameters), whether to use channels-last, and the autocast context
    factory; moves the model to that layout."""
    first = next(model.parameters(), None)
    device = first.device if first is not None else X.device
    enabled, dtype = _amp_settings(device, None)
    cl = _use_channels_last(model, X, channels_last)
    _setup_model(model, device, cl)
    return device, cl, lambda: torch.autocast(device.type, dtype, enabled=enabled)


def _count_correct(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    autocast: Callable[[], torch.autocast],
    transform: Transform | None,
    labels: Labels,
    name: str,
) -> torch.Tensor:
    """Correct predictions over (X, y), and the examples whose class scores are NaN or
    infinite (a model with NaN weights), as one device tensor [correct, not finite] (no
    host sync)."""
    counts = torch.zeros(2, dtype=torch.long, device=X.device)
    # a with block, not a decorator: mutmut skips decorated functions
    with torch.no_grad():
        for xb, yb in batches(X, y, batch_size, transform=transform):
            with autocast():
                logits = forward(model, xb)
            check_logits(logits, len(xb), labels, name)
            counts[0] += (logits.argmax(dim=1) == _class_index(yb)).sum()
            counts[1] += (~logits.isfinite()).any(dim=1).sum()
    return counts


def evaluate(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int = 256,
    transform: Transform | None = None,
    channels_last: bool | None = None,
) -> float:
    """Accuracy of ``model`` on (X, y), in eval mode, computed on the model's device.

    ``transform`` is applied to each batch of X (e.g. ``resize_to(96)``) and
    ``channels_last`` chosen as in ``train``, so both compute the same predictions.
    Memory grows with ``batch_size``: at 224×224 one batch of 1,024 through the narrow
    VGG-11 holds about 7 GB of activations, a batch of 256 a quarter of that.

    Checked as in ``train`` (a ``ValueError`` rather than a meaningless number): labels
    of shape (N, 1) or beyond the model's outputs, a one-output model, NaN pixels, and
    class scores that come out NaN (a model whose training diverged).
    """
    check_model(model)
    X, y = _check_data((X, y), "evaluate data")
    check_labels(y, "y")
    labels = label_range(y, "y")
    check_image_dtype(model, X, transform)
    check_pixels(X, "X", transform)
    device, cl, autocast = _inference_setup(model, X, channels_last)
    was_training = model.training
    model.eval()
    try:
        X, y = _prepare(X, device, cl), y.to(device)
        counts = _count_correct(
            model,
            X,
            y,
            batch_size,
            autocast,
            _batch_transform(X, transform, cl),
            labels,
            "y",
        )
    finally:
        model.train(was_training)
    correct, not_finite = counts.tolist()
    if not_finite:
        raise ValueError(
            f"model: its class scores are NaN or infinite for {not_finite} of "
            f"{len(y)} examples, so they "
            f"predict nothing; its weights are probably NaN (a training run that "
            f"diverged): retrain it with a smaller learning rate"
        )
    return correct / len(y)


def train(
    model: nn.Module,
    train_data: Data,
    test_data: Data | None = None,
    *,
    epochs: int,
    optimizer: torch.optim.Optimizer | None = None,
    loss_fn: nn.Module | None = None,
    batch_size: int | None = None,
    device: torch.device | str | None = None,
    amp: bool | None = None,
    channels_last: bool | None = None,
    transform: Transform | None = None,
    progress: bool = True,
    desc: str = "train",
) -> History:
    """Train ``model`` in place and return its per-epoch ``History``.

    Args: model: any ``nn.Module`` mapping a batch of X to N×C logits. train_data,
    test_data: ``(X, y)`` pairs; X is N×…, y is (N,) int64 or N×C. epochs: number of
    passes over the training data. optimizer: default
    ``torch.optim.Adam(model.parameters())`` (as in the lecture). loss_fn: default
    ``nn.CrossEntropyLoss()``. batch_size: ``None`` for full-batch steps (one update per
    epoch), else shuffled mini-batches of this size. device: default: the best available
    (``get_device()``). Naming an unavailable device raises ``RuntimeError``; it never
    falls back to the CPU. amp: mixed precision; default on for CUDA, off elsewhere.
    channels_last: run 4-D image batches and the model in the channels-last layout;
    default on when X is N×C×H×W and the model has an ``nn.Conv2d`` (any device).
    ``False`` computes exactly what a plain NCHW loop computes. transform: applied on
    the device to every batch of X (train and test) right before the forward pass, e.g.
    ``resize_to(224)`` for images stored small as uint8. Default: uint8 images are
    scaled to [0, 1], float ones pass unchanged. progress: show a tqdm progress bar.

    Mistakes are refused before the first step (``helpers.checks`` lists them): e.g. an
    ``optimizer`` built from another model's parameters, labels the model has no output
    for, NaN pixels. A loss that turns NaN or infinite raises ``FloatingPointError`` at
    the end of that epoch, naming it: training stops instead of running on with NaN
    weights.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    check_model(model)
    X, y = _check_data(train_data, "train_data")
    check_labels(y, "train_data")
    if test_data is not None:
        X_test, y_test = _check_data(test_data, "test_data")
        check_labels(y_test, "test_data")
    if optimizer is not None:
        check_optimizer(optimizer, model)
    if loss_fn is not None:
        check_loss_fn(loss_fn)
    device = get_device(device)
    use_amp, amp_dtype = _amp_settings(device, amp)

    def autocast() -> torch.autocast:
        return torch.autocast(device.type, amp_dtype, enabled=use_amp)

    cl = _use_channels_last(model, X, channels_last)  # 4. channels-last
    _setup_model(model, device, cl)
    check_image_dtype(model, X, transform)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    # the values, once, where the data are (one host sync each)
    labels = label_range(y, "train_data")
    check_pixels(X, "train_data: X", transform)
    X, y = _prepare(X, device, cl), y.to(device)  # 1. data on the device, once
    train_transform = _batch_transform(X, transform, cl)  # 5. per-batch transform
    if test_data is not None:
        test_labels = label_range(y_test, "test_data")
        check_pixels(X_test, "test_data: X", transform)
        X_test, y_test = _prepare(X_test, device, cl), y_test.to(device)
        test_transform = _batch_transform(X_test, transform, cl)
    optimizer = optimizer or torch.optim.Adam(model.parameters())
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    scaler = torch.amp.GradScaler(
        device.type, enabled=use_amp and amp_dtype == torch.float16
    )

    history, start = History(), time.perf_counter()
    bar = tqdm(
        range(epochs), desc=desc, disable=not progress, mininterval=1.0, ncols=100
    )
    for epoch in bar:
        model.train()
        loss_sum = torch.zeros((), device=device)  # 2. accumulate on the device
        correct = torch.zeros((), dtype=torch.long, device=device)
        for xb, yb in batches(
            X, y, batch_size, shuffle=batch_size is not None, transform=train_transform
        ):
            with autocast():  # 3. mixed precision (CUDA only)
                # a network that cannot take xb says why (the exception path only)
                logits = forward(model, xb)
                # shapes only: no host sync
                check_logits(logits, len(xb), labels, "train_data")
                loss = loss_fn(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            loss_sum += loss.detach().float() * len(xb)
            correct += (logits.detach().argmax(dim=1) == _class_index(yb)).sum()
        metrics = [loss_sum / len(y), correct.float() / len(y)]
        if test_data is not None:
            model.eval()
            eval_batch = batch_size or 1024  # never more memory than a training step
            counts = _count_correct(
                model,
                X_test,
                y_test,
                eval_batch,
                autocast,
                test_transform,
                test_labels,
                "test_data",
            )
            metrics.append(counts[0].float() / len(y_test))
        values = torch.stack(metrics).tolist()  # the epoch's one host sync
        if not math.isfinite(values[0]):
            bar.close()
            raise FloatingPointError(
                f"train: the loss became {values[0]} in epoch {epoch + 1} of "
                f"{epochs}, so training stopped (the weights "
                f"are no longer numbers); the data hold no NaN, so the likely "
                f"cause is a learning rate too large: rebuild "
                f"the model and train with a smaller one, e.g. lr=0.001"
            )
        history.train_loss.append(values[0])
        history.train_acc.append(values[1])
        postfix = {"loss": f"{values[0]:.4f}", "train_acc": f"{values[1]:.3f}"}
        if test_data is not None:
            history.test_acc.append(values[2])
            postfix["test_acc"] = f"{values[2]:.3f}"
        bar.set_postfix(postfix, refresh=False)
    model.eval()
    history.seconds = time.perf_counter() - start
    return history
