# Set-up lives here so the README's two commands work on a fresh machine:
# each target creates .venv (distributions' Python refuses system-wide pip
# installs) and installs what it needs before running.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-main: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-main

demo: $(VENV)/.installed-main  ## build the demo 街道 on SQLite and serve it
	$(BIN)/gridmgmt demo $(ARGS)

test: $(VENV)/.installed-test  ## the whole test suite
	$(BIN)/python -m pytest $(ARGS)

bench: $(VENV)/.installed-test  ## benchmarks against peers, printed as ratios
	$(BIN)/pip install --quiet -e '.[test,bench]'
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

lint: $(VENV)/.installed-test
	$(BIN)/ruff format --check . && $(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
