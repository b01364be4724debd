"""The JSON files under benchmarks/results/ that the Performance page reads: one writer
for every benchmark, and the facts that go beside every figure (when, which commit,
which machine)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def git_commit() -> str:
    """The checked-out commit (short hash), with ``+dirty`` when tracked files have
    uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else ``platform``'s answer."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_facts() -> dict:
    """Date, commit, torch version, CPU model, cores and torch's thread count: the
    evidence beside a figure."""
    import torch

    return {
        "date": time.strftime("%Y-%m-%d"),
        "commit": git_commit(),
        "torch": torch.__version__,
        "cpu_model": cpu_model(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "threads": torch.get_num_threads(),
    }


def write_results(
    path: Path,
    device: str,
    results: list[dict],
    extra: dict | None = None,
    facts: dict | None = None,
    **machine_extra,
) -> None:
    """Write ``{"machine": {device, date, commit, torch, cpu_model, cpus, threads,
    **machine_extra}, **extra, "results": results}`` (``extra``: more top-level keys,
    e.g. what the columns mean).

    ``facts``: the ``machine_facts()`` read when the measurement *started*; pass them
    for a long run, so that the file names the commit that was measured, not one
    checked out while it ran. Without them the facts are read now."""
    machine = {"device": device, **(facts or machine_facts()), **machine_extra}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"machine": machine, **(extra or {}), "results": results}, indent=1)
        + "\n"
    )
