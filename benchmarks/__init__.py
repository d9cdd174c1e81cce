"""lichain benchmarks: each prints our figures beside the baseline its issue names, with ratios.

The demo chain simulates its own timeline (from 2026 for up to five years), so benchmarks that ingest it run the
ledger clock (``LICHAIN_NOW``, see :mod:`lichain.core.limits`) at the end of that timeline; child processes
inherit it.
"""

import os

os.environ.setdefault("LICHAIN_NOW", "2031-12-31T00:00:00Z")
