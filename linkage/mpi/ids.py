"""Person ids: opaque, lifelong, with a check character that catches a mistyped character.

    new_person_id()                 # 'HS' + 10 Crockford base-32 characters + a check character
    valid_person_id("HS2WYNSFH8JJB")
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from operator import mul

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {ch: i for i, ch in enumerate(_CROCKFORD)}
_SHIFTS = tuple(range(0, 50, 5))
_POSITIONS = tuple(range(1, 11))


IdFactory = Callable[[Sequence[str]], str]
# The form of a person id, for a request's validation; `valid_person_id` checks the check character too.
PERSON_ID_PATTERN = r"^HS[0-9A-HJKMNP-TV-Z]{11}$"


def new_person_id(members: Sequence[str] = ()) -> str:
    """A fresh, opaque person id: 'HS' + 10 Crockford base-32 characters + a check character.

    The check character catches a mistyped character when an id is read out or keyed in.
    """
    return _id_from_bits(int.from_bytes(secrets.token_bytes(7), "big"))


def _id_from_bits(bits: int) -> str:
    digits = [(bits >> shift) & 31 for shift in _SHIFTS]
    return f"HS{''.join(map(_CROCKFORD.__getitem__, digits))}{_CROCKFORD[sum(map(mul, digits, _POSITIONS)) % 31]}"


def seeded_person_ids(seed: str) -> IdFactory:
    """Ids derived from a run's seed and the cluster's first record: re-running the same run
    (after a crash) gives the same ids, so nothing is created twice."""

    def make(members: Sequence[str]) -> str:
        return _id_from_bits(int.from_bytes(hashlib.sha256(f"{seed}|{min(members)}".encode()).digest()[:8], "big"))

    return make


def person_id_check(body: str) -> str:
    """A check character: weighted sum modulo the prime 31, so any single wrong character and any
    swap of two neighbours changes it; drawn from the same URL-safe alphabet."""
    return _CROCKFORD[sum(map(mul, map(_VALUE.__getitem__, body), _POSITIONS)) % 31]


def valid_person_id(value: str) -> bool:
    """True for a well-formed person id with a correct check character."""
    body = value[2:-1]
    return (len(value) == 13 and value.startswith("HS") and all(c in _VALUE for c in body)
            and person_id_check(body) == value[-1])
