# Two commands do everything on a fresh machine (they set up what they need first):
#   make demo   - optimize a sample with the built-in provider (no API key, no GPU needed)
#   make test   - lint, type-check and run the whole test suite (what CI runs)
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# torch is pinned to the CPU build that lies on these machines' disk; a bare `torch` pulls a CUDA build.
TORCH_SPEC ?= torch==2.13.0 triton==3.7.1 numpy

.PHONY: setup demo test lint typecheck pytest vscode vscode-check vscode-package vscode-e2e clean

$(VENV)/.installed: pyproject.toml
	@command -v nvim >/dev/null || { (apt-get update -qq && apt-get install -y -qq neovim >/dev/null) \
	  || echo "neovim could not be installed: the neovim client test will skip"; }
	@command -v bwrap >/dev/null || { (apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null) \
	  || echo "bubblewrap could not be installed: candidates run unconfined (builtin) or are refused"; }
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_SPEC)
	$(PY) -m pip install -q -e '.[dev,ray]'
	touch $@

setup: $(VENV)/.installed

demo: setup
	KERNELWRIGHT=$(VENV)/bin/kernelwright scripts/demo.sh

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

pytest: setup
	$(VENV)/bin/pytest -q --durations=25

# The VS Code extension (vscode-client/): npm's lockfile, strict TypeScript, eslint, vitest, the .vsix,
# then the end-to-end test in a real VS Code (code-server on Node 24, cached under ~/.cache).
vscode-client/node_modules/.installed: vscode-client/package-lock.json
	cd vscode-client && npm ci --no-audit --no-fund --loglevel=error
	touch $@

vscode-check: vscode-client/node_modules/.installed
	cd vscode-client && npm run --silent typecheck && npm run --silent lint && npm run --silent test

vscode-package: setup vscode-client/node_modules/.installed
	cd vscode-client && PYTHON=../$(PY) ./build-package.sh

vscode-e2e: vscode-package
	cd vscode-client && CODE_SERVER_HOME=$$(scripts/install-code-server.sh | tail -1) \
	  KERNELWRIGHT_PYTHON=$(abspath $(PY)) node e2e/run.mjs

vscode: vscode-check vscode-e2e

test: lint typecheck pytest vscode

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache vscode-client/node_modules vscode-client/dist
