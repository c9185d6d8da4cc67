"""The course website (`make site`): built from the committed notebooks, checked page by page, then in a browser.

Needs the `.[site]` extra (skipped with the reason without it); the browser check also needs Debian's
chromium. Select these tests with `pytest -m site`.
"""
from __future__ import annotations

import functools
import html.parser
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

from conftest import ROOT

pytestmark = pytest.mark.site

BUILD = ROOT / "docs" / "build_site.py"
CHROMIUM = Path("/usr/bin/chromium")
SITE_DEPS = ("sphinx", "myst_nb", "pydata_sphinx_theme", "sphinx-mathjax-offline")
MISSING = [m for m in SITE_DEPS if importlib.util.find_spec(m) is None]
needs_site_deps = pytest.mark.skipif(bool(MISSING), reason=f"site deps missing ({', '.join(MISSING)}): make site installs .[site]")

CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("ex*.ipynb"))


def build(root: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BUILD), "--root", str(root), "--out", str(out)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    done = build(ROOT, out)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


class Refs(html.parser.HTMLParser):
    """What a page loads: (tag, attribute, url) for scripts, stylesheets, fonts, images and frames."""

    LOADS = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src", "video": "src", "audio": "src"}

    def __init__(self):
        super().__init__()
        self.loads: list[tuple[str, str]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.LOADS and attrs.get(self.LOADS[tag]):
            self.loads.append((tag, attrs[self.LOADS[tag]]))
        self._in_style = tag == "style"

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def text(page: Path) -> str:
    """A page's text without its tags (code is split into highlighted spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


def pages(site: Path) -> list[Path]:
    """The site's HTML pages (the theme leaves a template under _static/)."""
    return sorted(p for p in site.rglob("*.html") if p.relative_to(site).parts[0] != "_static")


def refs(page: Path) -> Refs:
    parser = Refs()
    parser.feed(page.read_text())
    return parser


def links(page: Path) -> list[str]:
    """The targets of a page's <a href> links (anchors within the page left out)."""
    return re.findall(r'<a [^>]*href="([^"#]+)"', page.read_text())


REMOTE = re.compile(r"^(https?:)?//", re.I)
CSS_REMOTE = re.compile(r"""(url\(\s*['"]?|@import\s+['"])(https?:)?//""", re.I)


@needs_site_deps
def test_every_chapter_and_exercise_set_has_a_page(site):
    for nb_path, folder in [(p, "chapters") for p in CHAPTERS] + [(p, "exercises") for p in EXERCISES]:
        page = site / folder / f"{nb_path.stem}.html"
        assert page.exists(), f"no page for {nb_path.relative_to(ROOT)}"
        title = nbformat.read(nb_path, as_version=4).cells[0].source.splitlines()[0].lstrip("# ").strip()
        assert title.replace("`", "") in text(page), page
    assert "make course" in text(site / "index.html"), "the home page is the README"
    assert "Writing tests" in text(site / "instructor.html"), "instructor/README.md has a page"


@needs_site_deps
def test_no_page_loads_a_script_stylesheet_or_font_from_another_host(site):
    offenders = []
    for page in pages(site):
        found = refs(page)
        offenders += [f"{page.relative_to(site)}: <{tag}> {url}" for tag, url in found.loads if REMOTE.match(url)]
        offenders += [f"{page.relative_to(site)}: <style> {m.group(0)}" for s in found.styles for m in CSS_REMOTE.finditer(s)]
    for css in site.rglob("*.css"):
        offenders += [f"{css.relative_to(site)}: {m.group(0)}" for m in CSS_REMOTE.finditer(css.read_text())]
    assert not offenders, "\n".join(offenders)


@needs_site_deps
def test_every_image_and_local_asset_resolves_to_a_file(site):
    missing, images = [], 0
    for page in pages(site):
        for tag, url in refs(page).loads:
            if url.startswith(("data:", "#")) or REMOTE.match(url):
                continue
            images += tag == "img"
            target = (page.parent / unquote(urlparse(url).path)).resolve()
            if not target.is_file():
                missing.append(f"{page.relative_to(site)}: <{tag}> {url}")
    assert not missing, "\n".join(missing)
    stored = sum(
        "image/png" in o.get("data", {}) for p in CHAPTERS for c in nbformat.read(p, as_version=4).cells for o in c.get("outputs", [])
    )
    assert images >= stored > 0, "every stored figure is an <img> of a file"


@needs_site_deps
def test_chapter_pages_link_their_notebook_and_say_how_to_open_it(site):
    for nb_path in CHAPTERS:
        page = site / "chapters" / f"{nb_path.stem}.html"
        assert "make lab" in text(page) and "JupyterLab" in text(page), page
        found = [url for url in links(page) if url.endswith(nb_path.name)]
        assert found and (page.parent / unquote(found[0])).is_file(), f"{page.name} does not link {nb_path.name}"


@needs_site_deps
def test_exercise_pages_say_how_grading_works(site):
    for nb_path in EXERCISES:
        words = text(site / "exercises" / f"{nb_path.stem}.html")
        assert all(w in words for w in ("How grading works", "grader.check", "hidden tests", "make grade")), nb_path.name


@needs_site_deps
def test_widgets_show_their_saved_state_and_say_they_need_a_kernel(site):
    for nb_path in CHAPTERS:
        source = (site / "chapters" / f"{nb_path.stem}.html").read_text()
        assert "widget-view+json" not in source
        assert "widget-state+json" not in source and "loading widget" not in source.lower()
        controls = source.count('<input type="range"') + source.count("<select disabled") + source.count('class="gc-toggles"')
        if controls:
            assert "move only with a running kernel" in source, nb_path.name


def test_a_widget_whose_state_was_not_saved_leaves_a_note():
    sys.path.insert(0, str(ROOT / "docs"))
    from saved_widgets import replace_widget_outputs

    nb = nbformat.v4.new_notebook()
    view = {"application/vnd.jupyter.widget-view+json": {"model_id": "gone", "version_major": 2, "version_minor": 0}}
    nb.cells.append(nbformat.v4.new_code_cell("w", outputs=[nbformat.v4.new_output("display_data", data=view)]))
    assert replace_widget_outputs(nb) == 1
    assert "state was not saved" in nb.cells[0].outputs[0]["data"]["text/html"]


@needs_site_deps
def test_a_chapter_without_outputs_fails_the_build_in_one_line(tmp_path):
    root = tmp_path / "repo"
    for rel in ["README.md", "instructor/README.md", "notebooks/01_minimax.ipynb"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, root / rel)
    nb = nbformat.read(ROOT / "notebooks/02_vanilla_gan.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, root / "notebooks/02_vanilla_gan.ipynb")
    done = build(root, tmp_path / "site")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "notebooks/02_vanilla_gan.ipynb" in lines[0] and "gancourse run 02_vanilla_gan --profile cpu --store" in lines[0]


# --- in a real browser: headless Debian chromium, every request to another host blocked and counted ---

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None
NO_BROWSER = "playwright is not installed (.[site])" if sync_playwright is None else (
    None if CHROMIUM.exists() else "no browser: apt-get install chromium"
)
needs_browser = pytest.mark.skipif(bool(MISSING) or bool(NO_BROWSER), reason=NO_BROWSER or "site deps missing")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]

# Visible text that means math was left untypeset (code, preformatted output and typeset math excluded).
RAW_MATH = """() => {
  const root = document.querySelector('main') || document.body;
  const copy = root.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, mjx-container, mjx-assistive-mml').forEach(e => e.remove());
  const text = copy.innerText;
  return ['$$', '\\\\(', '\\\\[', '\\\\begin'].filter(s => text.includes(s));
}"""
PAGE_FACTS = """() => ({
  math: document.querySelectorAll('.math').length,
  typeset: document.querySelectorAll('mjx-container').length,
  errors: document.querySelectorAll('mjx-merror').length,
  images: [...document.images].map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0]),
  code: document.querySelectorAll('div.highlight pre').length,
  highlighted: document.querySelectorAll('div.highlight pre span.k, div.highlight pre span.kn, div.highlight pre span.nb').length,
  next: (document.querySelector('a.right-next') || {}).href || null,
  nav: [...document.querySelectorAll('.bd-header a.nav-link')].map(a => a.textContent.trim()),
})"""


@pytest.fixture(scope="module")
def served(site):
    handler = functools.partial(QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


OTHER_HOSTS = re.compile(r"^(https?|wss?)://(?!(127\.0\.0\.1|localhost)(:\d+)?/)")


def open_page(browser, external: list):
    """A page whose requests to any host but this machine are blocked and appended to `external`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def block(route):
        external.append(route.request.url)
        route.abort()

    context.route(OTHER_HOSTS, block)
    return context, context.new_page()


def check_pages(browser, base: str, site: Path, shots: Path | None) -> dict[str, int]:
    """Load every page from `base`; assert what a reader sees. Returns the external requests per page."""
    per_page, external = {}, []
    context, page = open_page(browser, external)
    for path in pages(site):
        rel = path.relative_to(site).as_posix()
        external.clear()
        page.goto(f"{base}/{rel}", wait_until="load")
        page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
        facts, raw = page.evaluate(PAGE_FACTS), page.evaluate(RAW_MATH)
        if shots is not None:
            page.screenshot(path=str(shots / (rel.replace("/", "_") + ".png")), full_page=rel.startswith("chapters/0"))
        per_page[rel] = len(external)
        assert not raw, f"{rel}: untypeset math {raw}"
        assert facts["typeset"] >= facts["math"] and not facts["errors"], f"{rel}: {facts['typeset']} of {facts['math']} formulas typeset"
        assert all(ok for _, ok in facts["images"]), f"{rel}: images not shown {[s for s, ok in facts['images'] if not ok]}"
        assert not facts["code"] or facts["highlighted"], f"{rel}: code is not highlighted"
        assert {"Chapters", "Exercises"} <= set(facts["nav"]), f"{rel}: no navigation bar ({facts['nav']})"
        stems = [p.stem for p in CHAPTERS]
        if rel.startswith("chapters/0") and path.stem != stems[-1]:
            following = stems[stems.index(path.stem) + 1]
            assert (facts["next"] or "").endswith(f"{following}.html"), f"{rel}: no link to the next chapter"
    context.close()
    return per_page


def check_search(browser, base: str) -> None:
    external: list = []
    context, page = open_page(browser, external)
    page.goto(f"{base}/search.html?q=gradient+penalty")
    page.wait_for_selector("#search-results a[href*='05_wgan']", timeout=20_000)
    context.close()
    assert not external, external


@needs_browser
def test_the_browser_check_sees_requests_to_other_hosts(browser, tmp_path):
    page_file = tmp_path / "remote.html"
    page_file.write_text('<script src="https://cdn.example.org/a.js"></script><img src="http://example.org/b.png">')
    external: list = []
    context, page = open_page(browser, external)
    page.goto(page_file.as_uri())
    context.close()
    assert sorted(external) == ["http://example.org/b.png", "https://cdn.example.org/a.js"]


@needs_browser
@pytest.mark.parametrize("how", ["file", "http"])
def test_in_a_browser_every_page_renders_offline(site, served, browser, how):
    base = site.as_uri() if how == "file" else served
    shots = Path(os.environ["GANCOURSE_SITE_SHOTS"]) / how if os.environ.get("GANCOURSE_SITE_SHOTS") else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    per_page = check_pages(browser, base, site, shots)
    check_search(browser, base)
    external = {rel: n for rel, n in per_page.items() if n}
    assert not external, f"requests to other hosts (blocked): {external}"
    assert len(per_page) >= len(CHAPTERS) + len(EXERCISES) + 3
