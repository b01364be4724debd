"""The practice edition: feedback lines (helpers/practice.py), the generator and its
marking rules (tools/practice.py), and the marking of every chapter. The practice cells
themselves run inside each chapter's nbval kernel (tests/practice_plugin.py, tested in
tests/test_practice_plugin.py)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat
import pytest

import helpers as hp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import practice  # noqa: E402

COLAB = "https://colab.research.google.com/github/o/r"


# ------------------------------------------------------------------ the verdict


def test_checks_that_pass_say_so(capsys):
    with hp.checking("Exercise 1"):
        assert 6 * 7 == 42
    assert capsys.readouterr().out == "✅ Exercise 1: every check passes.\n"


def test_a_failing_assert_is_quoted_with_its_message(capsys):
    answer = 41
    with hp.checking("Exercise 2"):
        assert answer == 42, "count the padding on both sides"
    out = capsys.readouterr().out
    assert out.startswith("❌ Exercise 2: not yet. This check fails: ")
    assert '`assert answer == 42, "count the padding on both sides"`' in out
    assert "(count the padding on both sides)" in out


def test_a_missing_name_asks_for_the_answer_cell(capsys):
    with hp.checking("Exercise 3"):
        assert undefined_answer == 1  # type: ignore[name-defined]  # noqa: F821
    out = capsys.readouterr().out
    assert "`undefined_answer` is not defined yet" in out
    assert "answer cell above" in out


def test_a_placeholder_left_in_the_answer_gets_a_hint(capsys):
    answer = ...
    with hp.checking("Exercise 4"):
        assert answer + 1 == 2  # type: ignore[operator]
    out = capsys.readouterr().out
    assert "raised TypeError" in out and "`...` placeholder" in out


def test_other_errors_are_reported_not_raised(capsys):
    with hp.checking("Exercise 5"):
        [].pop()
    out = capsys.readouterr().out
    assert "not yet. Checking your answer raised IndexError: pop from empty list" in out


def test_an_interrupt_still_stops_the_cell():
    with pytest.raises(KeyboardInterrupt, match="stop"), hp.checking("Exercise 6"):
        raise KeyboardInterrupt("stop")


# ---------------------------------------------------------------- the generator


def chapter(*cells: tuple[str, str, str | None, str | None]) -> nbformat.NotebookNode:
    """A chapter of (type, source, role, stub) cells; code cells have an output."""
    nb = nbformat.v4.new_notebook()
    for i, (kind, source, role, stub) in enumerate(cells):
        if kind == "code":
            cell = nbformat.v4.new_code_cell(source, execution_count=i + 1)
            cell.outputs = [nbformat.v4.new_output("stream", text="stored\n")]
        else:
            cell = nbformat.v4.new_markdown_cell(source)
        cell.id = f"c{i}"
        if role:
            cell.metadata["practice"] = {"role": role}
            if stub:
                cell.metadata["practice"]["stub"] = stub
        nb.cells.append(cell)
    return nb


ANSWER = "<details><summary>Answer</summary>\n\nFour.\n\n</details>"


def small_chapter() -> nbformat.NotebookNode:
    return chapter(
        ("markdown", "# Padding (패딩)\n\nText.", None, None),
        ("code", "import helpers as hp\nn = 4", None, None),
        (
            "markdown",
            "## Exercises\n\n[Practise these exercises in Colab](x)\n\n"
            "### Exercise 1: sides\n\nHow many?",
            None,
            None,
        ),
        ("markdown", ANSWER, "solution", None),
        ("code", "sides = n", "solution", "sides = ...  # a number"),
        ("code", "assert sides == 4, 'a square'", "check", None),
        ("markdown", "### Exercise 2: more\n\nAnd?", None, None),
        ("code", "given = 3  # the question's data", None, None),
        ("code", "more = given + 1", "solution", "more = ...  # from given"),
        ("code", "assert more == 4", "check", None),
    )


def test_the_practice_notebook_keeps_questions_and_checks_and_drops_answers():
    nb = practice.practice_notebook(small_chapter(), "05_padding", COLAB)
    sources = [c.source for c in nb.cells]
    assert sources[0].startswith("# Practice: Padding (패딩)")
    assert f"{COLAB}/blob/main/notebooks/05_padding.ipynb" in sources[0]
    assert "# Padding (패딩)\n\nText." in sources  # the chapter, unchanged
    leaks = ("Four.", "sides = n", "given + 1")
    assert not any(leak in s for leak in leaks for s in sources)
    assert "given = 3  # the question's data" in sources  # set-up code stays
    assert "## Exercises\n\n### Exercise 1: sides\n\nHow many?" in sources  # no link
    answer = next(s for s in sources if s.startswith("# Your answer (Exercise 1)"))
    assert answer.endswith("\nsides = ...  # a number")
    check = next(s for s in sources if "assert sides" in s)
    assert check == (
        "# Check your answer\nwith hp.checking('Exercise 1'):\n"
        "    assert sides == 4, 'a square'"
    )
    assert all(c.get("outputs", []) == [] for c in nb.cells)
    assert not any("practice" in c.metadata for c in nb.cells)
    nbformat.validate(nb)


def test_generation_is_deterministic():
    one = nbformat.writes(practice.practice_notebook(small_chapter(), "x", COLAB))
    two = nbformat.writes(practice.practice_notebook(small_chapter(), "x", COLAB))
    assert one == two


def test_check_steps_group_the_practice_cells_before_the_chapters_answers():
    nb = small_chapter()
    # Exercise 2: an unmarked cell between its answer and its check
    nb.cells.insert(9, nbformat.v4.new_code_cell("print(more)"))
    steps = practice.check_steps(nb)
    assert [(s.exercise, s.before, [r for r, _ in s.cells]) for s in steps] == [
        ("Exercise 1", 1, ["answer", "check"]),  # before code cell 1, "sides = n"
        ("Exercise 2", 4, ["answer"]),
        ("Exercise 2", 6, ["check"]),  # after the unmarked cell (code cell 5)
    ]
    assert steps[0].earlier_stubs == steps[1].earlier_stubs == []
    assert steps[2].earlier_stubs == [steps[1].cells[0][1]]  # Exercise 2's stub again
    assert steps[1].cells[0][1].endswith("more = ...  # from given")


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda nb: nb.cells[3].metadata.pop("practice"), "would be given away"),
        (lambda nb: nb.cells[9].metadata.pop("practice"), "Exercise 2 has no cell"),
        (
            lambda nb: nb.cells[1].metadata.update(practice={"role": "check"}),
            "outside an exercise",
        ),
        (
            lambda nb: nb.cells[5].metadata.update(practice={"role": "answer"}),
            "practice role must be one of",
        ),
        (
            lambda nb: nb.cells[3].metadata.update(
                practice={"role": "solution", "stub": "x = ..."}
            ),
            "has a stub but is not a code cell",
        ),
    ],
)
def test_an_incomplete_marking_is_refused(change, message):
    nb = small_chapter()
    change(nb)
    with pytest.raises(ValueError, match=message):
        practice.practice_notebook(nb, "x", COLAB)


def _recode(nb, index, source=None, stub=None):
    """Change code cell ``index`` of the small chapter (its source and/or its stub)."""
    cell = nb.cells[index]
    if source is not None:
        cell.source = source
    if stub is not None:
        cell.metadata["practice"]["stub"] = stub


def test_an_unmarked_chapter_has_no_check_steps_even_with_folded_answers():
    nb = small_chapter()
    for cell in nb.cells:
        cell.metadata.pop("practice", None)  # answers folded but nothing marked
    assert practice.check_steps(nb) == []


@pytest.mark.parametrize(
    "change,message",
    [
        (
            lambda nb: nb.cells.insert(7, nbformat.v4.new_code_cell("print(sides)")),
            "cell 7 (Exercise 2): this cell is kept in the practice edition but reads "
            "`sides`, which only the answer of Exercise 1 binds",
        ),
        (
            lambda nb: _recode(nb, 9, source="assert more == sides"),
            "cell 9 (Exercise 2): the check reads `sides`, which only the answer of "
            "Exercise 1 binds",
        ),
        (
            lambda nb: (
                _recode(nb, 4, source="sides = n\nhalf = n / 2")
                or _recode(nb, 5, source="assert sides == 2 * half")
            ),
            "the check reads `half`, which the solution binds but no stub does",
        ),
        (
            lambda nb: nb.cells[8].metadata["practice"].pop("stub"),
            "Exercise 2 has no stub",
        ),
        (
            lambda nb: _recode(nb, 8, stub="more, less = ...  # two numbers"),
            "its stub unpacks `...` into several names",
        ),
        (
            lambda nb: _recode(nb, 8, stub="more = sides + ...  # from sides"),
            "its stub reads `sides`, which only the answer of Exercise 1 binds",
        ),
    ],
)
def test_a_marking_that_would_break_the_practice_edition_is_refused(change, message):
    nb = small_chapter()
    change(nb)
    assert practice.exercises(nb)  # the marking itself is complete
    with pytest.raises(ValueError, match=re.escape(message)):
        practice.practice_notebook(nb, "x", COLAB)


def test_names_read_and_bound_by_a_cell():
    source = (
        "%matplotlib inline\n"
        "import torch.nn as nn\n"
        "def f(x):\n    y = x + scale\n    return y\n"
        "total = [f(v) for v in values]\n"
        "net.train()\n"
    )
    reads, binds = practice.names(source)
    assert reads == {"scale", "values", "net"}
    assert binds == {"nn", "f", "total"}  # not the function's or the loop's locals


def test_placeholders_are_the_names_a_stub_leaves_to_write():
    stub = (
        "class Block(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        ...\n"
        "    def forward(self, X):\n        ...\n"
        "block = Block()  # built from a placeholder\n"
        "x2 = X[pair]  # given\n"
        "answer = ...\n"
        'def f(y):\n    """What f returns."""\n    ...\n'
        "def helper(y):\n    return y + 1\n"
    )
    assert practice.placeholders(stub) == {"Block", "block", "answer", "f"}


CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_each_check_runs_the_same_code_in_both_editions(path):
    """The practice edition wraps a check in ``hp.checking``: its body must be the
    chapter's check exactly (so the chapter's nbval run, where the same asserts pass
    with the book's answers, is the answered direction), and nbval must run every
    marked code cell of the chapter."""
    nb = nbformat.read(path, as_version=4)
    for ex in practice.exercises(nb) if practice.is_marked(nb) else []:
        for i in ex.cells:
            cell = nb.cells[i]
            role = cell.metadata.get("practice", {}).get("role")
            if cell.cell_type != "code" or role is None:
                continue
            tags = set(cell.metadata.get("tags", []))
            assert not tags & {"nbval-skip", "raises-exception"}, (path.name, i)
            assert "NBVAL_SKIP" not in cell.source, (path.name, i)
            if role == "check":
                wrapped = practice.check_cell(cell.source, ex.name, "id").source
                body = ast.parse(wrapped).body[0].body
                original = ast.parse(cell.source).body
                assert ast.dump(ast.Module(body, [])) == ast.dump(
                    ast.Module(original, [])
                ), (path.name, i)


def test_an_unmarked_chapter_has_no_practice_notebook():
    nb = small_chapter()
    for cell in nb.cells:
        cell.metadata.pop("practice", None)
    nb.cells[3].source = "No answer here."
    assert not practice.is_marked(nb)


def test_make_practice_writes_checks_and_removes(tmp_path, capsys):
    for name in ("_config.yml",):
        (tmp_path / name).write_text((ROOT / name).read_text())
    (tmp_path / "notebooks").mkdir()
    nbformat.write(small_chapter(), tmp_path / "notebooks" / "05_padding.ipynb")
    assert practice.main(["--check", "--root", str(tmp_path)]) == 1
    assert "practice/05_padding.ipynb: missing" in capsys.readouterr().out
    assert practice.main(["--root", str(tmp_path)]) == 0
    assert practice.main(["--check", "--root", str(tmp_path)]) == 0
    (tmp_path / "practice" / "99_gone.ipynb").write_text("{}")
    assert practice.main(["--check", "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "99_gone.ipynb: its chapter has no marked exercises" in out
    practice.main(["--root", str(tmp_path)])
    assert not (tmp_path / "practice" / "99_gone.ipynb").exists()


def test_the_committed_practice_notebooks_are_up_to_date():
    assert practice.stale(ROOT) == [], "run `make practice` and commit practice/"


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "practice").glob("*.ipynb")),
    ids=lambda p: p.stem,
)
def test_each_chapter_links_to_its_practice_notebook(path):
    chapter = nbformat.read(ROOT / "notebooks" / path.name, as_version=4)
    url = f"{practice.colab_base(ROOT)}/blob/main/practice/{path.name}"
    links = [c.source for c in chapter.cells if practice.LINK in c.source]
    assert any(f"[{practice.LINK} in Colab]({url})" in s for s in links), path.name
