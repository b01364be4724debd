"""The practice edition: each chapter's exercises to solve, with the book's checks as
feedback. ``make practice`` writes ``practice/<chapter>.ipynb``; ``--check`` only
reports which are out of date (a test runs it).

How a chapter marks its exercises (cell metadata, invisible on the site and in Colab, so
marking a cell changes no stored output):

* ``"practice": {"role": "solution"}``: part of an answer (the folded answer prose, or
  code that computes the answer). Left out of the practice notebook.
* ``"practice": {"role": "solution", "stub": "<code>"}``: a solution code cell whose
  place is taken by an answer cell holding ``<code>``, the names the checks need with
  ``...`` for the student to fill in (``no_pool = ...  # your network``).
* ``"practice": {"role": "check"}``: a cell of ``assert``s that test the answer. Kept,
  inside ``with hp.checking("Exercise N"):``, which prints a verdict instead of a
  traceback (``helpers/practice.py``).

Everything else is copied unchanged, without outputs: the chapter up to its exercises
(so that the exercises can use its variables), each exercise's heading and question,
and any unmarked cell inside an exercise (set-up code the question needs). An exercise
is the cells from a ``### Exercise N`` heading after the ``## Exercises`` heading to the
next such heading. A chapter with no marked cell has no practice notebook.

The marking is checked before anything is written (``marking_problems``): every
exercise has an answer cell (a stub) and a check; a check reads no name that only the
solution binds unless the stub binds it too; and no cell left in the practice edition
(set-up code, a stub, another exercise's check) reads a name that only an answer binds,
since in the practice edition that answer is not there (a set-up cell of Exercise 4
that uses the network trained in Exercise 1's solution would crash for a student who
has not done Exercise 1). The names are read from the code (``ast``), conservatively:
a name read anywhere in a cell and bound nowhere in it counts as read; a name a stub
binds to real code rather than ``...`` (``x2 = X_test[pair]``) is given to the student,
so later cells may read it.

Why a script of our own on ``nbformat`` (the format's reference library, already
installed with nbval) rather than nbgrader: nbgrader's ``ClearSolutions`` works on
``### BEGIN SOLUTION`` markers written into the cells, which would show on the website,
and nbgrader brings a server extension and a database that the book does not need.
Its idea is kept: the instructor's notebook is the single source, the student's is
generated from it.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from set_repository import colab_form, current_url  # tools/, beside this script

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "notebooks"
PRACTICE = ROOT / "practice"
EXERCISES = re.compile(r"^##\s+Exercises\b", re.MULTILINE)
EXERCISE = re.compile(r"^###\s+Exercise\s+(\d+)\b", re.MULTILINE)
ANSWER_PROSE = "<summary>Answer</summary>"
ROLES = ("solution", "check")


@dataclass
class Exercise:
    """One exercise: its name and its cells (indices into the chapter's cells)."""

    name: str
    cells: list[int] = field(default_factory=list)


def _role(cell: NotebookNode) -> str | None:
    """The cell's practice role ("solution" or "check"), None if unmarked."""
    mark = cell.get("metadata", {}).get("practice")
    if mark is None:
        return None
    role = mark.get("role") if isinstance(mark, dict) else None
    if role not in ROLES:
        raise ValueError(f"practice role must be one of {ROLES}, got {mark!r}")
    return str(role)


def exercises(nb: NotebookNode, name: str = "notebook") -> list[Exercise]:
    """The chapter's exercises, checked for a complete marking.

    Raises ValueError (naming the cell) for a marked cell outside the exercises, an
    exercise without a check, an answer (``<summary>Answer</summary>``) not marked as a
    solution, or a stub on a markdown cell.
    """
    found: list[Exercise] = []
    in_exercises = False
    for i, cell in enumerate(nb.cells):
        text = cell.source
        role = _role(cell)
        if cell.cell_type == "markdown" and EXERCISES.search(text):
            in_exercises = True
        heading = EXERCISE.search(text) if cell.cell_type == "markdown" else None
        if in_exercises and heading:
            found.append(Exercise(f"Exercise {heading.group(1)}"))
        if role and not found:
            raise ValueError(f"{name}: cell {i} is marked {role!r} outside an exercise")
        if found:
            found[-1].cells.append(i)
        if role is None and found and ANSWER_PROSE in text:
            raise ValueError(
                f"{name}: cell {i} ({found[-1].name}) holds an answer but is not "
                "marked as a solution: it would be given away"
            )
        stub = cell.get("metadata", {}).get("practice", {}).get("stub")
        if stub is not None and cell.cell_type != "code":
            raise ValueError(f"{name}: cell {i} has a stub but is not a code cell")
    for ex in found:
        roles = [_role(nb.cells[i]) for i in ex.cells]
        if "check" not in roles:
            raise ValueError(f"{name}: {ex.name} has no cell marked as a check")
    return found


def _python(source: str) -> str:
    """A code cell's source without IPython's ``%`` and ``!`` lines (not Python)."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line
        for line in source.splitlines()
    )


def _top_level_binds(tree: ast.Module) -> set[str]:
    """Names a cell binds in the notebook's namespace (not inside functions, classes,
    lambdas or comprehensions)."""
    bound: set[str] = set()
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
    comprehensions = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, scopes):
            if not isinstance(node, ast.Lambda):
                bound.add(node.name)
            continue
        if isinstance(node, comprehensions):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        todo.extend(ast.iter_child_nodes(node))
    return bound


def names(source: str) -> tuple[set[str], set[str]]:
    """(names the code reads from outside, names it binds for later cells).

    Conservative: a name counts as read if it is loaded anywhere in the cell and bound
    nowhere in it (locals of a function included).
    """
    tree = ast.parse(_python(source))
    loaded, local = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else local).add(node.id)
        elif isinstance(node, ast.arg):
            local.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            local.add(node.name)
        elif isinstance(node, ast.alias):
            local.add((node.asname or node.name).split(".")[0])
    return loaded - local, _top_level_binds(tree)


def placeholders(stub: str) -> set[str]:
    """The names a stub leaves for the student: bound to a bare ``...`` or to a value
    built from a placeholder, functions whose body is only ``...`` (a docstring
    allowed), classes with such a method. Other names the stub binds are
    given (``x2 = X_test[pair]``) and later cells may use them."""
    found: set[str] = set()
    for node in ast.parse(stub).body:
        reads = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        if isinstance(node, ast.Assign) and (
            _is_ellipsis(node.value) or reads & found  # built from a placeholder
        ):
            for target in node.targets:
                elts = target.elts if isinstance(target, ast.Tuple) else [target]
                found |= {t.id for t in elts if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if _unwritten(node):
                found.add(node.name)
        elif isinstance(node, ast.ClassDef) and any(
            isinstance(b, (ast.FunctionDef, ast.AsyncFunctionDef)) and _unwritten(b)
            for b in node.body
        ):
            found.add(node.name)  # a class with a method still to write
    return found


def _unwritten(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether a function's body is only ``...`` (a docstring allowed)."""
    body = [b for b in function.body if not _is_docstring(b)]
    return all(isinstance(b, ast.Expr) and _is_ellipsis(b.value) for b in body)


def _unpacks_ellipsis(stub: str) -> bool:
    """Whether the stub has ``a, b = ...`` (a TypeError when it runs)."""
    return any(
        isinstance(node, ast.Assign)
        and _is_ellipsis(node.value)
        and any(isinstance(t, (ast.Tuple, ast.List)) for t in node.targets)
        for node in ast.walk(ast.parse(stub))
    )


def _is_ellipsis(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is Ellipsis


def _is_docstring(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def marking_problems(nb: NotebookNode, name: str = "notebook") -> list[str]:
    """What would break the practice edition of ``nb``: one message per problem.

    Every exercise needs a stub and a check; a check must get every name it reads from
    its own exercise's solution through a stub; no cell kept in the practice edition may
    read a name that only an answer (a solution cell, or a check, which may fail) binds.
    """
    problems: list[str] = []
    answer_binds: dict[str, str] = {}  # name -> the exercise whose answer binds it
    for ex in exercises(nb, name):
        solution_binds: set[str] = set()
        stub_binds: set[str] = set()
        for i in ex.cells:
            cell = nb.cells[i]
            if cell.cell_type != "code":
                continue
            role, where = _role(cell), f"{name}: cell {i} ({ex.name})"
            reads, binds = names(cell.source)
            if role == "solution":
                stub = cell.metadata["practice"].get("stub")
                given: set[str] = set()
                if stub is not None:
                    stub_reads, stub_names = names(stub)
                    stub_binds |= stub_names
                    given = stub_names - placeholders(stub)
                    if _unpacks_ellipsis(stub):
                        problems.append(
                            f"{where}: its stub unpacks `...` into several names, "
                            "which raises: give each name its own line"
                        )
                    for n in sorted(stub_reads & answer_binds.keys()):
                        problems.append(
                            f"{where}: its stub reads `{n}`, which only the answer of "
                            f"{answer_binds[n]} binds"
                        )
                solution_binds |= binds
                answer_binds.update(dict.fromkeys(binds - given, ex.name))
                for n in given:
                    answer_binds.pop(n, None)
            elif role == "check":
                for n in sorted(reads):
                    if n in solution_binds and n not in stub_binds:
                        problems.append(
                            f"{where}: the check reads `{n}`, which the solution "
                            "binds but no stub does: add it to the stub"
                        )
                    elif n in answer_binds and answer_binds[n] != ex.name:
                        problems.append(
                            f"{where}: the check reads `{n}`, which only the answer of "
                            f"{answer_binds[n]} binds"
                        )
                answer_binds.update(dict.fromkeys(binds, ex.name))
            else:
                for n in sorted(reads & answer_binds.keys()):
                    problems.append(
                        f"{where}: this cell is kept in the practice edition but "
                        f"reads `{n}`, which only the answer of {answer_binds[n]} "
                        "binds: mark it as part of that answer, or compute it here"
                    )
                for n in binds:
                    answer_binds.pop(n, None)
        if not stub_binds:
            problems.append(
                f"{name}: {ex.name} has no stub: give one solution code cell a "
                '"stub" (the names its checks read, with ...)'
            )
    return problems


def is_marked(nb: NotebookNode) -> bool:
    """Whether any cell carries a practice role (only such chapters get a notebook)."""
    return any(_role(c) for c in nb.cells)


def check_cell(source: str, exercise: str, cell_id: str) -> NotebookNode:
    """A chapter's check cell as the practice edition runs it: inside hp.checking."""
    body = textwrap.indent(source.rstrip("\n"), "    ")
    cell = nbformat.v4.new_code_cell(
        f"# Check your answer\nwith hp.checking({exercise!r}):\n{body}"
    )
    cell.id = cell_id
    return cell


def answer_cell(stub: str, exercise: str, cell_id: str) -> NotebookNode:
    """The cell where the student writes an answer: the stub, ``...`` still to fill."""
    cell = nbformat.v4.new_code_cell(
        f"# Your answer ({exercise}): replace each ... and run this cell\n{stub}"
    )
    cell.id = cell_id
    return cell


LINK = "Practise these exercises"  # the chapter's link to its practice notebook


def _copy(cell: NotebookNode) -> NotebookNode:
    """A copy of a chapter cell without outputs, counts or the practice mark (and, in
    markdown, without the paragraph that links to the practice notebook itself)."""
    copy = nbformat.from_dict(dict(cell))
    copy.metadata = {k: v for k, v in cell.metadata.items() if k != "practice"}
    if copy.cell_type == "code":
        copy.outputs, copy.execution_count = [], None
    elif LINK in copy.source:
        paragraphs = copy.source.split("\n\n")
        copy.source = "\n\n".join(p for p in paragraphs if LINK not in p)
    return copy


def _title(nb: NotebookNode) -> str:
    first = nb.cells[0].source.splitlines()[0] if nb.cells else ""
    return first.lstrip("# ").strip() or "this chapter"


def practice_notebook(nb: NotebookNode, chapter: str, colab: str) -> NotebookNode:
    """The practice edition of a chapter notebook (see the module docstring).

    ``chapter`` is the file's stem (``05_padding_and_stride``); ``colab`` the Colab
    address of the repository's files (``https://colab.research.google.com/github/o/r``),
    for the link to the solved chapter.
    """
    found = exercises(nb, chapter)
    problems = marking_problems(nb, chapter)
    if problems:
        raise ValueError("\n".join(problems))
    of = {i: ex for ex in found for i in ex.cells}
    out = nbformat.v4.new_notebook(metadata=dict(nb.metadata))
    intro = nbformat.v4.new_markdown_cell(
        f"# Practice: {_title(nb)}\n\n"
        f"This is the practice edition of the chapter "
        f"[{chapter}]({colab}/blob/main/notebooks/{chapter}.ipynb). Everything up to "
        "its exercises is the chapter itself: run it first, since the exercises use "
        "its variables. Each exercise keeps its question; write your answer in the "
        "cell marked *Your answer* (replace each `...`), run it, then run *Check "
        "your answer*: it runs the chapter's own checks and says what is still "
        "missing or wrong. The worked answers are in the chapter."
    )
    intro.id = "practice-intro"
    out.cells.append(intro)
    for i, cell in enumerate(nb.cells):
        role, ex = _role(cell), of.get(i)
        cell_id = cell.get("id", f"cell-{i}")
        if role == "check" and ex is not None:
            out.cells.append(check_cell(cell.source, ex.name, f"{cell_id}-check"))
        elif role == "solution" and ex is not None:
            stub = cell.metadata["practice"].get("stub")
            if stub is not None:
                out.cells.append(answer_cell(stub, ex.name, f"{cell_id}-answer"))
        else:
            out.cells.append(_copy(cell))
    return out


@dataclass
class CheckStep:
    """One run of a chapter's practice cells inside the chapter's own kernel (the test
    in ``tests/practice_plugin.py``): before the chapter's code cell number ``before``
    (nbval's ``Cell N``), run ``earlier_stubs`` (the exercise's answer cells that come
    before this group), then ``cells``, the group's answer cells (stubs) and wrapped
    checks, in order."""

    exercise: str
    before: int
    earlier_stubs: list[str]
    cells: list[tuple[str, str]]  # (role: "answer" or "check", source)


def check_steps(nb: NotebookNode) -> list[CheckStep]:
    """The practice cells of ``nb``, grouped as they run in the chapter's kernel.

    A group is a run of marked code cells with no unmarked code cell between them
    (set-up code runs once, as the chapter's). Every check of a group must say "not
    yet" there: with the stubs in place, and the state of the chapter up to that point.
    A chapter with no marked cell has none.
    """
    if not is_marked(nb):
        return []
    number = {
        i: n
        for n, i in enumerate(
            i for i, c in enumerate(nb.cells) if c.cell_type == "code"
        )
    }
    steps: list[CheckStep] = []
    for ex in exercises(nb):
        stubs: list[str] = []
        group: CheckStep | None = None
        for i in ex.cells:
            cell = nb.cells[i]
            if cell.cell_type != "code":
                continue
            role = _role(cell)
            if role is None:
                group = None
                continue
            if group is None:
                group = CheckStep(ex.name, number[i], list(stubs), [])
                steps.append(group)
            if role == "check":
                source = check_cell(cell.source, ex.name, "check").source
                group.cells.append(("check", source))
            elif (stub := cell.metadata["practice"].get("stub")) is not None:
                source = answer_cell(stub, ex.name, "answer").source
                group.cells.append(("answer", source))
                stubs.append(source)
    return [step for step in steps if step.cells]


def colab_base(root: Path = ROOT) -> str:
    """``https://colab.research.google.com/github/<owner>/<repo>`` from _config.yml."""
    return "https://" + colab_form(current_url(root))


def generate(root: Path = ROOT) -> dict[Path, str]:
    """Every practice notebook's path and text, from the chapters as they are now."""
    colab = colab_base(root)
    result: dict[Path, str] = {}
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if is_marked(nb):
            practice = practice_notebook(nb, path.stem, colab)
            nbformat.validate(practice)
            result[root / "practice" / path.name] = nbformat.writes(practice) + "\n"
    return result


def stale(root: Path = ROOT) -> list[str]:
    """What ``make practice`` would change: files to write, rewrite or delete."""
    wanted = generate(root)
    messages = [
        f"{p.relative_to(root)}: {'out of date' if p.exists() else 'missing'}"
        for p, text in wanted.items()
        if not p.exists() or p.read_text() != text
    ]
    messages += [
        f"{p.relative_to(root)}: its chapter has no marked exercises any more"
        for p in sorted((root / "practice").glob("*.ipynb"))
        if p not in wanted
    ]
    return messages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="report out-of-date files, write nothing"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = stale(args.root)
            for line in problems:
                print(line)
            if problems:
                print("run `make practice` and commit practice/", file=sys.stderr)
            return 1 if problems else 0
        wanted = generate(args.root)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    (args.root / "practice").mkdir(exist_ok=True)
    for path in sorted((args.root / "practice").glob("*.ipynb")):
        if path not in wanted:
            path.unlink()
            print(f"removed {path.relative_to(args.root)}")
    for path, text in wanted.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(args.root)}")
    print(f"{len(wanted)} practice notebook(s) up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
