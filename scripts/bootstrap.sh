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
.tools/bin/uv sync --frozen --python "$PYTHON" --group dev
