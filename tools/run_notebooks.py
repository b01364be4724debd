"""Re-execute notebooks top to bottom in a fresh kernel and store their outputs.

    python tools/run_notebooks.py                       # every notebook there is
    python tools/run_notebooks.py notebooks/01_*.ipynb  # some of them
    BOOK_QUICK=1 python tools/run_notebooks.py --check  # quick mode, no writing (smoke)

The stored outputs are what ``pytest --nbval`` compares against, so commit
notebooks only after running them through this script in full mode (BOOK_QUICK unset).
Every run also records each notebook's wall time and peak kernel memory, per mode, in
``benchmarks/results/notebook-times.json`` (the book's re-execution budget table).
Stream outputs are tidied the way a terminal shows them (text overwritten by
``\\r``, as progress bars do, is dropped), and no timing metadata is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from results_file import machine_facts  # noqa: E402  (benchmarks/ holds the one writer of results)

TIMES = ROOT / "benchmarks" / "results" / "notebook-times.json"
BUDGET_S = {"full": 15 * 60, "quick": 90}  # per notebook on the book's 2-core CPU
# recorded beside each run
FACTS = (
    "date",
    "commit",
    "torch",
    "cpu_model",
    "machine",
    "cpus",
    "threads",
)


def record_run(
    path: Path, mode: str, seconds: float, peak_gb: float, passed: bool, run: str
) -> None:
    """Store one notebook's run for ``mode`` ("full" or "quick") in the timing table
    (JSON).

    Each entry says how long it took, the peak memory of its kernel, whether it passed,
    which command ran it (``run``), and the evidence: date, commit, CPU model, cores and
    threads.
    """
    table = json.loads(TIMES.read_text()) if TIMES.exists() else {}
    facts = machine_facts()
    table.setdefault(path.stem, {})[mode] = {
        "seconds": round(seconds, 1),
        "peak_gb": round(peak_gb, 2),
        "budget_s": BUDGET_S[mode],
        "passed": passed,
        "run": run,
        **{k: facts[k] for k in FACTS},
    }
    TIMES.parent.mkdir(parents=True, exist_ok=True)
    TIMES.write_text(json.dumps(dict(sorted(table.items())), indent=1) + "\n")


def tidy_stream(text: str) -> str:
    """Keep what a terminal would show: for each line, the text after its last carriage
    return."""
    lines = []
    for line in text.split("\n"):
        parts = [p for p in line.split("\r") if p]
        lines.append(parts[-1] if parts else "")
    return "\n".join(lines)


# tqdm's "LeNet: 100%|████| 10/10 [00:20<00:00, ...]"
PROGRESS_BAR = re.compile(r"\d+%\|.*\| *\d+/\d+ \[")


def without_progress_bars(text: str) -> str:
    """stderr without tqdm's progress bars: a reader running the notebook sees them
    live; the stored page shows what the cell prints instead (STYLE.md: no progress-bar
    debris)."""
    kept = [line for line in text.split("\n") if not PROGRESS_BAR.search(line)]
    return (
        "\n".join(kept).strip("\n") + "\n" if any(line.strip() for line in kept) else ""
    )


def merge_streams(outputs: list) -> list:
    """One output per stream name (stdout, stderr), at the place of its first part,
    tidied; progress bars are dropped from stderr, and a stream left empty is dropped.

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
        if out.name == "stderr":
            out.text = without_progress_bars(out.text)
    return [out for out in merged if out.output_type != "stream" or out.text]


def kernel_peak_gb(pid: int | None) -> float:
    """The kernel process's peak resident memory (VmHWM in /proc), in GB; NaN where
    unreadable."""
    try:
        line = next(
            row
            for row in Path(f"/proc/{pid}/status").read_text().splitlines()
            if row.startswith("VmHWM:")
        )
    except (OSError, StopIteration):
        return float("nan")
    return int(line.split()[1]) * 1024 / 1e9


def execute(path: Path, timeout: int, write: bool) -> tuple[float, float]:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute(cleanup_kc=False)  # keep the kernel alive to read its peak memory
    seconds = time.perf_counter() - start
    peak_gb = kernel_peak_gb(client.km.provisioner.pid)
    client._cleanup_kernel()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
    if write:
        nbformat.write(nb, path)
    return seconds, peak_gb


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument(
        "--timeout", type=int, default=3600, help="seconds allowed per cell"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="execute but do not write the notebooks back",
    )
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="do not update benchmarks/results/notebook-times.json",
    )
    args = parser.parse_args()
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    # as hp.is_quick()
    mode = (
        "quick"
        if os.environ.get("BOOK_QUICK", "").strip().lower() in {"1", "true", "yes"}
        else "full"
    )
    print(
        f"executing {len(paths)} notebook(s) in {mode} mode; "
        f"BOOK_DATA_DIR={os.environ.get('BOOK_DATA_DIR', '(unset)')}"
    )
    total = 0.0
    for path in paths:
        seconds, peak_gb = execute(path, args.timeout, write=not args.check)
        total += seconds
        print(
            f"{seconds:8.1f} s  {path}  (kernel peak memory {peak_gb:.2f} GB)",
            flush=True,
        )
        if not args.no_record:
            record_run(
                path,
                mode,
                seconds,
                peak_gb,
                passed=True,
                run="run_notebooks --check" if args.check else "make notebooks",
            )
    print(f"{total:8.1f} s  total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
