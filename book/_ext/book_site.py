"""Sphinx extension for this book's website (loaded through ``_config.yml``'s
``local_extensions``).

1. **Marks as callouts.** A chapter's remarks are plain Markdown block quotes that
   open with a mark (``> 📝 **Lecture.** ...``), so they read the same in Jupyter and
   Colab. On the site each such block quote gets the classes ``book-mark
   book-mark-<kind>``, which ``_static/book.css`` styles as a callout.
2. **MathJax without a CDN.** With the environment variable ``BOOK_MATHJAX`` set to a
   folder of MathJax 3's browser build (the ``es5`` folder of the npm package
   ``mathjax@3``: ``make mathjax`` installs one), that folder is copied into the site as
   ``_static/mathjax`` and the pages load MathJax from there. Unset, the pages load it
   from Sphinx's default CDN.
3. **A clean browser console** (what tests/browser checks): sphinx-thebe adds its
   inline configuration script twice under Jupyter Book (``const THEBE_JS_URL`` declared
   twice, a SyntaxError on every page), so each page keeps one copy of every script; and
   a first-time visitor's colour mode defaults to ``auto`` instead of an empty string,
   which the theme reports as an error.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.transforms import SphinxTransform

# Mark → kind; a block quote whose first word is one of these becomes a callout of that
# kind.
MARKS = {
    "📝": "lecture",
    "📖": "textbook",
    "🗣️": "in-class",
    "🗣": "in-class",
    "✍️": "note",
    "✍": "note",
    "🔬": "experiment",
    "❓": "question",
}
MATHJAX_SCRIPT = "tex-mml-chtml.js"  # Sphinx 7's default MathJax 3 bundle


def mark_kind(text: str) -> str | None:
    """The kind of remark a block quote's text opens with, or None for an ordinary
    quote."""
    words = text.lstrip().split(maxsplit=1)
    return MARKS.get(words[0]) if words else None


class MarkCallouts(SphinxTransform):
    """Add ``book-mark book-mark-<kind>`` to block quotes that open with a mark."""

    default_priority = 700

    def apply(self, **kwargs) -> None:
        for quote in self.document.findall(nodes.block_quote):
            kind = mark_kind(quote.astext())
            if kind:
                quote["classes"] += ["book-mark", f"book-mark-{kind}"]


def mathjax_folder() -> Path | None:
    """The local MathJax folder named by BOOK_MATHJAX, checked; None when unset."""
    value = os.environ.get("BOOK_MATHJAX", "").strip()
    if not value:
        return None
    folder = Path(value).expanduser().resolve()
    if not (folder / MATHJAX_SCRIPT).is_file():
        raise ExtensionError(
            f"BOOK_MATHJAX={value!r} must be MathJax 3's es5 folder holding "
            f"{MATHJAX_SCRIPT} "
            "(e.g. node_modules/mathjax/es5; `make mathjax` installs one into "
            ".cache/mathjax)"
        )
    return folder


def use_local_mathjax(app: Sphinx, config: Config) -> None:
    if mathjax_folder() is not None:
        config.mathjax_path = (
            f"mathjax/{MATHJAX_SCRIPT}"  # relative: served from _static/
        )


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    folder = mathjax_folder()
    if exception is None and folder is not None and app.builder.format == "html":
        shutil.copytree(
            folder, Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True
        )


def _script_key(script) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    # an inline script's is None or ""
    filename = getattr(script, "filename", script) or ""
    return str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items()))


def dedupe_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    """Keep the first of identical script entries (same file or inline body, same
    attributes)."""
    scripts, seen = [], set()
    for script in context.get("script_files", []):
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            scripts.append(script)
    context["script_files"] = scripts


def default_colour_mode(app: Sphinx, config: Config) -> None:
    config.html_context = {"default_mode": "auto", **(config.html_context or {})}


def setup(app: Sphinx) -> dict:
    app.add_transform(MarkCallouts)
    app.connect("config-inited", default_colour_mode)
    app.connect("html-page-context", dedupe_scripts)
    app.connect("config-inited", use_local_mathjax)
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
