"""Vietnamese identifiers: what a personal id encodes, and the social insurance number in a card.

    >>> decode_personal_id("001090012345")
    PersonalIdInfo(province='01', sex='male', birth_year=1990)
    >>> bhxh_from_card("DN4010123456789")
    '0123456789'
    >>> one_keystroke_apart("001090012345", "001090012354")
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PID = re.compile(r"^(\d{3})([0-9])(\d{2})\d{6}$")
_CARD_2017 = re.compile(r"^[A-Z]{2}[1-5]\d{2}(\d{10})$")


@dataclass(frozen=True)
class PersonalIdInfo:
    province: str  # the old 2-digit province code where the birth was registered
    sex: str
    birth_year: int


def decode_personal_id(pid: str | None) -> PersonalIdInfo | None:
    """Birth province, sex and birth year encoded in a 12-digit personal id (None if not one)."""
    if not isinstance(pid, str):
        return None
    match = _PID.match(pid)
    if match is None:
        return None
    province, g, yy = match.groups()
    century, female = divmod(int(g), 2)
    if century > 2:
        return None
    return PersonalIdInfo(
        province=province[1:], sex="female" if female else "male", birth_year=1900 + 100 * century + int(yy)
    )


def personal_id_consistent(pid: str | None, sex: str | None, birth_year: int | None) -> bool | None:
    """Whether the id agrees with the record's own sex and birth year (None when it cannot tell).

    A mismatch is a signal for the model (a typo, or someone else's id), never a rejection.
    """
    info = decode_personal_id(pid)
    if info is None:
        return None
    if sex in ("male", "female") and sex != info.sex:
        return False
    return not (birth_year is not None and birth_year != info.birth_year)


def bhxh_from_card(card: str | None) -> str | None:
    """The 10-digit social insurance number inside a post-2017 15-character card."""
    if not isinstance(card, str):
        return None
    match = _CARD_2017.match(card.strip().upper())
    return match.group(1) if match else None


def one_keystroke_apart(a: str, b: str) -> bool:
    """Whether two ids of equal length differ by one substituted character or two adjacent
    characters swapped: a likely typo of one id, not two people."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) == 1:
        return True
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def compatible_ids(values: set[str]) -> bool:
    """Whether one person may carry all these ids: at most one, or each a likely typo of each other.

    Two different valid personal ids (or insurance numbers) never merge automatically; two ids one
    keystroke apart are evidence for the model to weigh, not a wall.
    """
    if len(values) <= 1:
        return True
    ordered = sorted(values)
    return all(one_keystroke_apart(x, y) for i, x in enumerate(ordered) for y in ordered[i + 1:])
