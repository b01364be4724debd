"""Re-execute notebooks top to bottom in a fresh kernel and store their outputs.

    python tools/run_notebooks.py                      # every notebook under notebooks/
    python tools/run_notebooks.py notebooks/01_*.ipynb # some of them
    BOOK_QUICK=1 python tools/run_notebooks.py --check # quick mode, do not write (a smoke test)

The stored outputs are what ``pytest --nbval`` compares against, so commit
notebooks only after running them through this script in full mode (BOOK_QUICK unset).
Stream outputs are tidied the way a terminal shows them (text overwritten by
``\\r``, as progress bars do, is dropped), and no timing metadata is recorded.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def tidy_stream(text: str) -> str:
    """Keep what a terminal would show: for each line, the text after its last carriage return."""
    lines = []
    for line in text.split("\n"):
        parts = [p for p in line.split("\r") if p]
        lines.append(parts[-1] if parts else "")
    return "\n".join(lines)


def merge_streams(outputs: list) -> list:
    """One output per stream name (stdout, stderr), at the place of its first part, tidied.

    This is how nbval sees a cell's streams, so the stored outputs compare cleanly.
    """
    merged, first = [], {}
    for out in outputs:
        if out.output_type != "stream":
            merged.append(out)
        elif out.name in first:
            first[out.name].text += out.text
        else:
            first[out.name] = out
            merged.append(out)
    for out in first.values():
        out.text = tidy_stream(out.text)
    return merged


def execute(path: Path, timeout: int, write: bool) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
    if write:
        nbformat.write(nb, path)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    parser.add_argument("--check", action="store_true", help="execute but do not write the notebooks back")
    args = parser.parse_args()
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    mode = "quick" if os.environ.get("BOOK_QUICK") else "full"
    print(f"executing {len(paths)} notebook(s) in {mode} mode; BOOK_DATA_DIR={os.environ.get('BOOK_DATA_DIR', '(unset)')}")
    total = 0.0
    for path in paths:
        seconds = execute(path, args.timeout, write=not args.check)
        total += seconds
        # ru_maxrss of the children: the largest kernel so far (KiB on Linux), i.e. this notebook's
        # peak host memory when one notebook is run per call.
        peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9
        print(f"{seconds:8.1f} s  {path}  (peak kernel memory so far {peak_gb:.2f} GB)", flush=True)
    print(f"{total:8.1f} s  total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
