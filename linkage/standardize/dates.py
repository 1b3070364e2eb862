"""Dates of birth with their precision (day, month or year only)."""

from __future__ import annotations

import re
from datetime import date, datetime

from linkage.vocab import DatePrecision

_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def parse_compact(value: str) -> tuple[date, DatePrecision]:
    """Parse the hospital files' dates: yyyymmdd (4210) or yyyymmddHHMM (130), 00 for unknown parts.

    >>> parse_compact("198500000000")
    (datetime.date(1985, 1, 1), <DatePrecision.YEAR: 'year'>)
    """
    value = value.strip()
    if not re.fullmatch(r"\d{8}|\d{12}", value):
        raise ValueError(f"date {value!r} is not yyyymmdd or yyyymmddHHMM")
    year, month, day = int(value[:4]), int(value[4:6]), int(value[6:8])
    if month == 0:
        if day != 0:
            raise ValueError(f"date {value!r} has a day but no month")
        return date(year, 1, 1), DatePrecision.YEAR
    if day == 0:
        return date(year, month, 1), DatePrecision.MONTH
    return date(year, month, day), DatePrecision.DAY


def parse_compact_datetime(value: str) -> datetime:
    """Parse yyyymmddHHMM (or yyyymmdd) admission and discharge times."""
    value = value.strip()
    if re.fullmatch(r"\d{12}", value):
        return datetime.strptime(value, "%Y%m%d%H%M")
    if re.fullmatch(r"\d{8}", value):
        return datetime.strptime(value, "%Y%m%d")
    raise ValueError(f"time {value!r} is not yyyymmddHHMM")


def parse_birth_date(value: str, fmt: str | None = None) -> tuple[date, DatePrecision]:
    """Parse a birth date written as ISO (yyyy, yyyy-mm, yyyy-mm-dd), dd/mm/yyyy, or with `fmt`; a
    ValueError that quotes the value and says what is wrong with it.

    >>> parse_birth_date("1990")
    (datetime.date(1990, 1, 1), <DatePrecision.YEAR: 'year'>)
    >>> parse_birth_date("05/03/1990")
    (datetime.date(1990, 3, 5), <DatePrecision.DAY: 'day'>)
    >>> parse_birth_date("1990", "%d-%m-%Y")  # a year alone whatever the format of full dates
    (datetime.date(1990, 1, 1), <DatePrecision.YEAR: 'year'>)
    """
    try:
        return _parse_birth_date(value.strip(), fmt)
    except ValueError as exc:
        if repr(value.strip()) in str(exc):
            raise
        raise ValueError(f"date {value.strip()!r} is not a date ({exc})") from None


def _parse_birth_date(value: str, fmt: str | None) -> tuple[date, DatePrecision]:
    if fmt and not (len(value) == 4 and value.isdigit()):  # a bare year needs no format (a year-only column)
        parsed = datetime.strptime(value, fmt).date()
        precision = (
            DatePrecision.DAY if "%d" in fmt else DatePrecision.MONTH if "%m" in fmt else DatePrecision.YEAR
        )
        return parsed, precision
    iso = _ISO.match(value)
    if iso:
        year, month, day = iso.groups()
        if day:
            return date(int(year), int(month), int(day)), DatePrecision.DAY
        if month:
            return date(int(year), int(month), 1), DatePrecision.MONTH
        return date(int(year), 1, 1), DatePrecision.YEAR
    for pattern, precision in (("%d/%m/%Y", DatePrecision.DAY), ("%m/%Y", DatePrecision.MONTH)):
        try:
            return datetime.strptime(value, pattern).date(), precision
        except ValueError:
            continue
    if re.fullmatch(r"\d{8}|\d{12}", value):
        return parse_compact(value)
    raise ValueError(f"date {value!r} is not a date")
