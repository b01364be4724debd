"""Tag notebook cells for the website: the setup cell hidden, the check cells folded.

    python tools/tag_cells.py          # every notebook under notebooks/, in place
    python tools/tag_cells.py --check  # only report cells whose tags are wrong (exit 1)

Rules (tests/test_repository.py enforces them on every notebook):

* the first code cell, the shared setup cell, carries ``remove-cell``: the site does
  not show it (it stays in the notebook, where Colab needs it);
* a **check cell**, a code cell with at least one ``assert`` and no output, carries
  ``hide-input`` and the prompts ``Show the check`` / ``Hide the check``
  (``metadata.mystnb.code_prompt_show/hide``), so the site folds it behind a labelled
  toggle;
* no other cell carries the check prompts.

Only metadata changes; sources and outputs are left as they are, so nbval is unaffected.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SETUP_TAG = "remove-cell"
FOLD_TAG = "hide-input"
CHECK_PROMPTS = {
    "code_prompt_show": "Show the check",
    "code_prompt_hide": "Hide the check",
}


def has_assert(source: str) -> bool:
    """True if the Python source holds an ``assert`` statement (IPython magics are
    skipped)."""
    lines = [
        line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
    ]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return False
    return any(isinstance(node, ast.Assert) for node in ast.walk(tree))


def is_check_cell(cell: dict) -> bool:
    """A code cell that only checks: it asserts something and shows nothing."""
    return (
        cell["cell_type"] == "code"
        and not cell.get("outputs")
        and has_assert(cell["source"])
    )


def wanted_metadata(cell: dict, is_setup: bool) -> tuple[list[str], dict]:
    """The tags and ``mystnb`` metadata a code cell should carry (the rules above)."""
    tags = [t for t in cell["metadata"].get("tags", []) if t != SETUP_TAG]
    mystnb = {
        k: v
        for k, v in cell["metadata"].get("mystnb", {}).items()
        if k not in CHECK_PROMPTS
    }
    if is_setup:
        tags.append(SETUP_TAG)
    elif is_check_cell(cell):
        if FOLD_TAG not in tags:
            tags.append(FOLD_TAG)
        mystnb.update(CHECK_PROMPTS)
    return tags, mystnb


def _code_cells(nb: nbformat.NotebookNode):
    """Each code cell with its index and the tags and ``mystnb`` metadata the rules want
    for it."""
    first_code = True
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            yield i, cell, *wanted_metadata(cell, first_code)
            first_code = False


def _is_tagged(cell: dict, tags: list[str], mystnb: dict) -> bool:
    return (
        sorted(cell.metadata.get("tags", [])) == sorted(tags)
        and dict(cell.metadata.get("mystnb", {})) == mystnb
    )


def problems(nb: nbformat.NotebookNode) -> list[str]:
    """Cells (by index) whose tags or prompts differ from the rules; empty when all is
    well."""
    return [
        f"cell {i}: tags {list(cell.metadata.get('tags', []))} mystnb "
        f"{dict(cell.metadata.get('mystnb', {}))}, "
        f"want tags {tags} mystnb {mystnb}"
        for i, cell, tags, mystnb in _code_cells(nb)
        if not _is_tagged(cell, tags, mystnb)
    ]


def retag(nb: nbformat.NotebookNode) -> int:
    """Apply the rules in place; returns the number of cells changed."""
    changed = 0
    for _, cell, tags, mystnb in list(_code_cells(nb)):
        if _is_tagged(cell, tags, mystnb):
            continue
        changed += 1
        for key, value in (("tags", tags), ("mystnb", mystnb)):
            if value:
                cell.metadata[key] = value
            else:
                cell.metadata.pop(key, None)
    return changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true", help="report, do not write")
    args = parser.parse_args()
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    bad = 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if args.check:
            for line in problems(nb):
                print(f"{path.name}: {line}")
                bad += 1
        elif n := retag(nb):
            nbformat.write(nb, path)
            print(f"{path.name}: {n} cells retagged")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
