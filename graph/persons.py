"""Persons in the graph: golden records, households and parents, recomputed whenever links change."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from neo4j import Driver

from graph.identity import chunks
from graph.queries import default_registry
from graph.values import plain
from linkage import FREQUENT_FIELDS, NEWEST_FIELDS, REGISTRY_FIELDS, golden_record

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


def person_profile(driver: Driver, person_id: str, database: str = "neo4j") -> dict[str, Any]:
    """The merged profile in the structure of the 831 record; a retired id gives the survivor's
    profile with `merged_from` naming the id asked for. One round trip."""
    return profile_and_viewer(driver, person_id, database)[0]


def profile_and_viewer(driver: Driver, person_id: str, database: str = "neo4j", viewer: str = "",
                       adult_year: int = 0) -> tuple[dict[str, Any], dict[str, bool]]:
    """`person_profile`, and in the same round trip how the person `viewer` relates to it (`self`,
    `parent`, `dependant`: a child under 18, born after `adult_year`, of the viewer's household), so
    that the API decides access without a second query."""
    rows = default_registry().read(driver, "persons/profile", database=database, person_id=person_id,
                                   viewer=viewer, adult_year=adult_year)
    if not rows:
        raise PersonNotFound(person_id)
    row = rows[0]
    surviving = row["person_id"]
    person = plain(dict(row["person"]))
    administrative = {k: v for k, v in person.items() if not k.endswith("_source") and k not in (
        "golden_dirty", "lock_token")}
    provenance = {k.removesuffix("_source"): v for k, v in person.items() if k.endswith("_source")}
    return {
        "person_id": surviving,
        "merged_from": person_id if surviving != person_id else None,
        "merged_ids": sorted(row["merged_ids"]),
        "administrative": administrative,
        "provenance": provenance,
        "household": {"code": row["household"], "relation": row["relation"],
                      "members": sorted(row["household_members"])} if row["household"] else None,
        "parents": sorted(row["parents"]),
        "children": sorted(row["children"]),
        "relatives": sorted((dict(r) for r in row["relatives"]), key=lambda r: (r["relation"], r["person_id"])),
        "history": [dict(h) for h in row["history"]],
        "immunizations": [dict(i) for i in row["immunizations"]],
        "visits": [dict(v) for v in row["visits"]],
        "observations": [dict(o) for o in row["observations"]],
        "records": [dict(r) for r in row["records"]],
    }, dict(row["viewer"])
