"""Full runs for the book, quick runs for CI: one switch, the environment variable ``BOOK_QUICK``."""
from __future__ import annotations

import os
from typing import TypeVar

__all__ = ["is_quick", "budget"]

T = TypeVar("T")


def is_quick() -> bool:
    """True when ``BOOK_QUICK`` is set to 1/true/yes (CI sets ``BOOK_QUICK=1``)."""
    return os.environ.get("BOOK_QUICK", "").strip().lower() in {"1", "true", "yes"}


def budget(full: T, quick: T) -> T:
    """Pick the full-run value, or the smaller quick-run one when ``BOOK_QUICK=1``.

    >>> epochs = budget(full=500, quick=30)
    """
    return quick if is_quick() else full
