"""One presenter for every front door: typed results of the use cases as JSON-ready data.

Why this exists: use cases return frozen dataclasses (typed, documented, the response models of the REST API);
the CLI's ``--json``, the API and the published JSON schemas all turn them into JSON the same way. The conversion
itself lives in :mod:`lichain.core.plain` so that signed documents (built by services) use it too.
"""

from __future__ import annotations

from lichain.core.plain import jsonable

__all__ = ["jsonable"]
