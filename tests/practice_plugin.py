"""The practice edition's checks, run with the stubs in place inside each chapter's
nbval kernel (a pytest plugin, loaded by the repository's conftest.py).

Executing every practice notebook on its own would run each chapter a second time
(minutes of training in chapters 08 to 10). Instead, while ``pytest --nbval`` runs a
chapter, an extra test item runs just before each group of marked cells
(``tools/practice.py: check_steps``): the practice notebook's answer cells, with their
``...`` stubs, and its checks wrapped in ``hp.checking``, in the kernel's state at that
point, which is the practice notebook's state there, since the chapter and its practice
edition share every other cell (``tools/practice.py: marking_problems`` rejects a kept
cell that reads an answer). Every check must then print "not yet", and no cell may
raise. Afterwards the item puts the kernel's namespace and random-number generators back
as they were, and the chapter goes on with its own answers and checks, which nbval
compares with the stored outputs: that is the other direction, the checks passing with
the book's answers in place.
"""

from __future__ import annotations

import sys
from pathlib import Path
from queue import Empty
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import practice  # noqa: E402

TIMEOUT_S = 600

# Run in the kernel before and after a step: the namespace (a shallow copy: names bound
# by the step are removed or rebound) and every random-number generator a chapter uses.
SNAPSHOT = """\
def _practice_snapshot():
    import random, numpy, torch
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    rngs = (random.getstate(), numpy.random.get_state(), torch.get_rng_state(), cuda)
    return dict(globals()), rngs
_practice_saved = _practice_snapshot()
"""
RESTORE = """\
def _practice_restore():
    import random, numpy, torch
    import matplotlib.pyplot as plt
    g = globals()
    names, (py, np_, cpu, cuda) = g.pop("_practice_saved")
    for k in [k for k in g if k not in names]:
        del g[k]
    g.update(names)
    for k in [k for k in g if k.startswith("_practice")]:
        del g[k]
    random.setstate(py)
    numpy.random.set_state(np_)
    torch.set_rng_state(cpu)
    if cuda is not None:
        torch.cuda.set_rng_state_all(cuda)
    plt.close("all")
_practice_restore()
"""


def run_in_kernel(kernel: Any, source: str) -> tuple[str, str | None]:
    """Execute ``source`` in nbval's kernel: (what it printed, its error or None)."""
    msg_id = kernel.execute_cell_input(source, allow_stdin=False)
    kernel.await_reply(msg_id, timeout=TIMEOUT_S)
    printed, error = [], None
    while True:
        try:
            msg = kernel.get_message(stream="iopub", timeout=TIMEOUT_S)
        except Empty:  # pragma: no cover - a kernel that stopped talking
            return "".join(printed), "no reply from the kernel"
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status" and content["execution_state"] == "idle":
            return "".join(printed), error
        if kind == "stream":
            printed.append(content["text"])
        elif kind == "error":
            error = f"{content['ename']}: {content['evalue']}"


class PracticeStep(pytest.Item):
    """One group of practice cells, run with its stubs inside the chapter's kernel."""

    def __init__(self, *, step: practice.CheckStep, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.step = step

    def runtest(self) -> None:
        kernel = self.parent.kernel
        if kernel is None or not kernel.is_alive():
            pytest.fail("the chapter's kernel is not running")
        _, error = run_in_kernel(kernel, SNAPSHOT)
        assert error is None, f"could not save the kernel's state: {error}"
        outcomes = []
        try:
            for source in self.step.earlier_stubs:
                outcomes.append(
                    ("earlier answer cell", source, *run_in_kernel(kernel, source))
                )
            for role, source in self.step.cells:
                outcomes.append((role, source, *run_in_kernel(kernel, source)))
        finally:
            _, restored = run_in_kernel(kernel, RESTORE)
        assert restored is None, f"could not restore the kernel's state: {restored}"
        for role, source, printed, error in outcomes:
            assert error is None, (
                f"the practice edition crashes: its {role} cell raised {error}\n"
                f"{source}"
            )
            if role == "check":
                assert "not yet" in printed and "every check passes" not in printed, (
                    "a check of the practice edition passes (or says nothing) with "
                    f"the stub in place:\n{source}\n--- printed:\n{printed}"
                )

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name


def add_practice_steps(items: list[pytest.Item]) -> None:
    """Insert a PracticeStep before each group of marked cells of each chapter."""
    by_file: dict[Any, dict[int, pytest.Item]] = {}
    for item in items:
        number = getattr(item, "cell_num", None)
        if number is not None and getattr(item.parent, "nb", None) is not None:
            by_file.setdefault(item.parent, {})[number] = item
    for notebook, cells in by_file.items():
        for step in practice.check_steps(notebook.nb):
            target = cells.get(step.before)
            if target is None:  # that cell was deselected
                continue
            name = f"practice {step.exercise}, before Cell {step.before}"
            new = PracticeStep.from_parent(notebook, name=name, step=step)
            items.insert(items.index(target), new)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    add_practice_steps(items)
