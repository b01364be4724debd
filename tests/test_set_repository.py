"""make repository URL=...: a fork points the book at itself in one command."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import set_repository  # noqa: E402

OLD = set_repository.current_url(ROOT)
NEW = "https://github.com/a-teacher/cnn-course-2027"


@pytest.fixture
def fork(tmp_path: Path) -> Path:
    """A copy of the files the address lives in."""
    for name in ("_config.yml", "README.md", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("notebooks", "practice"):
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def _outputs(folder: Path) -> dict[str, list]:
    return {
        p.name: [c.get("outputs") for c in json.loads(p.read_text())["cells"]]
        for p in sorted(folder.glob("*/*.ipynb"))
    }


def test_every_place_gets_the_new_address_and_no_output_changes(fork, capsys):
    before = _outputs(fork)
    assert set_repository.main([NEW, "--root", str(fork)]) == 0
    assert set_repository.current_url(fork) == NEW
    texts = {p: p.read_text() for p in fork.rglob("*") if p.is_file()}
    assert not [p for p, t in texts.items() if OLD in t], "the old address is left"
    readme = texts[fork / "README.md"]
    assert "colab.research.google.com/github/a-teacher/cnn-course-2027/blob" in readme
    assert f'git+{NEW}"' in readme
    assert f'Repository = "{NEW}"' in texts[fork / "pyproject.toml"]
    for nb in sorted((fork / "notebooks").glob("*.ipynb")):
        setup = "".join(json.loads(nb.read_text())["cells"][1]["source"])
        assert f"git+{NEW}" in setup, nb.name
    assert _outputs(fork) == before
    assert "file(s) changed" in capsys.readouterr().out


def test_running_it_twice_changes_nothing_the_second_time(fork, capsys):
    set_repository.main([NEW, "--root", str(fork)])
    assert set_repository.plan(NEW, fork) == {}
    set_repository.main([NEW, "--root", str(fork)])
    assert "0 file(s) changed" in capsys.readouterr().out


def test_a_longer_name_that_starts_like_the_address_is_left_alone(fork):
    readme = fork / "README.md"
    readme.write_text(readme.read_text() + f"\nSee also {OLD}-archive.\n")
    set_repository.main([NEW, "--root", str(fork)])
    assert f"{OLD}-archive" in readme.read_text()


@pytest.mark.parametrize(
    "url",
    [
        "github.com/a/b",
        "https://github.com/a/b/",
        "https://github.com/a/b.git",
        "https://gitlab.com/a/b",
        "https://github.com/a",
        "https://github.com/a/b/tree/main",
    ],
)
def test_a_bad_address_is_refused_and_nothing_is_written(fork, url, capsys):
    before = {p: p.read_text() for p in fork.rglob("*") if p.is_file()}
    assert set_repository.main([url, "--root", str(fork)]) == 2
    assert "https://github.com/<owner>/<repo>" in capsys.readouterr().err
    assert {p: p.read_text() for p in fork.rglob("*") if p.is_file()} == before
