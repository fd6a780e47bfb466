# atmpchain: `make demo` runs the application on SQLite with demo data; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.stamp-run
STAMP_TEST := $(VENV)/.stamp-test

.PHONY: demo test lint bench serve clean help

help:
	@echo "make demo   set up .venv, create a SQLite database with demo data, serve http://127.0.0.1:8000"
	@echo "make test   set up .venv with test tools and run the whole suite"
	@echo "make lint   ruff, mypy and the import-layer contracts"
	@echo "make bench  run the benchmarks (SQLite and PostgreSQL) and print their ratios"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "atmpchain needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	@touch $@

$(STAMP_TEST): $(STAMP_RUN)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $@

demo: $(STAMP_RUN)
	$(BIN)/atmpchain demo

test: $(STAMP_TEST)
	$(BIN)/python -m pytest

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP_TEST)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
