# gancourse: two commands on a fresh machine.
#   make course   set up .venv and execute every chapter headlessly (offline, CPU by default)
#   make test     set up .venv and run the test suite
# Other platforms: make course TORCH_SPEC='torch==2.13.0' TORCH_INDEX='--index-url https://download.pytorch.org/whl/cu124'

PYTHON      ?= python3
VENV        ?= .venv
TORCH_SPEC  ?= torch==2.13.0
TORCH_INDEX ?=
PROFILE     ?= auto
NOTEBOOKS   ?=
PYTEST_ARGS ?=

PY    := $(VENV)/bin/python
STAMP := $(VENV)/.gancourse-installed

# Offline by design: nothing at run time downloads data or weights. OpenMP keeps its default
# waiting here: the course runs one kernel at a time, and ProGAN's many small convolutions train
# ~2x faster than with OMP_WAIT_POLICY=PASSIVE. The tests set PASSIVE themselves (tests/conftest.py),
# where the test process and a notebook kernel share 2 cores.
export GANCOURSE_OFFLINE ?= 1

.PHONY: setup course test lab grade exercises site clean help

help:
	@echo "make course [PROFILE=smoke|cpu|full]  execute every chapter, print a table"
	@echo "make test                             run the test suite"
	@echo "make lab                              open JupyterLab on notebooks/"
	@echo "make grade SUBMISSIONS=dir [EXERCISE=ex01]  instructors: grade notebooks into scores.csv"
	@echo "make exercises                        instructors: regenerate exercises/ from instructor/"
	@echo "make site                             the course as a static website in build/site/ (offline)"

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_INDEX) "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m pip install --quiet --no-deps pytorch-fid==0.3.0  # test cross-check only; its deps would pull torchvision
	touch $@

course: $(STAMP)
	$(VENV)/bin/gancourse run $(NOTEBOOKS) --profile $(PROFILE)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

# Instructors: grade a folder of submissions (one .ipynb per student) into $(SCORES),
# with feedback/ beside it; each notebook gets GRADE_TIMEOUT seconds.
SUBMISSIONS   ?= submissions
SCORES        ?= scores.csv
GRADE_TIMEOUT ?= 120
EXERCISE      ?=
grade: $(STAMP)
	$(VENV)/bin/gancourse grade $(SUBMISSIONS) --out $(SCORES) --timeout $(GRADE_TIMEOUT) $(if $(EXERCISE),--exercise $(EXERCISE))

# Instructors: student versions in exercises/ from the masters in instructor/ (otter assign,
# which first checks that each solution passes all its tests).
exercises: $(STAMP)
	$(PY) -m gancourse.grading.grader assign

# The course as a static website in build/site/, from the stored outputs (nothing is executed).
# Its packages (the .[site] extra) are installed here, not by the learner's set-up.
site: $(STAMP)
	@$(PY) -c "import myst_nb, pydata_sphinx_theme, playwright, importlib; importlib.import_module('sphinx-mathjax-offline')" 2>/dev/null \
	  || $(PY) -m pip install --quiet -e ".[site]"
	$(PY) docs/build_site.py --out build/site

clean:
	rm -rf build runs .pytest_cache
