"""An address as written, reduced to the part that tells one house from another.

Vietnamese addresses run from the house to the province ("Số 12, ngõ 5, đường Láng, Phường Láng,
Thành phố Hà Nội"). The administrative part is already compared through the commune and province
codes, and is written differently before and after the 2025 reform (old commune, district, old
province; new commune, new province), so it is cut off: trailing segments that name a unit of either
code list, with or without its type ("Xã", "Phường", "TP.", "Q."...), are dropped, as is the country
(a street named like a ward and written last without "đường" or "phố" goes with them: less evidence,
never wrong evidence).
What is left is folded (no diacritics, đ as d), split into words, and stripped of the words that
only say what kind of thing a part is (số, ngõ, phố, thôn, ấp, tổ...): the key is its distinct words in
sorted order, so word order, filler words and accents do not matter.

    >>> address_key("Số 12, ngõ 5, đường Láng, Phường Láng, Thành phố Hà Nội")
    '12 5 lang'
    >>> address_key("12 Ngo 5 Duong Lang, P. Lang, Ha Noi")
    '12 5 lang'
    >>> address_key("Xã Tân Hòa, Huyện Châu Thành") is None
    True
"""

from __future__ import annotations

import re
from functools import lru_cache

from linkage.standardize.admin_units import load_admin_units
from linkage.standardize.text import fold

# Unit types as written in front of a unit's name (folded), longest first so "thanh pho" wins over "pho".
_UNIT_TYPES = ("thanh pho", "thi tran", "thi xa", "tinh", "huyen", "quan", "phuong", "xa", "tp", "tx", "tt",
               "p", "q", "h")
_COUNTRY = {"viet nam", "vietnam", "vn"}
# Words that say what kind of place a part is, not which: "Số 12" and "12", "thôn 3" and "xóm 3" agree.
FILLER_WORDS = frozenset({
    "so", "nha", "sn", "duong", "pho", "ngo", "ngach", "hem", "kiet", "thon", "xom", "ap", "ban", "buon",
    "to", "dan", "khu", "kp", "khom", "cum", "tdp", "doi", "can", "ho", "tang", "lo",
    # unit types left in an address written without commas ("Số 3 Phường Bến Nghé Quận 1")
    "thanh", "tinh", "huyen", "quan", "phuong", "xa", "tp", "tx", "tt",
})
_SEGMENTS = re.compile(r"[,;\n]+| - ")
_WORDS = re.compile(r"[^\W_]+")


def _bare(segment: str) -> tuple[str, bool]:
    """The segment without a leading unit type, and whether it had one."""
    for kind in _UNIT_TYPES:
        if segment.startswith(kind + " ") and len(segment) > len(kind) + 1:
            return segment[len(kind) + 1:].strip(), True
    return segment, False


@lru_cache(maxsize=1)
def _unit_names() -> frozenset[str]:
    """Every unit's name of both code lists, folded and without its type ("hai ba trung")."""
    units = load_admin_units()
    names = set()
    for unit in units.units.values():
        bare, _ = _bare(" ".join(_WORDS.findall(fold(unit.name))))
        names.add(bare)
    return frozenset(names)


@lru_cache(maxsize=1 << 16)
def _names_a_unit(segment: str) -> bool:
    """Whether a folded segment names an administrative unit or the country. A bare number names one
    only with its type ("Phường 12", not "12": that is a house)."""
    if segment in _COUNTRY:
        return True
    bare, typed = _bare(segment)
    if bare.isdigit() and not typed:
        return False
    return bare in _unit_names()


def postcode(value: str | None) -> str | None:
    """A postal code as its digits: five since 2018 (six in the older scheme); anything else is None.

    >>> postcode(" 100 000 "), postcode("10000"), postcode("HN-1")
    ('100000', '10000', None)
    """
    digits = "".join(ch for ch in value if not ch.isspace()) if value else ""
    return digits if digits.isdigit() and len(digits) in (5, 6) else None


def address_key(text: str | None) -> str | None:
    """The house-level part of an address as sorted distinct folded words, None when nothing is left."""
    if not text:
        return None
    segments = [" ".join(_WORDS.findall(fold(part))) for part in _SEGMENTS.split(text)]
    segments = [s for s in segments if s]
    while segments and _names_a_unit(segments[-1]):
        segments.pop()
    words = {w for s in segments for w in s.split() if w not in FILLER_WORDS}
    return " ".join(sorted(words)) or None


__all__ = ["FILLER_WORDS", "address_key", "postcode"]
