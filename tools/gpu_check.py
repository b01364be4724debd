"""The GPU run, prepared: every chapter under its GPU budget and both benchmarks on
CUDA, one JSON.

    make gpu-check                    # needs a CUDA GPU; writes
                                      # benchmarks/results/gpu-check.json
    python tools/gpu_check.py --plan  # any machine: what it would run, nothing executed

On a CUDA machine ``hp.run_mode()`` is "gpu" and every chapter takes its GPU budget (the
textbook's or the lab's own recipe). Each notebook runs top to bottom in a fresh kernel,
with errors allowed so that one failing ``assert`` does not hide the others; a last cell
added to the run reads the peak GPU memory and the chapter's headline results from the
kernel. Recorded per chapter: seconds, peak GPU memory, the results, which cells with an
``assert`` held and which failed, any other error. Then ``benchmarks/trainers.py`` and
``benchmarks/memory.py`` run with ``--device cuda``. The whole run is meant to take
under 10 minutes on one current datacenter GPU (``LIMIT_S``); the JSON says whether it
did. The notebooks are not written back.

Needs the book's packages (``make`` installs them into .venv) and the datasets
(``BOOK_DATA_DIR`` or torchvision's download).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from run_notebooks import (  # tools/ is the script's folder, first on sys.path
    ROOT,
    merge_streams,
)

sys.path.insert(0, str(ROOT / "benchmarks"))
from results_file import machine_facts

LIMIT_S = 600  # the whole check, on one current datacenter GPU
OUT = ROOT / "benchmarks" / "results" / "gpu-check.json"
MARK = "GPU-CHECK "  # the probe cell's output line

# The headline figures of each chapter, read from its kernel after the run: name →
# Python expression.
RESULTS = {
    "00_pipeline_check": {"test_acc": "history.test_acc[-1]"},
    "01_cnn_showcase": {
        "mlp_test_acc": "acc['MLP'][1]",
        "cnn_test_acc": "acc['CNN'][1]",
    },
    "08_lenet": {
        "lenet_test_acc": "h_lenet.test_acc[-1]",
        "mnist_test_acc": "h_mnist.test_acc[-1]",
    },
    "09_vgg": {"test_acc": "test_acc"},
    "10_resnet": {"test_acc": "test_acc"},
    "11_lab_mnist_cifar10": {
        "mnist_test_acc": "mnist_acc",
        "cifar_test_acc": "cifar_acc",
    },
}
BENCHMARKS = {
    "trainers": [
        "benchmarks/trainers.py",
        "--device",
        "cuda",
        "--rounds",
        "1",
    ],  # 15 runs, not 45
    "memory": ["benchmarks/memory.py", "--device", "cuda", "--steps", "5"],
}


def probe_source(results: dict[str, str]) -> str:
    """The code of the cell appended to a chapter: prints one JSON line with peak GPU
    memory and results."""
    return (
        "import json as _json, torch as _torch\n"
        "_out = {'peak_gpu_gb': _torch.cuda.max_memory_allocated() / 1e9 if "
        "_torch.cuda.is_available() else None,\n"
        "        'run_mode': hp.run_mode() if 'hp' in globals() else None, "
        "'results': {}}\n"
        f"for _name, _expr in {results!r}.items():\n"
        "    try:\n"
        "        _out['results'][_name] = round(float(eval(_expr)), 4)\n"
        "    except Exception as _err:\n"
        "        _out['results'][_name] = f'unavailable: {type(_err).__name__}: "
        "{_err}'\n"
        f"print({MARK!r} + _json.dumps(_out))\n"
    )


def cell_report(nb: nbformat.NotebookNode) -> dict:
    """Which code cells with an ``assert`` held, which failed, and the other cells'
    errors (index: message)."""
    checks, failed, errors = 0, {}, {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        error = next((o for o in cell.outputs if o.output_type == "error"), None)
        has_assert = "assert " in cell.source
        checks += has_assert
        if error is not None:
            message = f"{error.ename}: {error.evalue}"[:300]
            (failed if has_assert else errors)[index] = message
    return {
        "assert_cells": checks,
        "assert_cells_held": checks - len(failed),
        "failed": failed,
        "errors": errors,
    }


def run_chapter(path: Path, timeout: int) -> dict:
    """Execute one notebook in a fresh kernel with the probe cell appended; its record
    for the JSON."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(probe_source(RESULTS.get(path.stem, {}))))
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    probe = nb.cells.pop()
    text = "".join(
        o.get("text", "")
        for o in merge_streams(probe.outputs)
        if o.output_type == "stream"
    )
    line = next((x for x in text.splitlines() if x.startswith(MARK)), None)
    found = (
        json.loads(line[len(MARK) :])
        if line
        else {"probe": "no output: the kernel died or the probe failed"}
    )
    return {"seconds": round(seconds, 1), **found, **cell_report(nb)}


def run_benchmark(args: list[str], json_path: Path) -> dict:
    """One benchmark script with ``--json``: its seconds, exit status and the figures it
    wrote."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *args, "--json", str(json_path)], cwd=ROOT)
    seconds = time.perf_counter() - start
    figures = (
        json.loads(json_path.read_text())
        if proc.returncode == 0 and json_path.exists()
        else None
    )
    return {
        "seconds": round(seconds, 1),
        "exit_status": proc.returncode,
        "figures": figures,
    }


def main(argv: list[str] | None = None) -> int:
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
        "--plan",
        action="store_true",
        help="print what would run, execute nothing (any machine)",
    )
    parser.add_argument("--no-benchmarks", action="store_true", help="chapters only")
    parser.add_argument("--json", type=Path, default=OUT)
    parser.add_argument(
        "--timeout", type=int, default=LIMIT_S, help="seconds allowed per cell"
    )
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.notebooks] or sorted(
        (ROOT / "notebooks").glob("*.ipynb")
    )
    if args.plan:
        for path in paths:
            print(
                f"chapter   {path.stem:<24} GPU budget; results read: "
                f"{', '.join(RESULTS.get(path.stem, {})) or '-'}"
            )
        for name, cmd in ({} if args.no_benchmarks else BENCHMARKS).items():
            print(f"benchmark {name:<24} python {' '.join(cmd)} --json ...")
        return 0
    import torch

    if not torch.cuda.is_available():
        print(
            "gpu-check needs a CUDA GPU, and torch.cuda.is_available() is False "
            "on this machine. "
            "On a CPU, `make test-full` re-checks the CPU budgets.",
            file=sys.stderr,
        )
        return 2
    os.environ["BOOK_QUICK"] = "0"  # the kernels inherit it: hp.run_mode() == "gpu"
    report = {
        "machine": {
            "device": torch.cuda.get_device_name(),
            "cuda": torch.version.cuda,
            **machine_facts(),
        },
        "limit_s": LIMIT_S,
        "chapters": {},
        "benchmarks": {},
    }
    start = time.perf_counter()
    for i, path in enumerate(paths, 1):
        print(f"[{i}/{len(paths)}] {path.stem} (GPU budget) ...", flush=True)
        record = report["chapters"][path.stem] = run_chapter(path, args.timeout)
        print(
            f"    {record['seconds']:.0f} s, peak GPU "
            f"{record.get('peak_gpu_gb') or 0:.2f} GB, "
            f"asserts {record['assert_cells_held']}/{record['assert_cells']} "
            f"cells held, {record.get('results')}",
            flush=True,
        )
    for name, cmd in ({} if args.no_benchmarks else BENCHMARKS).items():
        print(f"benchmark {name} ...", flush=True)
        report["benchmarks"][name] = run_benchmark(
            cmd, args.json.with_name(f"{name}-cuda.json")
        )
    report["total_seconds"] = round(time.perf_counter() - start, 1)
    report["within_limit"] = report["total_seconds"] <= LIMIT_S
    chapters = report["chapters"].values()
    report["all_held"] = all(
        not c["failed"] and not c["errors"] for c in chapters
    ) and all(b["exit_status"] == 0 for b in report["benchmarks"].values())
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    print(
        f"total {report['total_seconds']:.0f} s (limit {LIMIT_S} s); every check "
        f"held: {report['all_held']}; "
        f"written to {args.json}"
    )
    return 0 if report["all_held"] else 1


if __name__ == "__main__":
    sys.exit(main())
