# atmpchain: `make demo` runs the application on SQLite with demo data; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.stamp-run
STAMP_TEST := $(VENV)/.stamp-test
STAMP_MUTATE := $(VENV)/.stamp-mutate

.PHONY: demo test lint bench mutate screenshots serve clean help

help:
	@echo "make demo   set up .venv, create a SQLite database with demo data, serve http://127.0.0.1:8000"
	@echo "make test   set up .venv with test tools and run the whole suite"
	@echo "make lint   ruff, mypy and the import-layer contracts"
	@echo "make bench  run the benchmarks (SQLite and PostgreSQL) and print their ratios"
	@echo "make mutate mutation-test the domain rules against their unit tests; print the scores"
	@echo "make screenshots  picture the main pages of the demo in Chromium into docs/img/"

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

$(STAMP_MUTATE): $(STAMP_TEST)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,mutate]'
	@touch $@

demo: $(STAMP_RUN)
	$(BIN)/atmpchain demo

# The unit tests run a second time with the local zone set to Vienna: servers and CI run in UTC,
# where converting a time to "local" cannot be told from converting it to UTC.
test: $(STAMP_TEST)
	$(BIN)/python -m pytest -n auto --dist worksteal
	TZ=Europe/Vienna $(BIN)/python -m pytest -n auto -q tests/unit

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP_TEST)
	$(BIN)/python -m benchmarks

# Not part of `test`: a few minutes per domain module (docs/dev/mutation-testing.md).
mutate: $(STAMP_MUTATE)
	$(BIN)/python tools/mutate.py

# The pictures in README and docs/: the browser test that takes them (and checks each page with
# axe) writes them to docs/img/ instead of a temporary folder.
screenshots: $(STAMP_TEST)
	ATMPCHAIN_SCREENSHOTS=docs/img $(BIN)/python -m pytest -q -p no:cacheprovider tests/e2e/test_screenshots.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
