# Two commands on a fresh machine:  `make run`  (set up + index the demo KB + try it + serve it)
#                                   `make test` (set up + the whole test suite)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# A pinned torch resolves to the CPU build on this platform; a loose one pulls CUDA (GBs).
TORCH ?= torch==2.13.0

.PHONY: setup run serve test index clean
HOST ?= 127.0.0.1
PORT ?= 8000

setup: $(VENV)/.installed

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
	@echo "Serving the chat API on http://$(HOST):$(PORT) (docs: /docs). Ctrl-C stops it."
	$(BIN)/pasokh serve --host $(HOST) --port $(PORT)

serve: index
	$(BIN)/pasokh serve --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/python -m pytest

clean:
	rm -rf var .pytest_cache
