"""Types of the compiled module built from ``_hotrows.c``."""

from collections.abc import Callable, Sequence
from datetime import tzinfo
from decimal import Decimal
from typing import Any

from lichain.core.model import Event, EventKind
from lichain.core.ports import LotState, Movement

def setup(event: type, lot: type, run: type, shipment: type, activity: type, electricity: type, fuel: type,
          reagent: type, consumption: type, decimal: type, utc: tzinfo, d: Callable[[Decimal], str],
          sha256: Callable[[bytes], Any], kinds: tuple[tuple[EventKind, str], ...], native: bool = True) -> None: ...
def rows(events: Sequence[Event], payloads: Sequence[str], start: int, seq: int, prev: str, prev_record: str,
         lot_next: int, run_next: int, ship_next: int, lot_idx: dict[str, int], target_seq: dict[str, int],
         recorded: str, source: str | None, lists: tuple[list[tuple[Any, ...]], ...]
         ) -> tuple[int, int, str, str, int, int, int]: ...
def sha256_hex(data: bytes) -> str: ...
def native_digest() -> bool: ...
def setup_kept(lot_state: type, movement: type) -> None: ...
def kept_states(kept: dict[str, tuple[Any, ...]], ids: list[str]
                ) -> tuple[dict[str, LotState], dict[str, list[Movement]], list[str]] | None: ...
def keep_lots(lots: dict[str, tuple[Any, ...]], made: dict[str, int], new: dict[str, Any], stored: dict[str, Any],
              moves: dict[str, list[Movement]]) -> None: ...
