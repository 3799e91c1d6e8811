# Two commands on a fresh clone:  make run   (the bot, or the terminal chat without a token)
#                                 make test  (lint, types and the test suite)
# Each creates the virtual environment .venv and installs what it needs on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run chat test test-fast check lint bench bench-quick clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/craftbot run $(if $(CONFIG),--config $(CONFIG))

chat: $(STAMP)
	$(BIN)/craftbot chat

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/craftbot validate --quiet
	$(BIN)/craftbot test-curriculum --quiet
	$(BIN)/pytest -q

# The inner loop: every test but those that start a real `craftbot run` process (marked e2e).
test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not e2e"

check: test

# Every benchmark with its full settings (load.py alone runs 5 minutes; see docs/performance.md).
bench: $(STAMP)
	@for script in bench/[!_]*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# The same scripts with short settings, to check they run (the figures are rougher).
bench-quick: $(STAMP)
	@for script in bench/[!_]*.py; do echo "== $$script"; BENCH_QUICK=1 $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
