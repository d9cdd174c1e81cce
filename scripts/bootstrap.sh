#!/usr/bin/env bash
# Create .venv with the locked dependencies. Needs only python3 (3.11+) and pip on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never
PYTHON=${PYTHON:-python3}
if [ ! -x .tools/bin/uv ]; then
  "$PYTHON" -m venv .tools
  .tools/bin/pip install -q --disable-pip-version-check 'uv>=0.5'
fi
# Byte-compile the environment (and the project's own sources): every `lichain` call then loads .pyc files instead
# of compiling ~5,000 modules' sources when __pycache__ cannot be written (PYTHONDONTWRITEBYTECODE, read-only
# installs); `lichain --help` ≈1 s -> ≈0.27 s (docs/performance.md). Up-to-date files are skipped (≈0.5 s).
.tools/bin/uv sync --frozen --python "$PYTHON" --group dev --compile-bytecode
.venv/bin/python -m compileall -q -j 0 src/lichain >/dev/null
