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
_POSITIONS = tuple(range(1, 11))


IdFactory = Callable[[Sequence[str]], str]
# The form of a person id, for a request's validation; `valid_person_id` checks the check character too.
PERSON_ID_PATTERN = r"^HS[0-9A-HJKMNP-TV-Z]{11}$"


def new_person_id(members: Sequence[str] = ()) -> str:
    """A fresh, opaque person id: 'HS' + 10 Crockford base-32 characters + a check character.

    The check character catches a mistyped character when an id is read out or keyed in.
    """
    return _id_from_bits(int.from_bytes(secrets.token_bytes(7), "big"))


# An id is 'HS', the low 50 bits as ten base-32 digits (the lowest first), and the check character. Made
# two digits at a time: for each of the five 10-bit chunks, its two characters and its share of the
# check sum (a first link makes one id per person: a million of them). A re-run after a crash derives
# the same ids from its seed, so this form must never change (a test pins it).
_CHUNKS = tuple(tuple((_CROCKFORD[v & 31] + _CROCKFORD[v >> 5], (2 * j + 1) * (v & 31) + (2 * j + 2) * (v >> 5))
                      for v in range(1024)) for j in range(5))


def _id_from_bits(bits: int) -> str:
    c0, s0 = _CHUNKS[0][bits & 1023]
    c1, s1 = _CHUNKS[1][(bits >> 10) & 1023]
    c2, s2 = _CHUNKS[2][(bits >> 20) & 1023]
    c3, s3 = _CHUNKS[3][(bits >> 30) & 1023]
    c4, s4 = _CHUNKS[4][(bits >> 40) & 1023]
    return f"HS{c0}{c1}{c2}{c3}{c4}{_CROCKFORD[(s0 + s1 + s2 + s3 + s4) % 31]}"


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
