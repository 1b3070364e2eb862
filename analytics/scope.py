"""What an analysis covers: a period (2026-Q3, 2026-07, 2026-W14, 2026) and a unit at one of five levels.

Units are the post-2025 provinces and communes; the district level (pre-2025 codes, for periods before
the 1 July 2025 reform) covers the post-2025 communes that default-succeeded the district's communes;
the facility level covers what was done at a facility; the nation covers everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from neo4j import Driver

from graph import default_registry

REFORM = date(2025, 7, 1)


class Level(StrEnum):
    FACILITY = "facility"
    COMMUNE = "commune"
    DISTRICT = "district"
    PROVINCE = "province"
    NATIONAL = "national"


class ScopeError(ValueError):
    """A period or unit that cannot be understood; the message says what is accepted."""


@dataclass(frozen=True)
class Period:
    """A half-open interval of days [start, end) with the label it was asked by."""

    label: str
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def years(self) -> float:
        return self.days / 365.25

    def iso(self) -> tuple[str, str]:
        return self.start.isoformat(), self.end.isoformat()


_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


EARLIEST = date(1900, 1, 1)  # the days a period may cover: a record's dates lie within them
LATEST = date(2200, 1, 1)


def parse_period(text: str) -> Period:
    """'2026-Q3', '2026-07', '2026-W14' (ISO week), '2026' or '2026-01-01..2026-04-01', within the years
    1900 to 2199; its label is the period written in that form (never the caller's text as given)."""
    value = text.strip().upper()
    try:
        if m := _QUARTER.fullmatch(value):
            year, quarter = int(m[1]), int(m[2])
            start = date(year, 3 * quarter - 2, 1)
            end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
        elif m := _MONTH.fullmatch(value):
            year, month = int(m[1]), int(m[2])
            start = date(year, month, 1)
            end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        elif m := _WEEK.fullmatch(value):
            start = date.fromisocalendar(int(m[1]), int(m[2]), 1)
            end = start + timedelta(days=7)
        elif m := _YEAR.fullmatch(value):
            start, end = date(int(m[1]), 1, 1), date(int(m[1]) + 1, 1, 1)
        elif m := _RANGE.fullmatch(value):
            start, end = date.fromisoformat(m[1]), date.fromisoformat(m[2])
        else:
            raise ValueError("unknown form")
    except (ValueError, OverflowError) as exc:
        raise ScopeError(f"period {text!r} is not understood: use 2026-Q3, 2026-07, 2026-W14, 2026 "
                         "or 2026-01-01..2026-04-01") from exc
    if end <= start:
        raise ScopeError(f"period {text!r} ends before it starts")
    if start < EARLIEST or end > LATEST:
        raise ScopeError(f"period {text!r} is outside the years 1900 to 2199")
    return Period(value, start, end)


@dataclass(frozen=True)
class Scope:
    """A unit at a level, resolved to the filters the queries take."""

    level: Level
    unit: str | None
    province: str | None = None
    communes: tuple[str, ...] | None = None
    facility: str | None = None
    name: str | None = None

    def params(self) -> dict[str, Any]:
        return {"province": self.province, "communes": list(self.communes) if self.communes is not None else None}


def resolve_scope(driver: Driver, database: str, level: str, unit: str | None) -> Scope:
    """Check the unit exists at its level and turn it into query filters."""
    try:
        lvl = Level(level)
    except ValueError as exc:
        raise ScopeError(f"level {level!r} is unknown: use {', '.join(v.value for v in Level)}") from exc
    if lvl is Level.NATIONAL:
        return Scope(lvl, None, name="Việt Nam")
    if not unit:
        raise ScopeError(f"level {lvl.value} needs a unit code")
    queries = default_registry()
    if lvl is Level.DISTRICT:
        rows = queries.read(driver, "analytics/district_communes", database=database, district=unit)
        if not rows:
            raise ScopeError(f"no pre-2025 district {unit!r}")
        return Scope(lvl, unit, communes=tuple(rows[0]["communes"]), name=rows[0]["name"])
    if lvl is Level.FACILITY:
        rows = queries.read(driver, "analytics/facility", database=database, code=unit)
        if not rows:
            raise ScopeError(f"no facility {unit!r}")
        return Scope(lvl, unit, facility=unit, name=rows[0]["name"])
    rows = queries.read(driver, "analytics/units", database=database, code_list="post2025", level=lvl.value)
    found = next((r for r in rows if r["code"] == unit), None)
    if found is None:
        raise ScopeError(f"no post-2025 {lvl.value} {unit!r}")
    if lvl is Level.PROVINCE:
        return Scope(lvl, unit, province=unit, name=found["name"])
    return Scope(lvl, unit, province=found["province"], communes=(unit,), name=found["name"])


def age_on(birth_year: Any, when: date) -> int | None:
    """Age in completed years at `when`, from the birth year (mid-year convention)."""
    if birth_year is None:
        return None
    return max(0, when.year - int(birth_year) - (1 if when.month < 7 else 0))
