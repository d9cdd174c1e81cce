"""The ledger's SQL schema (SQLAlchemy Core), one for SQLite and PostgreSQL.

``events`` is the record: append-only, hash-chained, canonical JSON payloads. The other tables are projections
of the events written in the same transaction, shaped for bulk reads: lots and runs are numbered in creation
order (``idx``), which the analysis engine uses as its topological order. Exact quantities: masses in integer
mg, mass fractions in integer parts per 10⁹, times as integer microseconds since the Unix epoch (UTC).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

__all__ = [
    "activities",
    "assays",
    "claim_allocations",
    "consumptions",
    "custody_claims",
    "events",
    "lots",
    "materials",
    "metadata",
    "overrides",
    "retractions",
    "run_losses",
    "runs",
    "shipments",
    "sites",
    "supplier_pcfs",
]

metadata = MetaData()

#: A 64-bit key that is SQLite's rowid (fast clustered inserts) and a BIGINT on PostgreSQL.
Key = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("seq", Key, primary_key=True, autoincrement=False),
    Column("event_id", String(200), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("time", String(40), nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("chain_hash", String(64), nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Column("source", String(500), nullable=True),
    Column("record_hash", String(64), nullable=False, server_default=""),  # chain over recorded_at and source
)

sites = Table(
    "sites",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("country", String(2), nullable=False),
    Column("organisation", String(300), nullable=False),
    Column("grid_region", String(100), nullable=True),
    Column("attrs", Text, nullable=False),
    Column("event_seq", BigInteger, nullable=False),
)

materials = Table(
    "materials",
    metadata,
    Column("code", String(100), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("stage", String(30), nullable=False),
    Column("formula", String(200), nullable=True),
    Column("event_seq", BigInteger, nullable=False),
)

lots = Table(
    "lots",
    metadata,
    Column("idx", Key, primary_key=True, autoincrement=False),
    Column("id", String(300), nullable=False, unique=True),
    Column("material", String(100), nullable=False),
    Column("site", String(200), nullable=False),
    Column("produced_us", BigInteger, nullable=False),
    Column("mass_mg", BigInteger, nullable=False),
    Column("origin", String(20), nullable=False),
    Column("run_idx", BigInteger, nullable=True),
    Column("event_seq", BigInteger, nullable=False),
    Column("alloc_value", String(60), nullable=True),  # declared economic value, for economic allocation
)

assays = Table(
    "assays",
    metadata,
    Column("lot_idx", BigInteger, nullable=False),
    Column("element", String(3), nullable=False),
    Column("ppb", BigInteger, nullable=False),
    PrimaryKeyConstraint("lot_idx", "element"),
)

runs = Table(
    "runs",
    metadata,
    Column("idx", Key, primary_key=True, autoincrement=False),
    Column("id", String(300), nullable=False, unique=True),
    Column("site", String(200), nullable=False),
    Column("kind", String(50), nullable=False),
    Column("started_us", BigInteger, nullable=False),
    Column("ended_us", BigInteger, nullable=False),
    Column("event_seq", BigInteger, nullable=False),
)

consumptions = Table(
    "consumptions",
    metadata,
    Column("run_idx", BigInteger, nullable=False),
    Column("lot_idx", BigInteger, nullable=False),
    Column("mass_mg", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_idx", "lot_idx"),
    Index("ix_consumptions_lot", "lot_idx", "run_idx", "mass_mg"),
)

shipments = Table(
    "shipments",
    metadata,
    Column("idx", Key, primary_key=True, autoincrement=False),
    Column("id", String(300), nullable=False, unique=True),
    Column("lot_idx", BigInteger, nullable=False, index=True),
    Column("mass_mg", BigInteger, nullable=False),
    Column("from_site", String(200), nullable=False),
    Column("to_site", String(200), nullable=False),
    Column("shipped_us", BigInteger, nullable=False),
    Column("mode", String(40), nullable=False),
    Column("distance_km", String(40), nullable=False),
    Column("to_organisation", String(300), nullable=True),
    Column("event_seq", BigInteger, nullable=False),
)

run_losses = Table(
    "run_losses",
    metadata,
    Column("run_idx", BigInteger, nullable=False),
    Column("element", String(3), nullable=False),
    Column("mass_mg", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_idx", "element"),
)

#: Activity data of runs (``run_idx``) and of commissioning steps (``lot_idx``): one row per datum.
activities = Table(
    "activities",
    metadata,
    Column("run_idx", BigInteger, nullable=True, index=True),
    Column("lot_idx", BigInteger, nullable=True, index=True),
    Column("kind", String(20), nullable=False),  # electricity | fuel | reagent | water | process
    Column("name", String(100), nullable=False),  # source type, fuel kind, reagent name
    Column("amount", String(60), nullable=False),  # exact decimal
    Column("unit", String(20), nullable=False),  # kWh | MJ | kg | m3 | kg CO2e
    Column("factor_key", String(200), nullable=True),
    Column("instrument", String(300), nullable=True),
)

retractions = Table(
    "retractions",
    metadata,
    Column("target_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("event_seq", BigInteger, nullable=False),
)

overrides = Table(
    "overrides",
    metadata,
    Column("event_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("key", String(200), nullable=False),
    Column("value", String(60), nullable=False),
    Column("unit", String(60), nullable=False),
    Column("source", Text, nullable=False),
    Column("site", String(200), nullable=True),
    Column("valid_from_us", BigInteger, nullable=True),
    Column("valid_to_us", BigInteger, nullable=True),
)

#: Custody claims (ISO 22095 chain of custody): one row per claim event; the period is [start_us, end_us).
custody_claims = Table(
    "custody_claims",
    metadata,
    Column("event_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("id", String(300), nullable=False, unique=True),
    Column("site", String(200), nullable=False),
    Column("model", String(40), nullable=False),
    Column("start_us", BigInteger, nullable=False),
    Column("end_us", BigInteger, nullable=False),
    Index("ix_custody_claims_site", "site", "start_us"),
)

#: Recycled element mass [mg] a claim allocates to a lot, pre- and post-consumer.
claim_allocations = Table(
    "claim_allocations",
    metadata,
    Column("claim_seq", BigInteger, nullable=False),
    Column("lot_id", String(300), nullable=False),
    Column("element", String(3), nullable=False),
    Column("pre_mg", BigInteger, nullable=False),
    Column("post_mg", BigInteger, nullable=False),
    PrimaryKeyConstraint("claim_seq", "lot_id", "element"),
    Index("ix_claim_allocations_lot", "lot_id"),
)

#: Supplier PCFs of purchased lots: one row per declaration (the latest of a lot is the one in force).
supplier_pcfs = Table(
    "supplier_pcfs",
    metadata,
    Column("event_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("lot_id", String(300), nullable=False),
    Column("value", String(60), nullable=False),
    Column("unit", String(60), nullable=False),
    Column("supplier", Text, nullable=False),
    Column("document", Text, nullable=False),
    Column("boundary", String(60), nullable=False),
    Column("standard", String(200), nullable=False),
    Column("data_quality_rating", String(40), nullable=True),
    Column("primary_data_share", String(40), nullable=True),
    Column("valid_from_us", BigInteger, nullable=True),
    Column("valid_until_us", BigInteger, nullable=True),
    Index("ix_supplier_pcfs_lot", "lot_id"),
)

Index("ix_events_kind", events.c.kind, events.c.seq)
Index("ix_lots_event", lots.c.event_seq)
Index("ix_lots_run", lots.c.run_idx)
Index("ix_runs_event", runs.c.event_seq)
