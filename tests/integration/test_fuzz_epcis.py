"""Mutation fuzz of EPCIS documents: values of every JSON type put anywhere never crash the ingest.

A seeded mutation of the valid base document (1 to 3 members replaced by an object, an array, a number, a huge
integer, null, a boolean, an empty or odd string) must end as a located refusal or a valid ingest, never as an
exception, and a refused document changes nothing. The first run of this fuzz found 80 crashes in 4,000 documents
at three places of the reader (an array as event type, a number as quantityList).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lichain.services.record import ingest_file
from lichain.storage.sql import SqlStore

BASE = Path(__file__).resolve().parents[1] / "data" / "bad" / "ledger" / "base.jsonld"
VALUES: list[Any] = [{}, [], 0, -1, 1.5, None, True, "x", "", 10**30, [1], {"a": 1}, "2026-01-01T00:00:00Z",
                     [{}], "\u202e", 1e308, "-5", "1e400", "NaN"]


def _paths(x: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if path:
        yield path
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _paths(v, (*path, k))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _paths(v, (*path, i))


def _mutants(n: int, seed: int) -> Iterator[dict[str, Any]]:
    base = json.loads(BASE.read_text(encoding="utf-8"))
    rng = random.Random(seed)
    for _ in range(n):
        d = copy.deepcopy(base)
        paths = list(_paths(d))
        for _ in range(rng.randint(1, 3)):
            path = rng.choice(paths)
            node = d
            try:
                for k in path[:-1]:
                    node = node[k]
                node[path[-1]] = copy.deepcopy(rng.choice(VALUES))
            except (KeyError, IndexError, TypeError):  # an earlier mutation replaced a parent of this path
                continue
        yield d


@pytest.mark.parametrize("seed", [1, 2])
def test_mutated_documents_are_refused_or_ingested_never_a_crash(
    store: SqlStore, tmp_path: Path, seed: int
) -> None:
    refused = accepted = 0
    for i, doc in enumerate(_mutants(150, seed)):
        path = tmp_path / f"m{i}.jsonld"
        path.write_text(json.dumps(doc), encoding="utf-8")
        before = store.head()
        result = ingest_file(store, path)  # any exception fails the test here
        if result.problems:
            assert store.head() == before
            refused += 1
            assert all(p.location.startswith(str(path)) for p in result.problems)
        else:
            accepted += 1
    assert refused > 100  # most mutations break a rule; the rest are harmless (a label, an unused member)
