# Every target a person or CI runs. `make help` lists them.
.DEFAULT_GOAL := install
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help install retrain test test-fast lint bench bench-quick demo clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: $(STAMP) ## Create .venv, install pinned requirements and `retrain`, register git merge driver and hooks

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/retrain setup
	@touch $(STAMP)

retrain: $(STAMP) ## Pull, reproduce, push, verify, commit, gate and tag on the default (local) remote
	$(BIN)/retrain run

test: $(STAMP) lint ## Run the whole test suite (lint included)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: $(STAMP) ## Only the quick tests (no end-to-end pipeline runs)
	$(BIN)/python -m pytest -m "not slow and not ci and not faults"

lint: $(STAMP) ## ruff, zizmor on the workflows, JSON-schema checks of CI files, shellcheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/zizmor --offline --quiet .github/workflows
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.travis .travis.yml
	$(BIN)/shellcheck .ci/run $$(git ls-files '*.sh')

bench: $(STAMP) ## Benchmarks (full): writes benchmarks/results.md and results.json
	$(BIN)/python -m benchmarks.run

bench-quick: $(STAMP) ## Benchmarks on small data, under five minutes
	$(BIN)/python -m benchmarks.run --quick

demo: $(STAMP) ## The seed's story end to end in a throwaway sandbox
	$(BIN)/python scripts/demo.py

clean: ## Remove the venv, caches and reports (not data, not the DVC cache)
	rm -rf $(VENV) .pytest_cache .ruff_cache reports
