"""What makes two sides of a review item surely two people, whatever the model says.

A reviewer who links across one of these corrupts an identity (a citizen would carry another
citizen's personal id), so the desk flags them at the top of the item and a MATCH or MERGE across
them needs an explicit override with a written reason:

- `personal_id`: two different personal ids, neither a likely typo of the other (one substituted
  digit, two adjacent digits swapped);
- `bhxh`: two different insurance numbers, likewise;
- `sex`: two different sexes;
- `birth`: birth years `BIRTH_YEARS_APART` or more apart (a typo of one digit of the year is
  common, a generation is not).

A side is a record or a golden record: a mapping with `personal_id` (and `pid_ok` on a record: an id
that failed its checks counts for nothing), `bhxh`, `sex`, `birth_year`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from linkage.standardize import one_keystroke_apart

CONFLICTS = ("personal_id", "bhxh", "sex", "birth")
BIRTH_YEARS_APART = 2


def _text(side: Mapping[str, Any], field: str) -> str | None:
    value = side.get(field)
    return value if isinstance(value, str) and value else None


def _ids_differ(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a != b and not one_keystroke_apart(a, b)


def conflicts(left: Mapping[str, Any], right: Mapping[str, Any]) -> list[str]:
    """The conflicts between two sides, in the order of `CONFLICTS`."""
    found = []
    pids = [None if side.get("pid_ok") is False else _text(side, "personal_id") for side in (left, right)]
    if _ids_differ(*pids):
        found.append("personal_id")
    if _ids_differ(_text(left, "bhxh"), _text(right, "bhxh")):
        found.append("bhxh")
    sexes = {_text(side, "sex") for side in (left, right)}
    if None not in sexes and len(sexes) == 2:
        found.append("sex")
    a, b = left.get("birth_year"), right.get("birth_year")
    if isinstance(a, int) and isinstance(b, int) and abs(a - b) >= BIRTH_YEARS_APART:
        found.append("birth")
    return found


def conflicts_among(left: Mapping[str, Any], others: list[Mapping[str, Any]]) -> list[str]:
    """The conflicts between one side and any of several (a record against a person's golden record
    and its records), in the order of `CONFLICTS`."""
    found = {c for other in others for c in conflicts(left, other)}
    return [c for c in CONFLICTS if c in found]
