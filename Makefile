# Two commands on a fresh clone:  make run   (the bot, or the terminal chat without a token)
#                                 make test  (lint, types and the test suite)
# Each creates the virtual environment .venv on first use: `run` installs only what the bot
# needs, `test` adds the development tools. Both install craftbot editable, so changes to the
# code and to curriculum/ are used at once.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
BOT := $(VENV)/.installed-bot
DEV := $(VENV)/.installed-dev
# setuptools' notice that an editable install is one is information, not a problem: keep it out.
PIP := PYTHONWARNINGS=ignore::Warning:setuptools.command.editable_wheel $(BIN)/pip install --quiet

.PHONY: run chat test test-fast check lint bench bench-quick clean

$(BIN)/python:
	@echo "Creating $(VENV)/ (first time only)"
	@$(PY) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip

$(BOT): pyproject.toml setup.py | $(BIN)/python
	@echo "Installing craftbot and what it needs into $(VENV)/"
	@$(PIP) -e .
	@touch $@

$(DEV): pyproject.toml setup.py | $(BIN)/python
	@echo "Installing craftbot and the development tools into $(VENV)/"
	@$(PIP) -e ".[dev]"
	@touch $@ $(BOT)

# What to type next, when there is no token to run the bot with.
define NO_TOKEN
No Telegram bot token is set, so the bot was not started. Next, one of:

  .venv/bin/craftbot chat          chat with the bot here in the terminal, no Telegram needed
  export CRAFTBOT_TELEGRAM_TOKEN=123456:ABC...   then: make run
                                   the token comes from @BotFather in Telegram (/newbot)
  cp config.example.yaml config.yaml   then: make run CONFIG=config.yaml
                                   your own settings; every key is explained in the file
  .venv/bin/craftbot --help        every command (validate, stats, keygen, ...)
endef
export NO_TOKEN

# With a token (or a config file, which may hold one) the bot runs; without one, a terminal
# gets the chat and anything else gets the next steps, exit 0: nothing went wrong.
run: $(BOT)
	@if [ -n "$(CONFIG)$$CRAFTBOT_TELEGRAM_TOKEN$$CRAFTBOT_TELEGRAM__TOKEN" ]; then \
		exec $(BIN)/craftbot run $(if $(CONFIG),--config $(CONFIG)); \
	elif [ -t 0 ]; then \
		echo "No Telegram bot token is set: starting the terminal chat (.venv/bin/craftbot chat)."; \
		echo "To run on Telegram: export CRAFTBOT_TELEGRAM_TOKEN=... (from @BotFather), then make run."; \
		echo; exec $(BIN)/craftbot chat; \
	else \
		echo "$$NO_TOKEN"; \
	fi

chat: $(BOT)
	@$(BIN)/craftbot chat

lint: $(DEV)
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
bench: $(DEV)
	@for script in bench/[!_]*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# The same scripts with short settings, to check they run (the figures are rougher).
bench-quick: $(DEV)
	@for script in bench/[!_]*.py; do echo "== $$script"; BENCH_QUICK=1 $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
