"""The project's promises that are read off its files: dependencies, set-up, CI, device-agnostic code."""
import re

import nbformat
import yaml

from conftest import ROOT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject():
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_names_the_same_packages_as_pyproject():
    project = pyproject()["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    for name, extra in project.get("optional-dependencies", {}).items():
        if name != "site":  # the website's builder: `make site` installs it, the learner set-up does not
            wanted |= {_name(r) for r in extra}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    conda = {"torch" if n == "pytorch" else n for n in conda}
    assert conda == wanted


def test_torch_keeps_a_range_and_the_makefile_pins_the_cpu_build_first():
    torch_req = next(r for r in pyproject()["project"]["dependencies"] if _name(r) == "torch")
    assert "<" in torch_req and "==" not in torch_req
    make = (ROOT / "Makefile").read_text()
    assert "TORCH_SPEC  ?= torch==2.13.0" in make
    assert make.index('"$(TORCH_SPEC)"') < make.index('-e ".[dev]"')


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make course" in readme and "make test" in readme


DEVICE_PATTERNS = re.compile(r"\.cuda\(|['\"]cuda:\d|device\s*=\s*['\"]cuda['\"]|torch\.device\(['\"]cuda")


def test_code_is_device_agnostic():
    sources = {p: p.read_text() for p in (ROOT / "gancourse").rglob("*.py") if p.name != "device.py"}
    for p in list((ROOT / "notebooks").glob("*.ipynb")) + list((ROOT / "exercises").rglob("*.ipynb")):
        sources[p] = "\n".join(c.source for c in nbformat.read(p, as_version=4).cells if c.cell_type == "code")
    offenders = [str(p.relative_to(ROOT)) for p, text in sources.items() if DEVICE_PATTERNS.search(text)]
    assert not offenders, f"hard-coded devices in {offenders}; use gancourse.get_device()"
