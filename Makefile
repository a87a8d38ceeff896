# Two commands on a fresh machine: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INTEROP := tests/interop

.PHONY: run test install generate check-generated lint bench clean

run: install
	$(BIN)/genvid dev

test: install node
	$(BIN)/pytest

install: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "genvid needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $@

# The real better-auth client and server are test tools, pinned in tests/interop/package-lock.json.
node: $(if $(wildcard $(INTEROP)/package.json),$(INTEROP)/node_modules/.installed)

$(INTEROP)/node_modules/.installed: $(INTEROP)/package.json $(wildcard $(INTEROP)/package-lock.json)
	cd $(INTEROP) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

generate: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/sqlc generate

check-generated: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/sqlc diff

lint: install
	$(BIN)/ruff check genvid tools tests bench
	$(BIN)/mypy genvid tools

bench: install node
	$(BIN)/python bench/auth.py
	$(BIN)/python bench/videos.py

clean:
	rm -rf $(VENV) $(INTEROP)/node_modules
