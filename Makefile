# SkyScript Explorer — developer tasks. `make help` lists them.
#
# Everything installs into ./.venv. Stamp files in .stamps/ record which requirements file was
# installed, so a second `make test` or `make run` only reinstalls when a requirements file changed
# (or .venv was recreated). Offline map assets go to the git-ignored static/vendor/.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
VENV_CFG := $(VENV)/pyvenv.cfg
STAMPS := .stamps
CHROMIUM ?= /usr/bin/chromium
PIP := $(VPY) -m pip --disable-pip-version-check --no-input
# extra arguments, e.g. `make test PYTEST_ARGS="-x -k offline"`, `make run STREAMLIT_ARGS="--server.port 8502"`
PYTEST_ARGS ?=
STREAMLIT_ARGS ?=

export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))
export PIP_PROGRESS_BAR := off

.PHONY: help run test test-fast test-e2e lint typecheck assets assets-check bench bench-pages sample chromium venv venv-dev clean clean-assets distclean

help:
	@echo "make run        install the app into .venv, fetch offline map assets, streamlit run app.py"
	@echo "make test       full test suite incl. browser tests (installs Debian chromium as root if missing)"
	@echo "make test-fast  tests without the browser (pytest -m 'not e2e')"
	@echo "make test-e2e   only the browser tests"
	@echo "make lint       ruff check"
	@echo "make typecheck  mypy (advisory)"
	@echo "make assets     fetch Leaflet & co. from npm into static/vendor/ and render offline tiles"
	@echo "make bench      python bench/run.py"
	@echo "make bench-pages page timings in Chromium (bench/browser.py; BENCH_PAGES_ARGS=\"--n 300000\")"
	@echo "make sample     python -m skyscript_viz demo"
	@echo "make clean      caches and stamps; clean-assets: static/vendor; distclean: also .venv"

# ---- virtualenv -------------------------------------------------------------------------------

$(VENV_CFG):
	@if ! $(PYTHON) -m venv $(VENV); then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "python venv module missing: installing python3-venv"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv && \
	    rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); \
	  else exit 1; fi; \
	fi
	@touch $@

$(STAMPS)/app: requirements.txt $(VENV_CFG)
	$(PIP) install -q -r requirements.txt
	@mkdir -p $(STAMPS) && touch $@

# requirements-dev.txt includes requirements.txt, so this also brings the app stamp up to date
$(STAMPS)/dev: requirements.txt requirements-dev.txt $(VENV_CFG)
	$(PIP) install -q -r requirements-dev.txt
	@mkdir -p $(STAMPS) && touch $@ && touch $(STAMPS)/app

venv: $(STAMPS)/app
venv-dev: $(STAMPS)/dev

# ---- offline map assets -----------------------------------------------------------------------

# fetch_assets.py is idempotent (verifies hashes, skips what is current), so this is always run
assets: $(STAMPS)/app
	$(VPY) scripts/fetch_assets.py

assets-check: $(STAMPS)/app
	$(VPY) scripts/fetch_assets.py --check

# ---- browser ----------------------------------------------------------------------------------

chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "$(CHROMIUM) missing: installing Debian's chromium"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else \
	    echo "WARNING: $(CHROMIUM) missing and not root: install it with 'apt-get install chromium'"; \
	  fi; \
	fi

# ---- tasks ------------------------------------------------------------------------------------

run: $(STAMPS)/app assets
	$(VPY) -m streamlit run app.py $(STREAMLIT_ARGS)

test: chromium $(STAMPS)/dev assets
	$(VPY) -m pytest $(PYTEST_ARGS)

test-fast: $(STAMPS)/dev assets
	$(VPY) -m pytest -m "not e2e" $(PYTEST_ARGS)

test-e2e: chromium $(STAMPS)/dev assets
	$(VPY) -m pytest -m e2e $(PYTEST_ARGS)

lint: $(STAMPS)/dev
	$(VPY) -m ruff check .

typecheck: $(STAMPS)/dev
	-$(VPY) -m mypy

bench: $(STAMPS)/app
	$(VPY) bench/run.py

# e.g. `make bench-pages BENCH_PAGES_ARGS="--demo"` or `--n 50000`; needs Chromium and the dev deps (Playwright)
BENCH_PAGES_ARGS ?= --n 300000
bench-pages: chromium $(STAMPS)/dev assets
	$(VPY) bench/browser.py $(BENCH_PAGES_ARGS)

sample: $(STAMPS)/app
	$(VPY) -m skyscript_viz demo

clean:
	rm -rf $(STAMPS) .pytest_cache .mypy_cache .ruff_cache test-artifacts
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

clean-assets:
	rm -rf static/vendor

distclean: clean clean-assets
	rm -rf $(VENV)
