"""Types of the compiled module built from ``_hotpath.c``."""

from collections.abc import Callable
from datetime import tzinfo
from decimal import Decimal

def setup(lot: type, run: type, shipment: type, utc: tzinfo, dec: Callable[[Decimal], str], decimal: type) -> None: ...
def payload(body: object) -> str | None: ...
