"""The golden record: each field of a person chosen from its MATCH-linked records by explicit rules.

- legal name, birth date, personal id, sex and household: the population registry wins, then the most
  frequent value (ties: the newest record);
- phone and current address: the newest record that has one;
- social insurance number and old identity card: the most frequent value.
Every value carries the uid of the record it came from (`<field>_source`).

    golden_record([{"uid": "population|0010...", "source": "population", "name": "Nguyễn Văn An", ...}])
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from linkage.standardize import fold

AUTHORITATIVE = "population"
REGISTRY_FIELDS = ("name", "birth_date", "personal_id", "sex", "household_code", "household_relation")
NEWEST_FIELDS = ("phone", "commune", "address_text")
FREQUENT_FIELDS = ("bhxh", "cmnd")


def _newest_first(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(records, key=lambda r: (str(r.get("recorded_at") or ""), str(r.get("uid"))), reverse=True)


def _most_frequent(records: Sequence[dict[str, Any]], field: str,
                   accept: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any] | None:
    """The newest record holding the most frequent value of `field` (`records` come newest first)."""
    holders = [r for r in records if r.get(field) is not None and (accept is None or accept(r))]
    if len(holders) <= 2:  # two values once each, or one value twice: the newest either way
        return holders[0] if holders else None
    counts = Counter(r[field] for r in holders)
    top = max(counts.values())
    return next(r for r in holders if counts[r[field]] == top)


def golden_record(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The person's fields and the record each came from (empty when there are no records)."""
    # Newest first, once: every pool below keeps that order (a record's uid makes it total), so the first
    # of equals in any pool is its newest.
    return _of_one(records[0]) if len(records) == 1 else _of_many(records)


def _of_many(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    records = _newest_first(records)
    out: dict[str, Any] = {}
    registry = [r for r in records if r.get("source") == AUTHORITATIVE]
    for field in REGISTRY_FIELDS:
        accept: Callable[[dict[str, Any]], bool] | None = None
        if field == "birth_date":
            precise = [r for r in records if r.get("birth_precision") == "day"]
            pool = registry or precise or list(records)
        elif field == "personal_id":
            pool = registry or list(records)
            accept = lambda r: r.get("pid_ok") is not False  # noqa: E731
        else:
            pool = registry or list(records)
        chosen = _most_frequent(pool, field, accept) or _most_frequent(records, field)
        if chosen is not None:
            out[field] = chosen[field]
            out[f"{field}_source"] = chosen["uid"]
            if field == "birth_date":
                out["birth_precision"] = chosen.get("birth_precision")
    if "birth_date" not in out:
        chosen = _most_frequent(records, "birth_year")
        if chosen is not None:
            out["birth_year"] = chosen["birth_year"]
            out["birth_year_source"] = chosen["uid"]
    else:
        out["birth_year"] = int(str(out["birth_date"])[:4])
    for field in NEWEST_FIELDS:
        chosen = next((r for r in records if r.get(field) is not None), None)
        if chosen is not None:
            out[field] = chosen[field]
            out[f"{field}_source"] = chosen["uid"]
            if field == "commune":
                out["province"] = chosen.get("province")
    for field in FREQUENT_FIELDS:
        chosen = _most_frequent(records, field)
        if chosen is not None:
            out[field] = chosen[field]
            out[f"{field}_source"] = chosen["uid"]
    if "name" in out:
        out["name_fold"] = fold(out["name"])
    out["record_count"] = len(records)
    out["sources"] = sorted({str(r.get("source")) for r in records})
    return out


def _of_one(record: dict[str, Any]) -> dict[str, Any]:
    """`golden_record` of a person with one record (every rule then picks that record where it has the
    field; a first link at a million persons makes hundreds of thousands of them)."""
    out: dict[str, Any] = {}
    uid = record["uid"]
    for field in (*REGISTRY_FIELDS, *NEWEST_FIELDS, *FREQUENT_FIELDS):
        if (value := record.get(field)) is not None:
            out[field] = value
            out[f"{field}_source"] = uid
    if "birth_date" in out:
        out["birth_precision"] = record.get("birth_precision")
        out["birth_year"] = int(str(out["birth_date"])[:4])
    elif (year := record.get("birth_year")) is not None:
        out["birth_year"] = year
        out["birth_year_source"] = uid
    if "commune" in out:
        out["province"] = record.get("province")
    if "name" in out:
        out["name_fold"] = fold(out["name"])
    out["record_count"] = 1
    out["sources"] = [str(record.get("source"))]
    return out
