"""Conventions every chapter notebook follows, checked so that nbval can trust the
stored outputs."""

from __future__ import annotations

import itertools
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
sys.path.insert(0, str(ROOT / "tools"))
from set_repository import current_url  # noqa: E402  (the one reader of _config.yml)


def _repo_url() -> str:
    return current_url(ROOT)


# The chapters' setup cell, verbatim (its first line is long: noqa below).
SETUP_CELL = f'''# Setup: in Colab, install this book's helpers package; elsewhere, do nothing.
import sys

if "google.colab" in sys.modules:
    %pip install --quiet "cnn-book-helpers @ git+{_repo_url()}"'''  # noqa: E501


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _code(path: Path) -> list[dict]:
    return [c for c in _cells(path) if c["cell_type"] == "code" and _source(c).strip()]


def test_every_notebook_is_in_the_table_of_contents_and_back():
    toc = (ROOT / "_toc.yml").read_text()
    listed = re.findall(r"file:\s*(\S+)", toc)
    for entry in listed:
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), (
            f"_toc.yml lists a missing file: {entry}"
        )
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.stem}" in listed, f"{nb.name} is not in _toc.yml"


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_is_the_shared_setup_cell(nb):
    assert _source(_code(nb)[0]) == SETUP_CELL


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_outputs_come_from_one_clean_run(nb):
    cells = _code(nb)
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"re-run {nb.name} top to bottom in a fresh kernel"
    )
    for c in cells:
        assert all(o["output_type"] != "error" for o in c["outputs"]), (
            f"stored error in {nb.name}: {_source(c)[:60]}"
        )


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_outputs_have_no_progress_bars(nb):
    # tools/run_notebooks.py drops tqdm's bars when it stores a run: a reader sees them
    # live, the page shows what the cell prints instead (STYLE.md: stored outputs are
    # for readers).
    bar = re.compile(r"\d+%\|.*\| *\d+/\d+ \[")
    for c in _code(nb):
        for out in c["outputs"]:
            text = "".join(out.get("text", ""))
            assert not bar.search(text), (
                f"{nb.name}: a progress bar is stored in {_source(c)[:60]!r}; "
                "re-run it with make notebooks"
            )


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_no_cell_hides_its_value_with_a_semicolon(nb):
    """nbval runs cells without history, so IPython ignores a trailing ';' there:
    outputs would differ."""
    for c in _code(nb):
        last = _source(c).rstrip().splitlines()[-1]
        assert not last.split("#")[0].rstrip().endswith(";"), (
            f"{nb.name}: ends with ';': {last!r} (use plt.show())"
        )


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_ignored_outputs_are_followed_by_an_assert(nb):
    cells = _code(nb)
    for here, after in zip(cells, [*cells[1:], None], strict=True):
        if _source(here).lstrip().startswith("# NBVAL_IGNORE_OUTPUT"):
            assert after is not None and "assert" in _source(after), (
                f"{nb.name}: no assert after ignored cell {_source(here)[:80]!r}"
            )


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_headings_have_one_title_with_korean_and_no_skipped_levels(nb):
    levels = []
    for c in _cells(nb):
        if c["cell_type"] != "markdown":
            continue
        in_fence = False
        for line in _source(c).splitlines():
            if line.startswith("```"):
                in_fence = not in_fence
            elif not in_fence and (m := re.match(r"^(#{1,6})\s+(.*)", line)):
                levels.append((len(m.group(1)), m.group(2)))
    assert levels and levels[0][0] == 1 and [lvl for lvl, _ in levels].count(1) == 1, (
        f"{nb.name}: needs exactly one H1 title, first"
    )
    assert re.search(r"[\uac00-\ud7a3]", levels[0][1]), (
        f"{nb.name}: the title should carry the Korean title too"
    )
    for (a, _), (b, text) in itertools.pairwise(levels):
        assert b <= a + 1, f"{nb.name}: heading {text!r} skips a level"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_no_myst_directives_that_colab_shows_raw(nb):
    for c in _cells(nb):
        if c["cell_type"] == "markdown":
            assert not re.search(r"^(```|:::)\{", _source(c), re.MULTILINE), (
                f"{nb.name}: MyST directive in markdown"
            )


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_display_math_stands_in_its_own_block(nb):
    """MyST reads a `$$` line glued to a paragraph as `$` + inline math + `$` (stray
    dollars on the site)."""
    for c in _cells(nb):
        if c["cell_type"] != "markdown":
            continue
        lines = [re.sub(r"^>\s?", "", line) for line in _source(c).splitlines()]
        delimiters = 0
        # one shorter on purpose
        for prev, line in zip(["", *lines], lines, strict=False):
            if line.lstrip().startswith("$$") and delimiters % 2 == 0:
                assert not prev.strip(), (
                    f"{nb.name}: put a blank line before the display math {line[:50]!r}"
                )
            delimiters += line.count("$$")


# --- The website: hidden setup cells, folded checks, marks, citations (issue 11) ---

import sys  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
import tag_cells  # noqa: E402

MARK_LABELS = {
    "📝": {"Lecture.", "Lab."},
    "📖": {"Textbook."},
    "🗣️": {"In class."},
    "✍️": {"Our note."},
    "🔬": {"Experiment."},
    "❓": {"Question."},
}
TEXTBOOK_CHAPTERS = {"03", "04", "05", "06", "07", "08", "09", "10"}


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_cells_are_tagged_for_the_website(nb):
    """Setup cell removed from the site, every check cell folded behind 'Show the check'
    (tools/tag_cells.py)."""
    import nbformat

    found = tag_cells.problems(nbformat.read(nb, as_version=4))
    assert not found, f"{nb.name}: run `python tools/tag_cells.py`:\n" + "\n".join(
        found
    )


def test_check_cells_are_recognised():
    assert tag_cells.is_check_cell(
        {"cell_type": "code", "source": "x = 1\nassert x == 1", "outputs": []}
    )
    assert not tag_cells.is_check_cell(
        {
            "cell_type": "code",
            "source": "assert True\nprint(1)",
            "outputs": [{"text": "1"}],
        }
    )
    assert not tag_cells.is_check_cell(
        {"cell_type": "code", "source": "print('assert')", "outputs": []}
    )
    assert not tag_cells.is_check_cell(
        {"cell_type": "markdown", "source": "assert x", "outputs": []}
    )


def _marks(nb: Path) -> list[tuple[str, str]]:
    found = []
    for c in _cells(nb):
        if c["cell_type"] == "markdown":
            found += re.findall(
                r"^>\s*(\S+)\s+\*\*([^*]+)\*\*", _source(c), re.MULTILINE
            )
    return [(mark, label) for mark, label in found if not mark[0].isascii()]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_remarks_use_the_six_marks_and_say_where_they_come_from(nb):
    marks = _marks(nb)
    for mark, label in marks:
        assert label in MARK_LABELS.get(mark, set()), (
            f"{nb.name}: unknown mark {mark} **{label}**"
        )
    chapter = nb.name[:2]
    # the textbook's material is marked as the textbook's, not the lecture's
    if chapter in TEXTBOOK_CHAPTERS:
        assert ("📝", "Lecture.") not in marks and ("📖", "Textbook.") in marks, nb.name
    else:
        assert ("📖", "Textbook.") not in marks, nb.name


def _bib_keys() -> set[str]:
    return set(
        re.findall(
            r"^@\w+\{([^,]+),", (ROOT / "references.bib").read_text(), re.MULTILINE
        )
    )


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_chapters_cite_their_sources_and_link_the_glossary(nb):
    text = "\n".join(_source(c) for c in _cells(nb) if c["cell_type"] == "markdown")
    keys = [
        k.strip()
        for group in re.findall(r"\{cite:[pt]\}`([^`]+)`", text)
        for k in group.split(",")
    ]
    assert keys, f"{nb.name}: cites nothing from references.bib"
    assert set(keys) <= _bib_keys(), (
        f"{nb.name}: unknown citation keys {set(keys) - _bib_keys()}"
    )
    if nb.name[:2] != "00":
        assert "../book/glossary.md" in text, f"{nb.name}: no link to the glossary"


def _raises_without_match(source: str) -> list[int]:
    """Line numbers of ``pytest.raises(...)`` calls that do not say which message they
    expect."""
    import ast

    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "raises"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "pytest"
        and not any(k.arg == "match" for k in node.keywords)
    ]


def test_every_expected_error_names_its_message():
    """An error test without match= passes on any error of that type, including the
    wrong one."""
    assert _raises_without_match("with pytest.raises(ValueError):\n    f()") == [1]
    assert (
        _raises_without_match("with pytest.raises(ValueError, match='bad x'):\n    f()")
        == []
    )
    unnamed = {
        path.name: lines
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if (lines := _raises_without_match(path.read_text()))
    }
    assert unnamed == {}


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_stay_under_2_mb(nb):
    """Stored outputs (figures, animations) make a notebook heavy to clone, diff and
    open in Colab."""
    assert nb.stat().st_size < 2_000_000, (
        f"{nb.name}: {nb.stat().st_size:,} bytes; shrink its figures or animations"
    )
