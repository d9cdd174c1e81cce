"""JSON Schemas of the ``--json`` outputs, derived from the typed results of the use cases.

Why this exists: scripts and the REST API's clients rely on the shape of every JSON output; the shape is the
result dataclass, so the schema is generated from it (pydantic's JSON Schema generator, draft 2020-12) and
published in ``docs/schemas/``. A test regenerates them and validates real outputs against them.
Run ``python -m lichain.entrypoints.schemas docs/schemas`` after changing a result type.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["OUTPUTS", "schema_of", "write_schemas"]


def _outputs() -> dict[str, Any]:
    from lichain.core.diligence_emrt import EmrtDeclaration
    from lichain.services.checkpoint import CheckpointCheck, SavedCheckpoint
    from lichain.services.circularity_results import (
        Art8Report,
        ClaimProposal,
        RecoveryReport,
        RecycledContent,
    )
    from lichain.services.corrections import RetractResult
    from lichain.services.demo import DemoReport
    from lichain.services.diligence import DiligenceReport
    from lichain.services.diligence_report import DiligenceManagementReport
    from lichain.services.documents import DocumentCheck
    from lichain.services.epcis_query import EventPage
    from lichain.services.esg_results import EsgReport
    from lichain.services.flows import FlowDiagram
    from lichain.services.footprint_results import LotFootprint
    from lichain.services.ingest import IngestReport
    from lichain.services.keys import KeyChange, KeyList
    from lichain.services.lists import MaterialList, OrganisationList, ShipmentList, SiteList
    from lichain.services.package import PackageResult
    from lichain.services.package_import import PackageImport
    from lichain.services.passport import Passport
    from lichain.services.process import ProcessIngest, ReadingSeries
    from lichain.services.quality import LotQuality
    from lichain.services.query import BalanceCheck, LotDetail, LotSummary
    from lichain.services.recipe import RecipeResult
    from lichain.services.scenario import ScenarioResult
    from lichain.services.spc import SpcResult
    from lichain.services.trace import TraceResult
    from lichain.services.verify import Verification

    return {
        "ingest": IngestReport,
        "verify": Verification,
        "verify-against": CheckpointCheck,
        "checkpoint": SavedCheckpoint,
        "balance": BalanceCheck,
        "demo": DemoReport,
        "retract": RetractResult,
        "diligence": DiligenceReport,
        "flows": FlowDiagram,
        "report-esg": EsgReport,
        "footprint": LotFootprint,
        "recycled": RecycledContent,
        "art8": Art8Report,
        "recovery": RecoveryReport,
        "claim": ClaimProposal,
        "emrt": EmrtDeclaration,
        "report-diligence": DiligenceManagementReport,
        "document-check": DocumentCheck,
        "key-list": KeyList,
        "key-change": KeyChange,
        "package": PackageResult,
        "package-import": PackageImport,
        "passport": Passport,
        "trace": TraceResult,
        "lots": list[LotSummary],
        "show": LotDetail,
        "sites": SiteList,
        "materials": MaterialList,
        "organisations": OrganisationList,
        "shipments": ShipmentList,
        "process-ingest": ProcessIngest,
        "process-show": ReadingSeries,
        "quality": LotQuality,
        "spc": SpcResult,
        "recipe": RecipeResult,
        "scenario": ScenarioResult,
        "events": EventPage,
    }


#: Commands whose schema name is not ``COMMAND`` or ``COMMAND-OPTION``.
_TITLES = {"emrt": "export emrt", "report-diligence": "report diligence", "document-check": "verify-doc", "key-list": "keys list", "key-change": "keys generate|rotate|revoke",
           "package": "export package", "package-import": "import package"}

#: Command (as ``lichain COMMAND --json``) → result type; filled on first use.
OUTPUTS: dict[str, Any] = {}


def schema_of(command: str) -> dict[str, Any]:
    """The JSON Schema of ``lichain COMMAND --json``."""
    from pydantic import TypeAdapter

    if not OUTPUTS:
        OUTPUTS.update(_outputs())
    schema: dict[str, Any] = TypeAdapter(OUTPUTS[command]).json_schema(mode="serialization")
    for obj in [schema, *schema.get("$defs", {}).values()]:
        if "properties" in obj:  # every member is always present (a default says what it holds when not
            obj["required"] = list(obj["properties"])  # applicable), and no other member appears
            obj["additionalProperties"] = False
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"lichain:{command}.schema.json",
            **schema, "title": f"lichain {_TITLES.get(command, command.replace('-', ' --'))} --json"}


def write_schemas(folder: Path) -> list[Path]:
    """Write every schema as ``COMMAND.schema.json`` into ``folder``."""
    if not OUTPUTS:
        OUTPUTS.update(_outputs())
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for command in OUTPUTS:
        p = folder / f"{command}.schema.json"
        p.write_text(json.dumps(schema_of(command), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        paths.append(p)
    return paths


if __name__ == "__main__":
    for p in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        print(p)
