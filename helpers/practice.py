"""Feedback for the practice edition: the book's checks, read out as a verdict.

In a chapter, an exercise's checks are plain ``assert`` statements: a failing one stops
the notebook with a traceback, which is right for the book (a wrong answer there is a
bug). In the practice edition (``make practice``), the same checks run inside
``checking``, which turns the outcome into one line a student can act on:

    with hp.checking("Exercise 3"):
        assert mirror_pad(X, 1).shape == (6, 7)

prints ``✅ Exercise 3: every check passes.``, or ``❌ Exercise 3: not yet.`` followed
by the check that failed (its source line and message), the name still missing, or the
error the answer raised. The exception is never re-raised, so a practice notebook runs
top to bottom with its answers still unwritten.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["NOT_YET", "PASSED", "checking", "verdict"]

PASSED = "✅ {exercise}: every check passes."
NOT_YET = "❌ {exercise}: not yet."

# What a stub's placeholder ``...`` (Ellipsis) produces when a check uses it.
_PLACEHOLDER_HINTS = ("ellipsis", "'...'")


def _failing_line(error: BaseException) -> str | None:
    """The source line where ``error`` was raised (None if unknown)."""
    frames = traceback.extract_tb(error.__traceback__)
    return frames[-1].line.strip() if frames and frames[-1].line else None


def verdict(exercise: str, error: BaseException | None) -> str:
    """The line ``checking`` prints for ``exercise`` after its checks raised
    ``error`` (``None``: they all passed)."""
    if error is None:
        return PASSED.format(exercise=exercise)
    head = NOT_YET.format(exercise=exercise)
    line = _failing_line(error)
    if isinstance(error, NameError):
        name = getattr(error, "name", None) or str(error)
        return (
            f"{head} `{name}` is not defined yet: write it in the answer cell above "
            "and run that cell."
        )
    if isinstance(error, AssertionError):
        # the message's first line (pytest's assertion rewriting appends more)
        detail = f" ({str(error).splitlines()[0]})" if str(error) else ""
        where = f"`{line}`" if line else "a check"
        return f"{head} This check fails: {where}{detail}."
    text = f"{type(error).__name__}: {error}"
    hint = ""
    if any(h in str(error).lower() for h in _PLACEHOLDER_HINTS):
        hint = " Is a `...` placeholder still in your answer?"
    where = f" in `{line}`" if line else ""
    return f"{head} Checking your answer raised {text}{where}.{hint}"


@contextmanager
def checking(exercise: str) -> Iterator[None]:
    """Run the checks in the ``with`` block; print one verdict line for ``exercise``.

    Any exception the checks raise (a failed ``assert``, a name not yet defined, an
    error from a half-written answer) is reported, not re-raised;
    ``KeyboardInterrupt`` still stops the cell.
    """
    try:
        yield
    except Exception as error:  # every failure is a verdict, not a crash
        print(verdict(exercise, error))
    else:
        print(verdict(exercise, None))
