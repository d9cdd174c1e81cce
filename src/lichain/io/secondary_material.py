"""Catena-X ``secondary_material_content_calculated`` 1.0.0 payloads of a lot's recycled content, and their check.

Why: a cell maker documents recycled content (Regulation (EU) 2023/1542 Art. 8) from its suppliers' figures; the
Catena-X model carries, per material, the primary share and the secondary (recycled) shares split pre-consumer,
post-consumer and post-consumer automotive, each flagged when mass balance was applied. This module maps
lichain's per-element shares of one lot onto it and validates the result against the model's own JSON Schema,
shipped in ``lichain/data/schemas/catenax`` (CC-BY-4.0, see SOURCES.md there).

Mapping choices (docs/circularity.md):

* One ``secondaryMaterialContent`` entry per tracked element the lot holds (Ni, Co, Mn, Li …): the material is
  the element within the lot, named by its symbol (``referencedStandard`` "ISO", ID "ISO 80000-9:2019", the
  standard of quantities and units of physical chemistry, which lists element names and symbols); ``materialNetMass`` is the element mass in the lot and
  ``grossMaterialInputMass`` the element mass of the inputs that went into it [kg].
* Percentages are of the element mass [%]. Recovered battery metals come from hydrometallurgy, i.e. chemical
  recycling: post-consumer shares go to ``chemicalRecycling``; the model's ``preConsumer`` has only
  ``mechanicalRecycling``, so pre-consumer shares go there, and ``additionalInformation`` says so.
* ``postConsumerAutomotive`` receives the post-consumer share only when the caller says the post-consumer source
  is end-of-life vehicles (``automotive=True``); the model keeps it apart from ``postConsumer``.
* ``bioBased`` is required by the model: 0 % with class ``gen1`` (inorganic material; no "not applicable").
* ``materialClass`` defaults to VDA 231-106 class "7.3" (other materials and material compounds); the sender
  confirms the class of its material (``material_class``). The payload carries no internal note: its only texts
  are the ones built here and the caller's ``note`` (docs/circularity.md).

Reference: Eclipse Tractus-X, aspect model ``urn:samm:io.catenax.secondary_material_content_calculated:1.0.0``
(sldt-semantic-models @ 9adcc37), CC-BY-4.0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from lichain.core.citations import CITATIONS
from lichain.io.packaged_schema import package_json, schema_problems

__all__ = [
    "MODEL_URN",
    "SCHEMA_FILE",
    "ElementContent",
    "example_payload",
    "schema",
    "secondary_material_payload",
    "validate_secondary_material",
]

MODEL_URN = "urn:samm:io.catenax.secondary_material_content_calculated:1.0.0#SecondaryMaterialContentCalculated"
_DIR = "data/schemas/catenax/io.catenax.secondary_material_content_calculated/1.0.0/gen"
#: The model's JSON Schema, relative to the ``lichain`` package.
SCHEMA_FILE = f"{_DIR}/SecondaryMaterialContentCalculated-schema.json"


_read = package_json


@cache
def schema() -> dict[str, Any]:
    """The model's JSON Schema (draft-04), read once from the package data."""
    out: dict[str, Any] = _read(SCHEMA_FILE)
    return out


def example_payload() -> dict[str, Any]:
    """The example payload published with the model (it validates against the schema)."""
    out: dict[str, Any] = _read(f"{_DIR}/SecondaryMaterialContentCalculated.json")
    return out


def validate_secondary_material(payload: Mapping[str, Any]) -> list[str]:
    """Problems of ``payload`` against the model's JSON Schema, each ``"<json path>: <message>"`` (empty: valid)."""
    return schema_problems(schema(), payload)


@dataclass(frozen=True, slots=True)
class ElementContent:
    """Content of one element in a lot: masses [kg] and shares of its element mass [kg kg⁻¹, 0..1].

    ``mass_balanced`` says the shares are allocated under a mass-balance claim (ISO 22095-2), not physical.
    """

    element: str
    net_kg: float
    gross_kg: float
    primary: float
    pre_consumer: float
    post_consumer: float
    mass_balanced: bool = False
    note: str = ""


def _pct(x: float) -> float:
    return round(min(max(x * 100.0, 0.0), 100.0), 6)


def _share(x: float, mb: bool) -> dict[str, Any]:
    return {"percentageOfMaterialWeight": _pct(x), "isMassBalanced": mb}


def _entry(c: ElementContent, material_class: str, automotive: bool) -> dict[str, Any]:
    post, post_auto = (0.0, c.post_consumer) if automotive else (c.post_consumer, 0.0)
    mb = c.mass_balanced
    info = (f"{c.element} in the lot; shares of element mass ({'allocated, mass balance' if mb else 'physical'}); "
            "recovered by hydrometallurgy (chemical recycling); the model's preConsumer offers only "
            "mechanicalRecycling, which carries the pre-consumer share. Art. 8 methodology of "
            f"{CITATIONS['eu-2023-1542']} not adopted: indicative figures.")
    return {
        "materialClass": material_class,
        "materialNameStandardized": {"referencedStandard": "ISO", "referencedStandardID": "ISO 80000-9:2019",
                                     "materialNameStandardizedValue": c.element},
        "unitOfMeasure": {"unitOfMeasureKey": "unit:kilogram", "materialNetMass": round(c.net_kg, 9),
                          "grossMaterialInputMass": round(c.gross_kg, 9)},
        "bioBased": {"secondaryBioBased": _share(0.0, False), "primaryBioBased": {"percentageOfMaterialWeight": 0.0},
                     "bioBasedClass": "gen1"},
        "inorganic": {
            "secondaryInorganic": {
                "preConsumer": {"mechanicalRecycling": _share(c.pre_consumer, mb)},
                "postConsumer": {"mechanicalRecycling": _share(0.0, mb), "chemicalRecycling": _share(post, mb)},
                "postConsumerAutomotive": {"mechanicalRecycling": _share(0.0, mb),
                                           "chemicalRecycling": _share(post_auto, mb)},
            },
            "primaryInorganic": {"percentageOfMaterialWeight": _pct(c.primary)},
        },
        "additionalInformation": (c.note + " " + info).strip(),
    }


def secondary_material_payload(contents: Sequence[ElementContent], order_number: str, *,
                               material_class: str = "7.3", automotive: bool = False) -> dict[str, Any]:
    """Build the ``SecondaryMaterialContentCalculated`` payload of one lot.

    Parameters
    ----------
    contents
        One :class:`ElementContent` per element reported.
    order_number
        The supplier's order number (the model requires one), e.g. the delivery's shipment id.
    material_class
        VDA 231-106 class of the material entries.
    automotive
        Report post-consumer shares as post-consumer automotive (end-of-life vehicle batteries).

    Returns
    -------
    The payload (plain JSON), valid against :func:`schema` when the shares are within 0..1.
    """
    return {"secondaryMaterialContent": [_entry(c, material_class, automotive) for c in contents],
            "orderNumber": order_number}
