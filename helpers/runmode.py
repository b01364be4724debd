"""Full runs for the book, quick runs for CI, the textbook's recipe on a GPU.

One switch, the environment variable ``BOOK_QUICK``, and one question, "is there a
CUDA GPU?", decide how much a notebook trains:

* ``BOOK_QUICK=1`` (CI): the minimal ``quick`` budget, whatever the hardware;
* a CUDA GPU: the ``gpu`` budget (the textbook's recipe), when a chapter gives one;
* otherwise (a laptop, this book's CPU runs): the ``full`` budget, stated in the chapter.
"""
from __future__ import annotations

import os
from typing import TypeVar

import torch

__all__ = ["is_quick", "budget", "run_mode"]

T = TypeVar("T")


_QUICK = ("1", "true", "yes", "on")
_FULL = ("0", "false", "no", "off", "")


def is_quick() -> bool:
    """True when ``BOOK_QUICK`` is 1/true/yes/on (CI sets ``BOOK_QUICK=1``); False when it is
    0/false/no/off, empty or unset (case and spaces do not matter).

    Any other value raises ``ValueError``: read as "not quick", a typo such as ``BOOK_QUICK=y``
    would start the full budgets (hours on a CPU) without a word.
    """
    value = os.environ.get("BOOK_QUICK", "")
    if value.strip().lower() in _QUICK:
        return True
    if value.strip().lower() in _FULL:
        return False
    raise ValueError(f"BOOK_QUICK must be one of {', '.join(_QUICK)} (quick runs) or {', '.join(_FULL[:-1])} "
                     f"or empty (full runs), got {value!r}; e.g. BOOK_QUICK=1")


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
