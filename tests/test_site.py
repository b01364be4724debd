"""The website's Sphinx extension (book/_ext/book_site.py): marks as callouts, local
MathJax."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
book_site = pytest.importorskip("book_site")


@pytest.mark.parametrize(
    "text, kind",
    [
        ("📝 Lecture. A kernel slides.", "lecture"),
        ("📖 Textbook. LeNet.", "textbook"),
        ("🗣️ In class. Read the error.", "in-class"),
        ("  ✍️ Our note. Same kernel.", "note"),
        ("🔬 Experiment. We measure.", "experiment"),
        ("❓ Question. Why?", "question"),
    ],
)
def test_marks_are_recognised(text, kind):
    assert book_site.mark_kind(text) == kind


@pytest.mark.parametrize(
    "text", ["An ordinary quotation.", "", "1998, LeNet-5.", "🚀 launch"]
)
def test_ordinary_quotes_are_left_alone(text):
    assert book_site.mark_kind(text) is None


def test_mathjax_from_the_cdn_unless_a_folder_is_named(monkeypatch):
    monkeypatch.delenv("BOOK_MATHJAX", raising=False)
    assert book_site.mathjax_folder() is None


def test_a_local_mathjax_folder_must_hold_the_bundle(monkeypatch, tmp_path):
    monkeypatch.setenv("BOOK_MATHJAX", str(tmp_path))
    with pytest.raises(Exception, match=r"tex-mml-chtml\.js"):
        book_site.mathjax_folder()
    (tmp_path / "tex-mml-chtml.js").write_text("// MathJax")
    assert book_site.mathjax_folder() == tmp_path.resolve()
