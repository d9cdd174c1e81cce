# Two commands do all set-up on a fresh machine:
#   make demo   -> bootstraps .venv and runs `lichain demo` on ./lichain.db (SQLite)
#   make test   -> bootstraps .venv, then lint, types, import contracts and the whole test suite
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never

.PHONY: venv demo test lint bench clean

$(VENV)/.ok: pyproject.toml uv.lock setup.py src/lichain/core/_hotpath.c src/lichain/storage/_hotrows.c src/lichain/core/_hotcommon.h
	bash scripts/bootstrap.sh
	touch $@

venv: $(VENV)/.ok

demo: venv
	$(VENV)/bin/lichain demo

lint: venv
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test:
	bash scripts/test.sh $(PYTEST_ARGS)

bench: venv
	$(PY) -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
