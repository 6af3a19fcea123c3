# The commands the README shows. Everything installs itself: uv from PyPI when missing, then the locked env.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: help install demo test test-unit lint format services-up services-down status clean

help:
	@echo "make demo       install, start the local stack, generate a shop, run the flows, print where to look"
	@echo "make test       install, run unit, integration and end-to-end tests (starts and stops the services it needs)"
	@echo "make lint       ruff and mypy"
	@echo "make services-up | services-down | status"

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv>=0.5"
	$(UV) sync --frozen --python 3.11
	@touch $@

demo: install
	$(BIN)/shopgraph demo

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

test-unit: install
	$(BIN)/pytest -m unit $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src flows tasks tests bench
	$(BIN)/ruff format --check src flows tasks tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src flows tasks tests bench
	$(BIN)/ruff check --fix src flows tasks tests bench

services-up: install
	$(BIN)/shopgraph services up

services-down: install
	$(BIN)/shopgraph services down

status: install
	$(BIN)/shopgraph services status

clean: services-down
	rm -rf .local data
