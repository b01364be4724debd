"""Re-check every chapter under its full budget: each notebook under nbval, in a fresh
kernel.

    make test-full                                   # every chapter, then a table
    python tools/test_full.py notebooks/08_lenet.ipynb notebooks/09_vgg.ipynb

``make test`` runs the quick budgets (CI); most of the prose's claims are asserted only
under the full budget (``if not hp.is_quick()``), and the stored outputs come from full
runs. This runs ``pytest --nbval`` with ``BOOK_QUICK=0`` on one notebook at a time, so
every full-budget ``assert`` and every compared output is checked again. On a CUDA
machine the chapters take their GPU budgets instead (``hp.run_mode()``); use ``make
gpu-check`` there.

Each run is recorded in ``benchmarks/results/notebook-times.json`` (mode "full"):
seconds, peak memory of the largest process (the kernel), pass/fail, date, commit, CPU
model and thread count. The exit status is 1 when a notebook failed. Run it after any
change to ``helpers/`` or to a notebook's code (about 35 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from run_notebooks import (  # tools/ is the script's folder, first on sys.path
    BUDGET_S,
    ROOT,
    record_run,
)


def run_nbval(path: Path) -> tuple[bool, float, float]:
    """``pytest --nbval path`` under the full budget: (passed, seconds, peak GB of the
    largest process).

    The peak comes from the rusage of the finished pytest process tree (``ru_maxrss`` of
    its largest descendant: the notebook's kernel, which pytest waits for when it shuts
    it down).
    """
    env = dict(os.environ, BOOK_QUICK="0")
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        str(ROOT / "pyproject.toml"),
        "--nbval",
        str(path),
        "-q",
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    return os.waitstatus_to_exitcode(status) == 0, seconds, usage.ru_maxrss * 1024 / 1e9


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        help="default: every notebook under notebooks/",
    )
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="do not update benchmarks/results/notebook-times.json",
    )
    args = parser.parse_args()
    paths = [p.resolve() for p in args.notebooks] or sorted(
        (ROOT / "notebooks").glob("*.ipynb")
    )
    rows = []
    for i, path in enumerate(paths, 1):
        print(
            f"[{i}/{len(paths)}] {path.name}: pytest --nbval, full budget", flush=True
        )
        passed, seconds, peak_gb = run_nbval(path)
        rows.append((path, passed, seconds, peak_gb))
        if not args.no_record:
            record_run(
                path, "full", seconds, peak_gb, passed=passed, run="make test-full"
            )
    print(f"\n{'notebook':<32}{'result':>8}{'seconds':>9}{'peak GB':>9}  budget")
    for path, passed, seconds, peak_gb in rows:
        within = "ok" if seconds <= BUDGET_S["full"] else f"OVER {BUDGET_S['full']} s"
        print(
            f"{path.stem:<32}{'passed' if passed else 'FAILED':>8}"
            f"{seconds:>9.0f}{peak_gb:>9.2f}  {within}"
        )
    total = sum(r[2] for r in rows)
    print(f"{'total':<32}{'':>8}{total:>9.0f}   ({total / 60:.1f} min)")
    failed = [r[0].name for r in rows if not r[1]]
    if failed:
        print("failed:", ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
