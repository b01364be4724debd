"""Each practice notebook, executed: with its stubs every check says "not yet" (none
passes, nothing crashes); with the chapter's answers put back, every check passes.

Both directions run in one kernel per chapter (quick mode in CI): the practice notebook
top to bottom, then each exercise's solution cells from the chapter followed by its
checks again. So the chapter before the exercises is executed once, not twice.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import practice  # noqa: E402

PRACTICE = sorted((ROOT / "practice").glob("*.ipynb"))


def _stdout(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def _is_check(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and cell.source.startswith("# Check your answer")


@pytest.mark.parametrize("path", PRACTICE, ids=[p.stem for p in PRACTICE])
def test_stubs_are_not_yet_and_the_books_answers_pass(path, data_dir):
    chapter = nbformat.read(ROOT / "notebooks" / path.name, as_version=4)
    nb = nbformat.read(path, as_version=4)
    stubbed = len(nb.cells)
    answered = practice.answered_cells(chapter)
    nb.cells += [cell for _, cell in answered]
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    ).execute()  # a crash fails the test with the cell and its traceback
    stub_checks = [c for c in nb.cells[:stubbed] if _is_check(c)]
    assert stub_checks, f"{path.name} has no check"
    for cell in stub_checks:
        out = _stdout(cell)
        assert "not yet" in out and "every check passes" not in out, (
            f"a check passes (or says nothing) with the stub in place:\n"
            f"{cell.source}\n--- printed:\n{out}"
        )
    for (exercise, _), cell in zip(answered, nb.cells[stubbed:], strict=True):
        if _is_check(cell):
            out = _stdout(cell)
            assert out.strip() == f"✅ {exercise}: every check passes.", (
                f"the chapter's answer fails its own check:\n{cell.source}\n"
                f"--- printed:\n{out}"
            )
