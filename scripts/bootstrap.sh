#!/usr/bin/env bash
# Create .venv with the locked dependencies. Needs only python3 (3.11+) and pip on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never
PYTHON=${PYTHON:-python3}
# The ingest hot path is compiled with the package (setup.py): a C compiler, the Python headers and OpenSSL's.
# As root on Debian/Ubuntu, install what is missing; elsewhere the package still installs, running in Python.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  inc=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
  need=()
  command -v gcc >/dev/null || need+=(gcc)
  [ -f /usr/include/openssl/evp.h ] || need+=(libssl-dev)
  [ -f "$inc/Python.h" ] || need+=(python3-dev)
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi
if [ ! -x .tools/bin/uv ]; then
  "$PYTHON" -m venv .tools
  .tools/bin/pip install -q --disable-pip-version-check 'uv>=0.5'
fi
# Byte-compile the environment (and the project's own sources): every `lichain` call then loads .pyc files instead
# of compiling ~5,000 modules' sources when __pycache__ cannot be written (PYTHONDONTWRITEBYTECODE, read-only
# installs); `lichain --help` ≈1 s -> ≈0.27 s (docs/performance.md). Up-to-date files are skipped (≈0.5 s).
.tools/bin/uv sync --frozen --python "$PYTHON" --group dev --compile-bytecode
.venv/bin/python -m compileall -q -j 0 src/lichain >/dev/null
