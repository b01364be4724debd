"""Point the book at another GitHub repository: ``make repository URL=https://github.com/o/r``.

A teacher who forks the course has to change the repository address wherever it
is written: ``_config.yml`` (the site's repository and Colab buttons), the setup
cell of every chapter and practice notebook (Colab installs ``helpers`` from it),
the package metadata in ``pyproject.toml`` and the README's Colab and ``pip
install`` lines. This script reads the current address from ``_config.yml`` and
replaces it, and its Colab form (``colab.research.google.com/github/<owner>/<repo>``),
in exactly those places.

Notebooks are edited in their cells' sources only; stored outputs are never touched
(the script checks that, and writes nothing if any output would change). Running it
twice with the same address changes nothing the second time.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
GITHUB = re.compile(r"https://github\.com/([A-Za-z0-9][A-Za-z0-9-]*)/([A-Za-z0-9._-]+)")
CONFIG_URL = re.compile(r"^(repository:\s*\n\s+url:\s*)(\S+)", re.MULTILINE)


def parse_url(url: str) -> tuple[str, str]:
    """``https://github.com/<owner>/<repo>`` -> (owner, repo); ValueError otherwise."""
    match = GITHUB.fullmatch(url)
    if not match or match.group(2).endswith(".git") or match.group(2) in {".", ".."}:
        raise ValueError(
            f"not a GitHub repository address: {url!r}. Write it as "
            "https://github.com/<owner>/<repo>, without a trailing slash or '.git'."
        )
    return match.group(1), match.group(2)


def current_url(root: Path = ROOT) -> str:
    """The address written in ``_config.yml`` (``repository: url:``)."""
    match = CONFIG_URL.search((root / "_config.yml").read_text())
    if not match:
        raise ValueError(f"{root / '_config.yml'} has no 'repository: url:' entry")
    return match.group(2)


def notebooks(root: Path = ROOT) -> list[Path]:
    """Every notebook that carries the address: the chapters and the practice ones
    (subfolders of ``practice/`` included)."""
    return sorted((root / "notebooks").glob("*.ipynb")) + sorted(
        (root / "practice").rglob("*.ipynb")
    )


def colab_form(url: str) -> str:
    """``https://github.com/o/r`` -> ``colab.research.google.com/github/o/r``, the
    address Colab opens the repository's notebooks from (without the scheme)."""
    return url.replace("https://github.com/", "colab.research.google.com/github/")


def _replace(text: str, old: str, new: str) -> str:
    """``text`` with the address ``old`` and its Colab form replaced by ``new``'s."""
    old_colab, new_colab = colab_form(old), colab_form(new)
    # The address must end where the repository name ends: cnn-book/cnn-book must not
    # match inside cnn-book/cnn-book-2.
    end = r"(?![A-Za-z0-9._-])"
    text = re.sub(re.escape(old_colab) + end, new_colab, text)
    return re.sub(re.escape(old) + end, new, text)


def _set_metadata(text: str, new: str) -> str:
    """``pyproject.toml`` with ``[project.urls] Repository = new`` (added if absent)."""
    line = f'Repository = "{new}"'
    if re.search(r"^Repository = .*$", text, re.MULTILINE):
        return re.sub(r"^Repository = .*$", line, text, flags=re.MULTILINE)
    if "[project.urls]" in text:
        return text.replace("[project.urls]\n", f"[project.urls]\n{line}\n", 1)
    return text.replace(
        "[project.optional-dependencies]",
        f"[project.urls]\n{line}\n\n[project.optional-dependencies]",
        1,
    )


def plan(new: str, root: Path = ROOT) -> dict[Path, str]:
    """The new content of every file that changes: {path: text}."""
    parse_url(new)
    old = current_url(root)
    changed: dict[Path, str] = {}
    config = root / "_config.yml"
    text = config.read_text()
    changed[config] = CONFIG_URL.sub(lambda m: m.group(1) + new, text, count=1)
    readme = root / "README.md"
    changed[readme] = _replace(readme.read_text(), old, new)
    pyproject = root / "pyproject.toml"
    changed[pyproject] = _set_metadata(pyproject.read_text(), new)
    for path in notebooks(root):
        nb = nbformat.read(path, as_version=4)
        before = copy.deepcopy([c.get("outputs") for c in nb.cells])
        for cell in nb.cells:
            cell.source = _replace(cell.source, old, new)
        if [c.get("outputs") for c in nb.cells] != before:  # pragma: no cover (a guard)
            raise RuntimeError(f"{path}: an output would change")
        changed[path] = nbformat.writes(nb) + "\n"
    return {p: t for p, t in changed.items() if p.read_text() != t}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="https://github.com/<owner>/<repo>")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        changes = plan(args.url, args.root)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path, text in changes.items():
        path.write_text(text)
        print(f"updated {path.relative_to(args.root)}")
    old = current_url(args.root)
    print(f"{len(changes)} file(s) changed; the repository is now {old}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
