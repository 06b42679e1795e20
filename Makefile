# `make demo` and `make test` each set up everything on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# Offline model pack: ../shared/models unless HYBRIDSTORE_MODELS is already set.
ifeq ($(origin HYBRIDSTORE_MODELS), undefined)
ifneq ($(wildcard ../shared/models/models.json),)
export HYBRIDSTORE_MODELS := $(abspath ../shared/models)
endif
endif
# Nothing downloads at run time in the demo or the tests.
HF_HUB_OFFLINE ?= 1
export HF_HUB_OFFLINE

SCIFACT := ../shared/datasets/scifact
DEMO := $(BIN)/hybridstore --path .demo-index --collection demo

.PHONY: demo test test-compat install browser eval bench bench-frameworks bench-fusion clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,test,bench,langchain,llama-index,mcp,int8,inspect]'
	touch $@

install: $(VENV)/.installed

# The inspector's browser tests (tests/inspector/test_browser.py) drive Debian's Chromium with its
# chromedriver: installed here when missing (CI runs as root on Debian; elsewhere, through sudo).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium chromium-driver; }

# Types (mypy, strict: pyproject's [tool.mypy]) and lint (ruff) first, then the whole suite once
# per embedded engine: Qdrant Edge and qdrant-client's local mode.
test: $(VENV)/.installed browser
	$(BIN)/python -m mypy src/hybridstore
	$(BIN)/ruff check src tests benchmarks
	HYBRIDSTORE_ENGINE=edge $(BIN)/python -m pytest -q -rs
	# the benchmark smoke runs, the wheel tests and the engine parity tests name their engines, the
	# docs run as a reader runs them, on the default engine, and the page in Chromium tests the
	# browser side (the endpoint tests cover both engines): once is enough
	HYBRIDSTORE_ENGINE=local $(BIN)/python -m pytest -q -rs --ignore tests/benchmarks --ignore tests/packaging --ignore tests/engine/test_parity.py --ignore tests/docs --ignore tests/inspector/test_browser.py

# The floors of every declared range (oldest Python) and the newest releases (other Pythons), each
# in a fresh environment under .compat/ with a subset of the suite (docs/compatibility.md).
test-compat:
	bash .ci/compat

demo: $(VENV)/.installed
	rm -rf .demo-index
	$(DEMO) ingest $(SCIFACT) --limit 300
	$(DEMO) ingest README.md ../shared/DESIGN.md
	$(DEMO) search "vitamin D deficiency and bone health" -k 3
	$(DEMO) search "which engine is the default for embedded use" -k 2 --mode sparse
	$(DEMO) search "immune response" -k 3 --filter '{"title": {"$$text": "cells"}}'
	$(DEMO) info

eval: $(VENV)/.installed
	$(BIN)/hybridstore --path .eval-index --collection scifact --late colbert-ir/colbertv2.0 \
		eval $(SCIFACT) --json-out benchmarks/results/eval-scifact.json

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/ingest_padding.py

# hybridstore vs langchain-qdrant, llama-index and a floor (about an hour; docs/benchmarks.md)
bench-frameworks: $(VENV)/.installed
	$(BIN)/python benchmarks/frameworks.py --timing-docs 500

# RRF vs DBSF per sparse model, with paired bootstrap intervals (about 15 minutes)
bench-fusion: $(VENV)/.installed
	$(BIN)/python benchmarks/fusion.py

clean:
	rm -rf $(VENV) .compat .demo-index .eval-index
