"""Persons in the graph: golden records, households and parents, recomputed whenever links change."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from neo4j import Driver

from graph.identity import chunks
from graph.queries import default_registry
from linkage.golden import FREQUENT_FIELDS, NEWEST_FIELDS, REGISTRY_FIELDS, golden_record

GOLDEN_KEYS = sorted(
    {f for f in (*REGISTRY_FIELDS, *NEWEST_FIELDS, *FREQUENT_FIELDS)}
    | {f"{f}_source" for f in (*REGISTRY_FIELDS, *NEWEST_FIELDS, *FREQUENT_FIELDS, "birth_year")}
    | {"birth_precision", "birth_year", "province", "name_fold", "record_count", "sources"}
)


def refresh_persons(driver: Driver, person_ids: Iterable[str], database: str = "neo4j", size: int = 2_000) -> int:
    """Recompute the golden record, household and parents of each person; returns how many."""
    queries = default_registry()
    ids = sorted(set(person_ids))
    for part in chunks(ids, size):
        found = queries.read(driver, "persons/records_for_golden", database=database, ids=list(part))
        rows = []
        for row in found:
            golden: dict[str, Any] = golden_record([dict(r) for r in row["records"]])
            rows.append({"person_id": row["person_id"], "props": {k: golden.get(k) for k in GOLDEN_KEYS}})
        queries.write(driver, "persons/set_golden", database=database, rows=rows)
        queries.write(driver, "persons/derive_households", database=database, ids=list(part))
    for part in chunks(ids, size):
        queries.write(driver, "persons/derive_parents", database=database, ids=list(part))
    return len(ids)


def active_person_ids(driver: Driver, database: str = "neo4j") -> list[str]:
    return [r["person_id"] for r in default_registry().read(driver, "persons/active_ids", database=database)]


def dirty_person_ids(driver: Driver, database: str = "neo4j") -> list[str]:
    """Persons whose golden record waits for a recomputation (links changed, or a run was cut short)."""
    return [r["person_id"] for r in default_registry().read(driver, "persons/dirty_ids", database=database)]
