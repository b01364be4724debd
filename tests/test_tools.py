"""The scripts that re-check the book: make test-full (tools/test_full.py) and make
gpu-check (tools/gpu_check.py)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import gpu_check  # noqa: E402
import run_notebooks  # noqa: E402
import test_full  # noqa: E402


def notebook(tmp_path: Path, name: str, *cells: tuple[str, str | None]) -> Path:
    """A notebook of code cells (source, stored stdout or None): tmp_path/name.ipynb."""
    nb = nbformat.v4.new_notebook()
    for count, (source, stdout) in enumerate(cells, 1):
        cell = nbformat.v4.new_code_cell(source, execution_count=count)
        if stdout is not None:
            cell.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text=stdout)
            ]
        nb.cells.append(cell)
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def test_full_run_reports_pass_fail_time_and_peak_memory(tmp_path):
    good = notebook(tmp_path, "good", ("print(6 * 7)", "42\n"))
    wrong_output = notebook(tmp_path, "wrong", ("print(6 * 7)", "41\n"))
    failing_assert = notebook(tmp_path, "failing", ("assert 6 * 7 == 41", None))
    passed, seconds, peak_gb = test_full.run_nbval(good)
    # a kernel takes tens of MB at least
    assert passed and 0 < seconds < 120 and 0.01 < peak_gb < 8
    assert not test_full.run_nbval(wrong_output)[0]  # nbval compares the stored output
    assert not test_full.run_nbval(failing_assert)[0]


def test_full_run_sets_the_full_budget(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_QUICK", "1")  # as CI sets it: test-full must override it
    path = notebook(
        tmp_path, "mode", ("import os; print(os.environ['BOOK_QUICK'])", "0\n")
    )
    assert test_full.run_nbval(path)[0]


def test_runs_are_recorded_with_their_evidence(tmp_path, monkeypatch):
    monkeypatch.setattr(run_notebooks, "TIMES", tmp_path / "times.json")
    run_notebooks.record_run(
        Path("notebooks/08_lenet.ipynb"),
        "full",
        12.34,
        1.234,
        passed=False,
        run="make test-full",
    )
    entry = json.loads((tmp_path / "times.json").read_text())["08_lenet"]["full"]
    assert (
        entry["seconds"] == 12.3
        and entry["peak_gb"] == 1.23
        and entry["passed"] is False
    )
    assert entry["run"] == "make test-full" and entry["budget_s"] == 900
    assert (
        set(run_notebooks.FACTS) <= entry.keys()
        and entry["threads"] == torch.get_num_threads()
    )
    assert entry["commit"] != "unknown" and len(entry["date"]) == 10


def test_gpu_check_refuses_a_machine_without_cuda(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert (
        gpu_check.main(
            [str(ROOT / "notebooks" / "02_core_layers.ipynb"), "--no-benchmarks"]
        )
        == 2
    )
    assert "gpu-check needs a CUDA GPU" in capsys.readouterr().err


def test_gpu_check_plan_lists_every_chapter_and_benchmark(capsys):
    assert gpu_check.main(["--plan"]) == 0
    out = capsys.readouterr().out
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        assert f"chapter   {path.stem}" in out
    assert (
        "benchmarks/trainers.py --device cuda" in out
        and "benchmarks/memory.py --device cuda" in out
    )


def test_gpu_check_records_asserts_errors_and_results(tmp_path, monkeypatch):
    monkeypatch.setitem(
        gpu_check.RESULTS, "probe", {"answer": "answer / 2", "missing": "not_defined"}
    )
    path = notebook(
        tmp_path,
        "probe",
        ("answer = 84", None),
        ("assert answer == 84", None),
        ("assert answer == 41, 'wrong'", None),
        ("1 / 0", None),
        ("print('still running')", None),
    )
    record = gpu_check.run_chapter(path, timeout=60)
    assert record["assert_cells"] == 2 and record["assert_cells_held"] == 1
    assert record["failed"] == {2: "AssertionError: wrong"}
    assert record["errors"] == {3: "ZeroDivisionError: division by zero"}
    assert record["results"]["answer"] == 42.0 and record["results"][
        "missing"
    ].startswith("unavailable: NameError")
    # no CUDA: no GPU peak
    assert record["peak_gpu_gb"] is None or not torch.cuda.is_available()


@pytest.mark.parametrize("chapter", sorted(gpu_check.RESULTS))
def test_gpu_check_reads_names_that_the_chapter_defines(chapter):
    import ast

    nb = nbformat.read(ROOT / "notebooks" / f"{chapter}.ipynb", as_version=4)
    assigned = set()
    for cell in nb.cells:
        if cell.cell_type == "code":
            # IPython magics
            source = re.sub(r"^(\s*)[%!].*$", r"\1pass", cell.source, flags=re.M)
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    assigned.add(node.id)
    for expression in gpu_check.RESULTS[chapter].values():
        names = {
            n.id for n in ast.walk(ast.parse(expression)) if isinstance(n, ast.Name)
        }
        assert names <= assigned, (chapter, expression, names - assigned)
