#!/usr/bin/env bash
# The whole test suite: lint, types, import contracts, then pytest on SQLite and PostgreSQL.
# Starts a temporary PostgreSQL on 127.0.0.1 unless LICHAIN_TEST_PG_URL points at one already.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >/dev/null
# The dashboard's browser tests drive the system Chromium (Debian package; Playwright uses it, no download).
if [ ! -x "${LICHAIN_CHROMIUM:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "the browser tests need Chromium: install the 'chromium' package (or set LICHAIN_CHROMIUM)" >&2; exit 1
  fi
fi
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy
.venv/bin/lint-imports
if [ -z "${LICHAIN_TEST_PG_URL:-}" ]; then
  source scripts/pg-temp.sh
  trap pg_temp_stop EXIT
fi
export LICHAIN_REQUIRE_PG=1
.venv/bin/python -m pytest -q -n 2 -p no:cacheprovider "$@"
