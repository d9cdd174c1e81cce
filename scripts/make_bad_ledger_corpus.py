"""Regenerate tests/data/bad/ledger/: a valid base chain and EPCIS documents each breaking one ledger rule.

Run: .venv/bin/python scripts/make_bad_ledger_corpus.py  (the files are committed; tests only read them)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tests.support.chain_text import parse_chain

from lichain.io.epcis import write_epcis

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "bad" / "ledger"
GTIN = "https://id.gs1.org/01/09521234000013/10/"
BASE = f"""
site urn:epc:id:sgln:9521234.00001.0 mine ID
site urn:epc:id:sgln:9521234.00002.0 refinery CN
material ORE ore
material NSO refined_salt NiSO4·6H2O
lot {GTIN}ORE1 ORE @urn:epc:id:sgln:9521234.00001.0 2026-01-01 1000kg Ni=0.012
run RUN-1 refining @urn:epc:id:sgln:9521234.00002.0 2026-01-02..2026-01-03 in {GTIN}ORE1:500kg \
out {GTIN}NSO1:NSO:26.8kg:Ni=0.2233 loss Ni=0.01556kg
"""
REFINERY = "@urn:epc:id:sgln:9521234.00002.0"
CASES = {
    "over-consumption": f"run RUN-2 refining {REFINERY} 2026-01-05..2026-01-05 in {GTIN}ORE1:600kg "
                        f"out {GTIN}NSO2:NSO:32.2kg:Ni=0.2233",
    "unknown-lot": f"run RUN-2 refining {REFINERY} 2026-01-05..2026-01-05 in {GTIN}GHOST:1kg out {GTIN}NSO2:NSO:1kg",
    "cycle": f"run RUN-2 refining {REFINERY} 2026-01-05..2026-01-05 in {GTIN}NSO2:1kg out {GTIN}NSO2:NSO:1kg",
    "unbalanced-run": f"run RUN-2 refining {REFINERY} 2026-01-05..2026-01-05 in {GTIN}ORE1:100kg "
                      f"out {GTIN}NSO2:NSO:10kg:Ni=0.2233",
    "fractions-over-one": f"lot {GTIN}ORE9 ORE @urn:epc:id:sgln:9521234.00001.0 2026-01-05 10kg Ni=0.7 Co=0.6",
}


def main() -> None:
    """Write base.jsonld, one <case>.jsonld per ledger rule, and the duplicate-event document."""
    OUT.mkdir(parents=True, exist_ok=True)
    created = datetime(2026, 11, 1, tzinfo=UTC)
    base = [le.event for le in parse_chain(BASE.replace("\\\n", ""))]
    (OUT / "base.jsonld").write_text(json.dumps(write_epcis(base, created=created), indent=1), encoding="utf-8")
    for name, line in CASES.items():
        evs = [le.event for le in parse_chain(line)]
        doc = write_epcis(evs, created=created)
        (OUT / f"{name}.jsonld").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    # the same new event twice in one document
    ev = [le.event for le in parse_chain(f"lot {GTIN}ORE7 ORE @urn:epc:id:sgln:9521234.00001.0 2026-01-05 5kg Ni=0.01")]
    doc = write_epcis(ev, created=created)
    doc["epcisBody"]["eventList"].append(doc["epcisBody"]["eventList"][0])
    (OUT / "duplicate-event.jsonld").write_text(json.dumps(doc, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
