# Two commands on a fresh machine:  `make run`  (set up + index the demo KB + try it + serve it)
#                                   `make test` (set up + the whole test suite)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# A pinned torch resolves to the CPU build on this platform; a loose one pulls CUDA (GBs).
TORCH ?= torch==2.13.0

.PHONY: setup run serve test lint index clean postgresql
HOST ?= 127.0.0.1
PORT ?= 8000

# The end-to-end tests drive Debian's Chromium (no browser is ever downloaded by Playwright).
CHROMIUM ?= /usr/bin/chromium
AXE := tests/e2e/node_modules/axe-core/axe.min.js

setup: $(VENV)/.installed $(CHROMIUM) postgresql $(AXE)

# The end-to-end suite checks accessibility with axe-core (npm, pinned in tests/e2e/package-lock.json); a
# test tool only, never served by the product. Node and npm come from Debian when missing.
$(AXE): tests/e2e/package.json tests/e2e/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm; \
	fi
	npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error
	touch $@

# The reliability tests (tests/reliability) start a real PostgreSQL server with initdb/pg_ctl from
# Debian's package (under /usr/lib/postgresql/*/bin); installed only when missing.
postgresql:
	@if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; \
	fi

$(CHROMIUM):
	if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-dejavu-core

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/pasokh setup
	touch $@

index: setup
	$(BIN)/pasokh index

run: index
	$(BIN)/pasokh search "هزینه ارسال به شیراز چقدر است؟"
	$(BIN)/pasokh ask "هزینه ارسال به شیراز چقدره و میشه پرداخت در محل داشت؟"
	$(BIN)/pasokh ask --json "How long do I have to return an item?"
	$(BIN)/pasokh ask "Can I pay with bitcoin?"
	@echo "Serving the demo store with the chat widget on http://$(HOST):$(PORT)/ (agent console: /console, API docs: /docs). Ctrl-C stops it."
	$(BIN)/pasokh serve --host $(HOST) --port $(PORT)

serve: index
	$(BIN)/pasokh serve --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/python -m pytest

# Style and static checks (ruff, configured in pyproject.toml); not part of `make test`, so a new ruff
# release's rules cannot turn CI red on unchanged code.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf var .pytest_cache
