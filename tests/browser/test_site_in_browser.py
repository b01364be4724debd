"""Every page of the built website, opened in headless Chromium (issue 11).

    make site-test          # builds the site with a local MathJax, then runs this file

For each HTML page of ``_build/html`` (served on localhost by a server that records
every request it could not answer): no console errors, no missing assets, math typeset
by MathJax (``mjx-container`` elements, no raw ``\\(``), every image loaded, the Colab
launch link on every chapter, and every internal link (file and ``#anchor``) resolving.
Screenshots of the home page and one chapter at desktop and phone widths go to
``_build/screenshots``.

Pages with animations (``hp.animate_*``, issue 23): every player is there, stepping and
playing change the frame, and the page's weight (its HTML, frames included, plus the
images it loads) and each animation's size stay within a budget; the weights are printed
and written to ``_build/screenshots/page-weights.json``, and one animation is
photographed at both widths.

Needs Debian's ``chromium`` and ``chromium-driver`` (no browser is downloaded) and a
site built with ``BOOK_MATHJAX`` (``make site-test`` does both builds; CI installs the
packages).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("BOOK_SITE", ROOT / "_build" / "html"))
SHOTS = ROOT / "_build" / "screenshots"
# Debian's packages by default; BOOK_CHROMIUM / BOOK_CHROMEDRIVER name another installed
# pair.
CHROMIUM = (
    os.environ.get("BOOK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
)
CHROMEDRIVER = (
    os.environ.get("BOOK_CHROMEDRIVER")
    or shutil.which("chromedriver")
    or "/usr/bin/chromedriver"
)
PAGES = (
    sorted(
        p.relative_to(SITE).as_posix()
        for p in SITE.rglob("*.html")
        if "_static" not in p.parts
    )
    if SITE.is_dir()
    else []
)
ANIMATED = [
    p for p in PAGES if 'class="cnn-anim"' in (SITE / p).read_text(encoding="utf-8")
]
# bytes per animation (helpers.animate.MAX_BYTES): its frames, player and caption
ANIMATION_BUDGET = 1_000_000
# bytes per page with animations: the HTML, frames included, and its images
PAGE_BUDGET = 1_000_000

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed"
)
if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    pytest.fail(
        f"no Chromium at {CHROMIUM} or ChromeDriver at {CHROMEDRIVER}: apt-get "
        "install chromium chromium-driver",
        pytrace=False,
    )
if not PAGES:
    pytest.fail(
        f"no built site at {SITE}: run `make site-test` (or `make book`) first",
        pytrace=False,
    )


class _Handler(http.server.SimpleHTTPRequestHandler):
    # shared by every request handler on purpose: the test reads and clears it
    failures: ClassVar[list[str]] = []

    def log_message(self, *args) -> None:  # quiet
        pass

    def send_error(self, code, message=None, explain=None):
        type(self).failures.append(f"{code} {unquote(self.path)}")
        super().send_error(code, message, explain)


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(_Handler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.service import Service

    # never let Selenium Manager fetch anything
    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _open(browser, url: str) -> None:
    """Load a page and wait until MathJax (if the page loads it) has typeset it all."""
    browser.get(url)
    browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const wait = (n) => {"
        "  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {"
        "    MathJax.startup.promise.then(() => done(true), () => done(false)); "
        "return; }"
        '  if (n <= 0 || !document.querySelector(\'script[src*="mathjax"], '
        'script[src*="tex-mml"]\')) { done(null); return; }'
        "  setTimeout(() => wait(n - 1), 100); };"
        "if (document.readyState === 'complete') wait(50); else "
        "window.addEventListener('load', () => wait(50));"
    )


def _ids(path: Path) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("page", PAGES)
def test_page_in_browser(page, server, browser):
    _Handler.failures.clear()
    browser.get_log("browser")  # drop what earlier pages logged
    _open(browser, urljoin(server, page))

    errors = [
        e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"
    ]
    assert not errors, f"{page}: console errors {errors}"
    assert not _Handler.failures, (
        f"{page}: requests the server could not answer {_Handler.failures}"
    )

    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.currentSrc || i.src, "
        "i.complete && i.naturalWidth > 0]);"
    )
    broken = [src for src, ok in images if not ok]
    assert not broken, f"{page}: images that did not load {broken}"

    untypeset = browser.execute_script(
        "return Array.from(document.querySelectorAll('.math')).filter(m => "
        "!m.querySelector('mjx-container'))"
        ".map(m => m.textContent.slice(0, 60));"
    )
    assert not untypeset, f"{page}: math that MathJax did not typeset {untypeset[:5]}"
    # the page's prose without its code: no TeX delimiters may be left
    prose = browser.execute_script(
        "return Array.from(document.querySelectorAll('main p, main li, main td, "
        "main dd')).map(e => {"
        "  const c = e.cloneNode(true); c.querySelectorAll('code, pre, "
        "mjx-container').forEach(x => x.remove());"
        "  return c.textContent; }).join('\\n');"
    )
    raw = [
        line
        for line in prose.splitlines()
        if "\\(" in line or "\\[" in line or "$" in line
    ]
    assert not raw, f"{page}: raw TeX in the prose {raw[:3]}"

    if page.startswith("notebooks/"):
        colab = browser.execute_script(
            "return "
            "Array.from(document.querySelectorAll("
            "'a[href*=\"colab.research.google.com\"]')).map(a "
            "=> a.href);"
        )
        assert any(page.replace(".html", ".ipynb") in href for href in colab), (
            f"{page}: no Colab launch link {colab}"
        )

    links = browser.execute_script(
        "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href);"
    )
    for href in links:
        parts = urlsplit(href)
        if not href.startswith(server) or parts.path.endswith("/_sources/"):
            continue
        target = SITE / unquote(parts.path[1:])
        if target.is_dir():
            target = target / "index.html"
        assert target.exists(), f"{page}: broken internal link {href}"
        if parts.fragment and target.suffix == ".html":
            assert unquote(parts.fragment) in _ids(target), (
                f"{page}: link to a missing anchor {href}"
            )


@pytest.mark.parametrize(
    "width, height, label", [(1280, 900, "desktop"), (390, 844, "phone")]
)
@pytest.mark.parametrize("page", ["book/intro.html", "notebooks/02_core_layers.html"])
def test_screenshots(page, width, height, label, server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(width, height)
    try:
        _open(browser, urljoin(server, page))
        path = SHOTS / f"{Path(page).stem}-{label}.png"
        assert browser.save_screenshot(str(path)) and path.stat().st_size > 10_000, path
    finally:
        browser.set_window_size(1280, 900)


def test_marks_are_drawn_as_callouts(server, browser):
    """Each kind of remark gets its own coloured left border; a screenshot shows the
    first few."""
    _open(browser, urljoin(server, "notebooks/02_core_layers.html"))
    borders = browser.execute_script(
        "const out = {}; "
        "document.querySelectorAll('blockquote.book-mark').forEach(q => {"
        "  const kind = Array.from(q.classList).find(c => c.startsWith('book-mark-'));"
        "  out[kind] = getComputedStyle(q).borderLeftColor; }); return out;"
    )
    assert {"book-mark-lecture", "book-mark-in-class", "book-mark-note"} <= set(
        borders
    ), borders
    assert len(set(borders.values())) == len(borders), (
        f"two kinds share a colour: {borders}"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    first = browser.find_element("css selector", "blockquote.book-mark")
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'});", first)
    assert browser.save_screenshot(str(SHOTS / "marks-desktop.png"))


def test_code_column_fits_the_line_length(server, browser):
    # STYLE.md: code fits the column. In a 1280-pixel window a code cell shows at least
    # as many characters as ruff's line length (pyproject.toml), so no chapter's code
    # scrolls sideways there.
    limit = int(
        re.search(
            r"^line-length\s*=\s*(\d+)", (ROOT / "pyproject.toml").read_text(), re.M
        ).group(1)
    )
    browser.set_window_size(1280, 900)
    _open(browser, urljoin(server, "notebooks/08_lenet.html"))
    fits = browser.execute_script(
        "const pre = document.querySelector('div.cell_input div.highlight pre'), "
        "cs = getComputedStyle(pre);"
        "const probe = document.createElement('span'); probe.textContent = "
        "'x'.repeat(100);"
        "probe.style.font = cs.font; probe.style.whiteSpace = 'pre'; "
        "probe.style.visibility = 'hidden';"
        "pre.appendChild(probe); const width = "
        "probe.getBoundingClientRect().width / 100; probe.remove();"
        "return Math.floor((pre.clientWidth - parseFloat(cs.paddingLeft) - "
        "parseFloat(cs.paddingRight)) / width);"
    )
    assert fits >= limit, (
        f"a code cell shows {fits} characters at 1280 px, the line length is {limit}"
    )


def test_every_mechanics_chapter_has_an_animation():
    chapters = {
        "02_core_layers",
        "04_convolutions_for_images",
        "05_padding_and_stride",
        "06_channels",
        "07_pooling",
    }
    assert chapters <= {Path(p).stem for p in ANIMATED}, ANIMATED


def _weight(browser, server: str, page: str) -> int:
    """Bytes of a page's HTML plus the local images it loaded (frames are inside the
    HTML)."""
    sources = browser.execute_script(
        "return Array.from(document.images).map(i => i.currentSrc || i.src);"
    )
    files = {
        SITE / unquote(urlsplit(src).path[1:])
        for src in sources
        if src.startswith(server)
    }
    return (SITE / page).stat().st_size + sum(
        f.stat().st_size for f in files if f.is_file()
    )


@pytest.mark.parametrize("page", ANIMATED)
def test_animations_play_and_pages_stay_light(page, server, browser):
    _Handler.failures.clear()
    browser.get_log("browser")
    _open(browser, urljoin(server, page))

    def click(element) -> None:
        browser.execute_script("arguments[0].click();", element)

    players = browser.find_elements("css selector", "figure.cnn-anim")
    assert players, f"{page}: no animation player"
    for player in players:
        img, count = (
            player.find_element("css selector", "img"),
            player.find_element("css selector", ".cnn-anim-count"),
        )

        def button(step: str, player=player):
            return player.find_element("css selector", f"[data-step={step}]")

        n = int(count.text.split("/")[1])
        first = img.get_attribute("src")
        assert browser.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth > 0;", img
        )
        assert count.text == f"1 / {n}" and player.find_element(
            "css selector", "figcaption"
        ).text.startswith("Animation:")
        click(button("next"))
        assert img.get_attribute("src") != first and count.text == f"2 / {n}", (
            f"{page}: stepping did not change the frame"
        )
        assert img.get_attribute("alt").startswith(f"Step 2 of {n}: output")
        click(button("last"))
        assert count.text == f"{n} / {n}"
        click(button("first"))
        assert img.get_attribute("src") == first and count.text == f"1 / {n}"
        click(button("play"))
        # one step at 1.5 frames per second
        browser.execute_script("return new Promise(r => setTimeout(r, 900));")
        click(button("play"))  # pause
        assert (
            count.text != f"1 / {n}"
            and button("play").get_attribute("aria-label") == "Play"
        ), f"{page}: Play did not advance"
    errors = [
        e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"
    ]
    assert not errors, f"{page}: console errors {errors}"
    assert not _Handler.failures, (
        f"{page}: requests the server could not answer {_Handler.failures}"
    )

    html = (SITE / page).read_text(encoding="utf-8")
    sizes = [
        len(block.encode())
        for block in re.findall(r'<figure id="cnnanim-.*?</script>', html, re.DOTALL)
    ]
    weight = _weight(browser, server, page)
    print(
        f"{page}: {weight:,} bytes (HTML and images); animations "
        f"{', '.join(f'{b:,}' for b in sizes)} bytes"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    record = SHOTS / "page-weights.json"
    weights = json.loads(record.read_text()) if record.exists() else {}
    weights[page] = {"page_bytes": weight, "animation_bytes": sizes}
    record.write_text(json.dumps(weights, indent=1, sort_keys=True))
    assert len(sizes) == len(players) and max(sizes) <= ANIMATION_BUDGET, (
        f"{page}: an animation over budget {sizes}"
    )
    assert weight <= PAGE_BUDGET, (
        f"{page}: {weight:,} bytes, over the budget of {PAGE_BUDGET:,}"
    )


@pytest.mark.parametrize(
    "width, height, label", [(1280, 900, "desktop"), (390, 844, "phone")]
)
def test_animation_screenshots(width, height, label, server, browser):
    """The widest animation of the book (chapter 05's stride ½), stepped once, at both
    widths."""
    browser.set_window_size(width, height)
    try:
        _open(browser, urljoin(server, "notebooks/05_padding_and_stride.html"))
        player = browser.find_elements("css selector", "figure.cnn-anim")[-1]
        browser.execute_script(
            "arguments[0].scrollIntoView({block: 'center'});"
            "arguments[0].querySelector('[data-step=next]').click();",
            player,
        )
        fits = browser.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "return r.left >= 0 && r.right <= document.documentElement.clientWidth;",
            player,
        )
        assert fits, f"{label}: the player sticks out of the page"
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"animation-{label}.png"
        assert browser.save_screenshot(str(path)) and path.stat().st_size > 10_000, path
    finally:
        browser.set_window_size(1280, 900)
