# HoSo's one task runner. `make demo` and `make test` set up everything they need on a fresh clone.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
PACKAGES := linkage graph api analytics

.PHONY: install system-deps demo test lint typecheck unit bench docs clean

install: $(STAMP) system-deps

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "make: Python 3.11 or newer is needed on PATH" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

# Debian packages the suite uses: the compose client that checks docker-compose.yml.
system-deps:
	@bash .ci/system-deps

demo: install
	$(BIN)/hoso demo

lint: install
	$(BIN)/ruff check $(PACKAGES) tests bench

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest

test: lint typecheck unit

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

# The command reference, written from the commands (a test fails when it is stale).
docs: install
	$(BIN)/python -m api.cli_reference > docs/cli.md

clean:
	rm -rf $(VENV) .data-test .mypy_cache .ruff_cache .pytest_cache
