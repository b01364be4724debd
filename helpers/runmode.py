"""Full runs for the book, quick runs for CI, the textbook's recipe on a GPU.

One switch, the environment variable ``BOOK_QUICK``, and one question, "is there a
CUDA GPU?", decide how much a notebook trains:

* ``BOOK_QUICK=1`` (CI): the minimal ``quick`` budget, whatever the hardware;
* a CUDA GPU: the ``gpu`` budget (the textbook's recipe), when a chapter gives one;
* otherwise (a laptop, this book's CPU runs): the ``full`` budget, stated in the
  chapter.
"""

from __future__ import annotations

import os
from typing import TypeVar

import torch

__all__ = ["budget", "gpu_seconds_estimate", "is_quick", "run_mode"]

T = TypeVar("T")


_QUICK = ("1", "true", "yes", "on")
_FULL = ("0", "false", "no", "off", "")


def is_quick() -> bool:
    """True when ``BOOK_QUICK`` is 1/true/yes/on (CI sets ``BOOK_QUICK=1``); False when
    it is 0/false/no/off, empty or unset (case and spaces do not matter).

    Any other value raises ``ValueError``: read as "not quick", a typo such as
    ``BOOK_QUICK=y`` would start the full budgets (hours on a CPU) without a word.
    """
    value = os.environ.get("BOOK_QUICK", "")
    if value.strip().lower() in _QUICK:
        return True
    if value.strip().lower() in _FULL:
        return False
    raise ValueError(
        f"BOOK_QUICK must be one of {', '.join(_QUICK)} (quick runs) or "
        f"{', '.join(_FULL[:-1])} "
        f"or empty (full runs), got {value!r}; e.g. BOOK_QUICK=1"
    )


def run_mode() -> str:
    """Which budget ``budget`` picks here: ``"quick"``, ``"gpu"`` or ``"cpu"``."""
    if is_quick():
        return "quick"
    return "gpu" if torch.cuda.is_available() else "cpu"


def budget(full: T, quick: T, gpu: T | None = None) -> T:
    """Pick the budget for this run: ``quick`` under ``BOOK_QUICK=1``, else ``gpu`` on a
    CUDA machine (when given), else ``full`` (the CPU budget).

    >>> epochs = budget(full=3, quick=1, gpu=10)
    """
    mode = run_mode()
    if mode == "quick":
        return quick
    if mode == "gpu" and gpu is not None:
        return gpu
    return full


# A free Colab T4, as this book assumes it until measured: 65 TFLOP/s of fp16
# tensor-core peak, of which convolutional training under mixed precision keeps about a
# quarter busy, plus a fixed cost per optimiser step (kernel launches, the optimiser,
# the loss read back once per epoch).
T4_FLOPS = 15e12
T4_SECONDS_PER_STEP = 1e-3


def gpu_seconds_estimate(
    macs_per_image: int,
    train_images: int,
    test_images: int,
    steps: int,
    flops: float = T4_FLOPS,
    seconds_per_step: float = T4_SECONDS_PER_STEP,
) -> float:
    """Estimated seconds of a training budget on a GPU (by default a Colab T4): an
    estimate, not a measurement.

    A forward pass costs 2 FLOPs per multiply-add, a training step about three times a
    forward pass (forward, gradients of the activations, gradients of the weights). So
    training costs 6 · ``macs_per_image`` FLOPs per image seen (``train_images`` =
    epochs × images) and testing 2 · ``macs_per_image`` per image tested, at ``flops``
    per second, plus ``seconds_per_step`` for each of the ``steps`` optimiser steps.
    Data loading and resizing are not counted.

    >>> # VGG-11 at 224 px, 10 epochs
    >>> round(gpu_seconds_estimate(7_547_000_000, 600_000, 100_000, 4_690) / 60)
    32
    """
    for name, value in (
        ("macs_per_image", macs_per_image),
        ("train_images", train_images),
        ("test_images", test_images),
        ("steps", steps),
    ):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    if not flops > 0 or not seconds_per_step >= 0:
        raise ValueError(
            f"flops must be > 0 and seconds_per_step >= 0, got {flops!r} and "
            f"{seconds_per_step!r}"
        )
    return (
        6 * macs_per_image * train_images + 2 * macs_per_image * test_images
    ) / flops + steps * seconds_per_step
