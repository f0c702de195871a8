# DeepDifE — two commands on a fresh machine:
#   make run    start the dashboard on the bundled demo (http://127.0.0.1:8501)
#   make test   lint + the whole test suite (unit, page, real-browser)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.deepdife-installed
HOST ?= $(or $(DEEPDIFE_HOST),127.0.0.1)
PORT ?= $(or $(DEEPDIFE_PORT),8501)
PYTEST_ARGS ?=

.PHONY: run test lint format bench browser postgres demo-model clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e . || $(PY) -m pip install -q --no-deps -e .
	@touch $(STAMP)

run: $(STAMP)
	DEEPDIFE_DEMO_ON_START=1 $(PY) -m dashboard.launch --host $(HOST) --port $(PORT)

# Debian's chromium for the Playwright tests (playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Debian's PostgreSQL server for the multi-worker tuning test (started per test run in a temp dir).
postgres:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; }

test: $(STAMP) browser postgres lint
	$(PY) -m pytest $(PYTEST_ARGS)

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) bench/run_all.py

# Regenerate the committed demo model (synthetic data, seed 3).
demo-model: $(STAMP)
	$(VENV)/bin/deepdife demo --out /tmp/deepdife-demo.csv -q
	$(VENV)/bin/deepdife train --data /tmp/deepdife-demo.csv --out models/demo --seed 3 --overwrite

clean:
	rm -rf workspace .pytest_cache .ruff_cache bench/results tests/artifacts
