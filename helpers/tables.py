"""Tables a reader compares across rows, rendered as tables (in Jupyter, Colab and on
the website).

A fixed-width ``print`` misaligns as soon as a font or a phone's width changes; a
Markdown table is laid out by the page. ``show_table(rows, headers)`` displays one;
``markdown_table`` returns its text.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

__all__ = ["markdown_table", "show_table"]


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(
    rows: Sequence[Sequence[Any]], headers: Sequence[str], align: str | None = None
) -> str:
    """The Markdown text of a table: one line of ``headers``, a separator, one line per
    row.

    Values are written as given (format numbers before, e.g. ``f"{acc:.3f}"``);
    non-strings go through ``str``. ``align`` has one letter per column, ``l`` or ``r``;
    by default a column is right-aligned when every value in it is a number or a string
    that starts with a digit or sign.
    """
    if not headers:
        raise ValueError("headers must name at least one column")
    width = len(headers)
    for i, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(
                f"row {i} has {len(row)} values for {width} columns "
                f"({list(headers)}): {list(row)!r}"
            )
    if align is None:
        align = "".join(
            "r" if rows and all(_numeric(row[j]) for row in rows) else "l"
            for j in range(width)
        )
    if len(align) != width or set(align) - {"l", "r"}:
        raise ValueError(
            f"align must have one letter, l or r, per column ({width}), got {align!r}"
        )
    lines = [
        "| " + " | ".join(_cell(h) for h in headers) + " |",
        "|" + "|".join(" ---: " if a == "r" else " :--- " for a in align) + "|",
    ]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _numeric(value: Any) -> bool:
    """A number, or a string that reads as one ("0.738", "61,706", "-0.5", "3.2×")."""
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Number):
        return True
    return isinstance(value, str) and value.lstrip("+-−")[:1].isdigit()


def show_table(
    rows: Sequence[Sequence[Any]], headers: Sequence[str], align: str | None = None
) -> None:
    """Display ``rows`` under ``headers`` as a rendered table (see ``markdown_table``);
    returns nothing."""
    from IPython.display import Markdown, display

    display(Markdown(markdown_table(rows, headers, align)))
