# Every target a person or CI runs. `make help` lists them.
.DEFAULT_GOAL := install
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
# Which lock the venv holds: all of requirements-dev.lock, or only requirements.lock (install-runtime).
STAMP := $(VENV)/.installed
RUNTIME_STAMP := $(VENV)/.installed-runtime
UV_STAMP := $(VENV)/.uv-installed
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Byte-code caches are written into .venv: the pipeline and the suite start hundreds of Python processes, and
# without the caches each one compiles DVC, pandas and scikit-learn from source again.
unexport PYTHONDONTWRITEBYTECODE
# Exactly what a lock names, each file checked against the lock's hashes; nothing else stays. A package
# published only as source (antlr4-python3-runtime) is built with the locked setuptools, hash-checked too
# (a preview feature of the pinned uv).
SYNC := $(UV) pip sync --require-hashes --build-constraints requirements.lock --require-build-hashes \
	--preview-features build-dependency-hashes --python $(BIN)/python
# The project itself, built by the locked uv_build already in the venv (no unpinned download).
EDITABLE := $(UV) pip install --quiet --no-deps --no-build-isolation --python $(BIN)/python -e .

.PHONY: help install install-runtime lock retrain test test-fast lint bench bench-quick bench-install bench-ingest bench-trust bench-history bench-page demo clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

install: $(STAMP) ## Create .venv from requirements-dev.lock (hash-checked, with uv), install `retrain`, register git merge driver and hooks

install-runtime: $(RUNTIME_STAMP) ## Only requirements.lock and `retrain`, no test or lint tools: what the CI jobs install

# uv comes from PyPI through pip, pinned and hash-checked (requirements-uv.lock). The venv gets no pip of its own
# (uv's sync would remove it again): the pip of the interpreter that made the venv installs uv into it.
$(UV_STAMP): requirements-uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	"$$($(BIN)/python -c 'import sys; print(sys._base_executable)')" -m pip --python $(BIN)/python --quiet --disable-pip-version-check install --require-hashes --no-deps -r requirements-uv.lock
	@touch $@

$(STAMP): requirements-dev.lock pyproject.toml $(UV_STAMP)
	$(SYNC) requirements-dev.lock
	$(EDITABLE)
	$(BIN)/retrain setup
	@rm -f $(RUNTIME_STAMP)
	@touch $@

$(RUNTIME_STAMP): requirements.lock pyproject.toml $(UV_STAMP)
	$(SYNC) requirements.lock
	$(EDITABLE)
	$(BIN)/retrain setup
	@rm -f $(STAMP)
	@touch $@

lock: $(UV_STAMP) ## Resolve requirements*.txt into requirements*.lock (versions + hashes); LOCK_ARGS=--upgrade moves pins
	UV=$(UV) scripts/lock.sh

retrain: $(STAMP) ## Pull, reproduce, push, verify, commit, gate and tag on the default (local) remote
	$(BIN)/retrain run

test: $(STAMP) lint ## Run the whole test suite (lint included)
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=25

test-fast: $(STAMP) ## Only the quick tests, static CI checks included (no end-to-end engine, act or fault runs)
	$(BIN)/python -m pytest -n 2 -m "not slow and not ci and not faults"

lint: $(STAMP) ## Locks up to date with requirements*.txt, ruff, mypy (strict, src/), zizmor (auditor) on the workflows, JSON-schema checks of CI files and docs/aws policies, shellcheck
	UV=$(UV) scripts/lock.sh --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/zizmor --offline --quiet --persona=auditor .github/workflows
	$(BIN)/check-jsonschema --schemafile docs/aws/iam-policy.schema.json \
		docs/aws/*-trust.json docs/aws/*-permissions.json docs/aws/bucket-policy.json
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.travis .travis.yml
	$(BIN)/shellcheck .ci/run $$(git ls-files '*.sh')

bench: $(STAMP) bench-install bench-ingest ## Benchmarks (full): install times, ingest, then benchmarks/results.md and results.json
	$(BIN)/python -m benchmarks.run

bench-quick: $(STAMP) ## Benchmarks on small data, under five minutes
	$(BIN)/python -m benchmarks.run --quick

bench-install: $(STAMP) ## pip vs uv on the same lock, cold and warm, and a no-op make: benchmarks/install-results.md
	$(BIN)/python benchmarks/install.py

bench-ingest: $(STAMP) ## retrain ingest with 1 new delivery among 10 and 10,000 old keys: benchmarks/ingest-results.md
	$(BIN)/python benchmarks/ingest.py

bench-history: $(STAMP) ## No-op and one-new-batch releases at 10, 1,000 and 10,000 batches, per-batch and monthly layouts, vs dvc status / plain dvc: benchmarks/history-results.md
	$(BIN)/python benchmarks/history.py

bench-page: $(STAMP) ## retrain history --html and releases --json at 10 and 1,000 releases (made with git): benchmarks/history-page-results.md
	$(BIN)/python benchmarks/history_page.py

bench-trust: $(STAMP) ## The merge build trusting only the release remote vs the opt-in (--trust-runs-from): benchmarks/trust-results.md
	$(BIN)/python benchmarks/trust.py

demo: $(STAMP) ## The seed's story end to end in a throwaway sandbox
	$(BIN)/python scripts/demo.py

clean: ## Remove the venv, caches and reports (not data, not the DVC cache, not uv's download cache)
	rm -rf $(VENV) .pytest_cache .ruff_cache reports
