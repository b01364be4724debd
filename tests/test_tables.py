"""Tables rendered as Markdown tables."""

from __future__ import annotations

import pytest

import helpers as hp


def test_markdown_table_lines_separator_and_default_alignment():
    text = hp.markdown_table(
        [["LeNet", 61_706, "0.738"], ["VGG | narrow", "1,234", "-0.5"]],
        ["model", "parameters", "accuracy"],
    )
    assert text.splitlines() == [
        "| model | parameters | accuracy |",
        "| :--- | ---: | ---: |",
        "| LeNet | 61706 | 0.738 |",
        "| VGG \\| narrow | 1,234 | -0.5 |",  # a pipe inside a cell is escaped
    ]


def test_explicit_alignment_and_booleans_are_not_numbers():
    assert (
        hp.markdown_table([[True, "x"]], ["ok", "name"]).splitlines()[1]
        == "| :--- | :--- |"
    )
    assert (
        hp.markdown_table([[1, 2]], ["a", "b"], align="lr").splitlines()[1]
        == "| :--- | ---: |"
    )


@pytest.mark.parametrize(
    "rows,headers,align,message",
    [
        (
            [[1, 2, 3]],
            ["a", "b"],
            None,
            r"row 0 has 3 values for 2 columns \(\['a', 'b'\]\)",
        ),
        ([[1]], [], None, "headers must name at least one column"),
        ([[1, 2]], ["a", "b"], "lc", "align must have one letter, l or r, per column"),
        (
            [[1, 2]],
            ["a", "b"],
            "l",
            "align must have one letter, l or r, per column \\(2\\), got 'l'",
        ),
    ],
)
def test_bad_tables_are_refused(rows, headers, align, message):
    with pytest.raises(ValueError, match=message):
        hp.markdown_table(rows, headers, align)


def test_show_table_displays_markdown(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    assert hp.show_table([["a", 1]], ["name", "n"]) is None
    assert len(shown) == 1 and shown[0].data.startswith("| name | n |")
