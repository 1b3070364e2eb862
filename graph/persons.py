"""Persons in the graph: golden records, households and parents, recomputed whenever links change."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from neo4j import Driver

from graph.identity import chunks
from graph.queries import default_registry
from graph.values import plain
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


class PersonNotFound(LookupError):
    """No person has this id."""


def resolve_person(driver: Driver, person_id: str, database: str = "neo4j") -> tuple[str, bool]:
    """The surviving id of `person_id` and whether it was retired (merged into another)."""
    rows = default_registry().read(driver, "persons/resolve", database=database, person_id=person_id)
    if not rows:
        raise PersonNotFound(person_id)
    return rows[0]["person_id"], rows[0]["person_id"] != person_id


def person_profile(driver: Driver, person_id: str, database: str = "neo4j",
                   surviving: str | None = None) -> dict[str, Any]:
    """The merged profile in the structure of the 831 record; a retired id gives the survivor's
    profile with `merged_from` naming the id asked for. `surviving`, when the caller has resolved
    the id already, saves a round trip."""
    if surviving is None:
        surviving, _ = resolve_person(driver, person_id, database)
    retired = surviving != person_id
    row = default_registry().read(driver, "persons/profile", database=database, person_id=surviving)[0]
    person = plain(dict(row["person"]))
    administrative = {k: v for k, v in person.items() if not k.endswith("_source") and k not in (
        "golden_dirty", "lock_token")}
    provenance = {k.removesuffix("_source"): v for k, v in person.items() if k.endswith("_source")}
    return {
        "person_id": surviving,
        "merged_from": person_id if retired else None,
        "merged_ids": sorted(row["merged_ids"]),
        "administrative": administrative,
        "provenance": provenance,
        "household": {"code": row["household"], "relation": row["relation"],
                      "members": sorted(row["household_members"])} if row["household"] else None,
        "parents": sorted(row["parents"]),
        "children": sorted(row["children"]),
        "history": [dict(h) for h in row["history"]],
        "immunizations": [dict(i) for i in row["immunizations"]],
        "visits": [dict(v) for v in row["visits"]],
        "observations": [dict(o) for o in row["observations"]],
        "records": [dict(r) for r in row["records"]],
    }
