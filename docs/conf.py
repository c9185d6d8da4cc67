"""Sphinx configuration of the course website (built by docs/build_site.py, which writes the sources)."""
import importlib.util
import shutil
from pathlib import Path

project = "gancourse"
html_title = "gancourse: GANs in PyTorch"
extensions = ["myst_nb"]
exclude_patterns = [".doctrees"]

# The committed notebooks carry their cpu-run outputs: render those, execute nothing.
nb_execution_mode = "off"
nb_merge_streams = True
nb_ipywidgets_js = {}  # widgets arrive as static HTML from docs/saved_widgets.py; no CDN scripts
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_dmath_double_inline = True

html_theme = "pydata_sphinx_theme"  # ships its fonts and icons; nothing is fetched from another host
html_theme_options = {
    "navbar_align": "left",
    "show_prev_next": True,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_copy_source = False
html_show_sourcelink = False

# MathJax 3 from the sphinx-mathjax-offline package, served from _static/mathjax. Only the CHTML
# bundle, its fonts, the TeX extensions it may autoload and the menu are copied (5 of its 24 MB).
mathjax_path = "mathjax/tex-chtml.js"
MATHJAX_PARTS = ["tex-chtml.js", "input/tex/extensions", "output/chtml", "ui", "a11y"]


def _copy_mathjax(app, exc):
    if exc is not None:
        return
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    source = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"
    target = Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part, dirs_exist_ok=True)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / part, target / part)


def setup(app):
    app.connect("build-finished", _copy_mathjax)
