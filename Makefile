# SkyScript Explorer — developer tasks. `make help` lists them.
#
# Everything installs into ./.venv. Stamp files in .stamps/ record which requirements file was
# installed, so a second `make test` or `make run` only reinstalls when a requirements file changed
# (or .venv was recreated). Map scripts come with pip (XStatic-*); the app draws its offline tiles.

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

.PHONY: help run test test-fast test-e2e check lint fmt typecheck report bench bench-pages sample chromium postgresql nginx venv venv-dev clean distclean

help:
	@echo "make run        install the app into .venv, streamlit run app.py (works offline)"
	@echo "make test       full test suite incl. browser tests (installs Debian chromium and postgresql as root if missing)"
	@echo "make test-fast  tests without the browser (pytest -m 'not e2e')"
	@echo "make test-e2e   only the browser tests"
	@echo "make check      lint + typecheck (what CI runs before the tests)"
	@echo "make lint       ruff check + ruff format --check"
	@echo "make fmt        ruff format + ruff check --fix"
	@echo "make typecheck  mypy, strict on the library"
	@echo "make bench      python bench/run.py"
	@echo "make bench-pages page timings in Chromium (bench/browser.py; BENCH_PAGES_ARGS=\"--n 300000\")"
	@echo "make sample     python -m skyscript_viz demo"
	@echo "make report     report.html of the demo sample (python -m skyscript_viz report)"
	@echo "make clean      caches and stamps; distclean: also .venv"

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

$(STAMPS)/app: requirements.txt constraints.txt $(VENV_CFG)
	$(PIP) install -q -r requirements.txt -c constraints.txt
	@mkdir -p $(STAMPS) && touch $@

# requirements-dev.txt includes requirements.txt, so this also brings the app stamp up to date
$(STAMPS)/dev: requirements.txt requirements-dev.txt constraints.txt $(VENV_CFG)
	$(PIP) install -q -r requirements-dev.txt -c constraints.txt
	@mkdir -p $(STAMPS) && touch $@ && touch $(STAMPS)/app

venv: $(STAMPS)/app
venv-dev: $(STAMPS)/dev

# ---- browser and database server for the tests ------------------------------------------------

# $(call apt_install,PACKAGE,CHECK,WHAT): install Debian's PACKAGE as root when the shell test CHECK fails
define apt_install
	@if ! $(2); then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "$(3) missing: installing Debian's $(1)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(1); \
	  else \
	    echo "WARNING: $(3) missing and not root: install it with 'apt-get install $(1)'"; \
	  fi; \
	fi
endef

chromium:
	$(call apt_install,chromium,[ -x "$(CHROMIUM)" ],$(CHROMIUM))

# the review tests run against a real PostgreSQL started by tests/pgserver.py (initdb + pg_ctl)
postgresql:
	$(call apt_install,postgresql,ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1,PostgreSQL)

# the team test puts nginx (docs/nginx.conf, as README's deployment says) in front of two app servers
nginx:
	$(call apt_install,nginx-light,[ -x /usr/sbin/nginx ],nginx)

# ---- tasks ------------------------------------------------------------------------------------

run: $(STAMPS)/app
	$(VPY) -m streamlit run app.py $(STREAMLIT_ARGS)

test: chromium postgresql nginx $(STAMPS)/dev
	$(VPY) -m pytest $(PYTEST_ARGS)

test-fast: postgresql $(STAMPS)/dev
	$(VPY) -m pytest -m "not e2e" $(PYTEST_ARGS)

test-e2e: chromium postgresql nginx $(STAMPS)/dev
	$(VPY) -m pytest -m e2e $(PYTEST_ARGS)

check: lint typecheck

lint: $(STAMPS)/dev
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .

fmt: $(STAMPS)/dev
	$(VPY) -m ruff format .
	$(VPY) -m ruff check --fix .

typecheck: $(STAMPS)/dev
	$(VPY) -m mypy

bench: $(STAMPS)/app
	$(VPY) bench/run.py

# e.g. `make bench-pages BENCH_PAGES_ARGS="--demo"` or `--n 50000`; needs Chromium and the dev deps (Playwright)
BENCH_PAGES_ARGS ?= --n 300000
bench-pages: chromium $(STAMPS)/dev
	$(VPY) bench/browser.py $(BENCH_PAGES_ARGS)

sample: $(STAMPS)/app
	$(VPY) -m skyscript_viz demo

report: $(STAMPS)/app
	$(VPY) -m skyscript_viz report "$$($(VPY) -m skyscript_viz demo --index | sed -n 1p)" -o report.html

clean:
	rm -rf $(STAMPS) .pytest_cache .mypy_cache .ruff_cache test-artifacts
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
