"""The plugin that runs each chapter's practice checks in the chapter's nbval kernel
(tests/practice_plugin.py), on small chapters executed here. A sound exercise passes,
and the kernel's state is put back after each step (the stored outputs, random numbers
included, still match). The plugin fails, naming the step, when a check passes on its
stub or a practice cell crashes; and nbval fails when the book's answer fails its own
check."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
ANSWER = "<details><summary>Answer</summary>\n\nFour.\n\n</details>"


def exercise(number: int, stub: str, answer: str, check: str) -> list:
    """The cells of one exercise: question, answer prose, answer code, check."""
    cells = [
        nbformat.v4.new_markdown_cell(f"### Exercise {number}: sides\n\nHow many?"),
        nbformat.v4.new_markdown_cell(ANSWER),
        nbformat.v4.new_code_cell(answer),
        nbformat.v4.new_code_cell(check),
    ]
    cells[1].metadata["practice"] = {"role": "solution"}
    cells[2].metadata["practice"] = {"role": "solution", "stub": stub}
    cells[3].metadata["practice"] = {"role": "check"}
    return cells


def run(pytester: pytest.Pytester, *exercises: list) -> str:
    """Execute a chapter of these exercises (then a cell that prints a random number
    and `n`), store it, and run it under nbval with the plugin: pytest's report."""
    setup = "import random\n\nimport helpers as hp\n\nrandom.seed(0)\nn = 4"
    cells = [
        nbformat.v4.new_code_cell(setup),
        nbformat.v4.new_markdown_cell("## Exercises"),
        *(cell for ex in exercises for cell in ex),
        nbformat.v4.new_code_cell("print(random.random(), n)"),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    nbformat.write(nb, pytester.path / "chapter.ipynb")
    (pytester.path / "conftest.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
        'pytest_plugins = ["tests.practice_plugin"]\n'
    )
    result = pytester.runpytest_subprocess(
        "--nbval",
        "--nbval-current-env",
        "-p",
        "no:cacheprovider",
        "-v",
        "chapter.ipynb",
    )
    return result.stdout.str()


def test_a_sound_exercise_passes_and_the_kernel_state_is_put_back(pytester):
    out = run(
        pytester,
        exercise(
            1,
            stub="sides = ...  # a number\nn = 0  # a stub may rebind a name",
            answer="sides = n",
            check="noise = random.random()  # draws a number\nassert sides == n",
        ),
    )
    assert "practice Exercise 1, before Cell 1 PASSED" in out, out
    assert "Cell 3 PASSED" in out, out  # the random number and n, as stored
    assert " passed" in out and "failed" not in out, out


def test_weak_checks_crashing_stubs_and_wrong_answers_fail(pytester):
    out = run(
        pytester,
        exercise(1, stub="sides = ...", answer="sides = n", check="assert n == 4"),
        exercise(2, stub="sides = undefined", answer="sides = n", check="assert sides"),
        exercise(
            3, stub="sides = ...", answer="sides = n + 1", check="assert sides == n"
        ),
    )
    assert "practice Exercise 1, before Cell 1 FAILED" in out, out
    assert "passes (or says nothing) with the stub in place" in out
    assert "practice Exercise 2, before Cell 3 FAILED" in out
    assert "its answer cell raised NameError: name 'undefined'" in out
    assert "practice Exercise 3, before Cell 5 PASSED" in out  # its stub: not yet
    assert "Cell 6 FAILED" in out  # the book's own answer fails its check, under nbval
    assert "3 failed" in out
